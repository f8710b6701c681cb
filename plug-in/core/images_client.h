// Runs a plan of Images API requests: in parallel up to a bound, streamed where asked, URLs
// downloaded, errors classified; the first failure or a cancel stops all of them at once.
#pragma once

#include "core/connection.h"
#include "core/error.h"
#include "core/http_client.h"
#include "core/image_request.h"
#include "core/responses.h"

#include <functional>
#include <string>
#include <vector>

namespace imagegen {

struct ImagesResult {
    std::vector<GeneratedImage> images; // in plan order
    Usage usage;                        // summed over the requests
    int requestsSent = 0;
};

struct ImagesCallbacks {
    // A streamed partial image of request `request`.
    std::function<void(size_t request, int partialIndex, const std::string& bytes)> onPartial;
    // `finished` of `total` requests are done.
    std::function<void(size_t finished, size_t total)> onProgress;
};

class ImagesClient {
  public:
    explicit ImagesClient(HttpClient& http, size_t maxInFlight = 4)
        : http_(http), maxInFlight_(maxInFlight == 0 ? 1 : maxInFlight) {}

    using Done = std::function<void(Result<ImagesResult>)>;
    void run(const Connection& connection, const Credential& credential,
             const std::vector<ImageRequest>& plan, GCancellable* cancellable,
             ImagesCallbacks callbacks, Done done);

  private:
    HttpClient& http_;
    size_t maxInFlight_;
};

} // namespace imagegen
