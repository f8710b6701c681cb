// Runs a plan of Images API requests: in parallel up to a bound, streamed where asked, URLs
// downloaded, errors classified; the first failure or a cancel stops all of them at once.
#pragma once

#include "core/service/connection.h"
#include "core/service/http_client.h"
#include "core/service/image_request.h"
#include "core/service/responses.h"
#include "core/util/error.h"

#include <algorithm>
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

// The most bytes one image of the size `request` asks for can take as base64: an uncompressed
// PNG is the worst case a real service sends. A size left to the service counts as the model's
// largest (request.largestSize), and as 4096x4096 when even that is unknown.
size_t imageLimitBytes(const ImageRequest& request);
// The most bytes a whole answer to `request` can take: its images (and, when the answer is an
// event stream, their partial images) and room for the JSON around them. A longer answer is
// refused before it fills memory.
size_t answerLimitBytes(const ImageRequest& request, bool eventStream);
inline size_t answerLimitBytes(const ImageRequest& request) {
    return answerLimitBytes(request, request.stream);
}
// What an answer to `request` may hold, checked before any image is decoded: as many images as
// were asked for, each of at most 4x the pixels of the size asked for (as the pipeline decodes
// them).
AnswerBounds answerBounds(const ImageRequest& request);

inline constexpr int kDefaultRunDeadlineSeconds = 15 * 60;

// The contract is HttpClient's: `done` runs once, from the main loop, never inside run(); once
// the HttpClient is destroyed no callback runs. Destroying the ImagesClient alone does not stop a
// run.
class ImagesClient {
  public:
    explicit ImagesClient(HttpClient& http, size_t maxInFlight = 4,
                          int deadlineSeconds = kDefaultRunDeadlineSeconds)
        : http_(http), maxInFlight_(maxInFlight == 0 ? 1 : maxInFlight),
          deadlineMs_(static_cast<guint>(std::max(1, deadlineSeconds)) * 1000U) {}

    using Done = std::function<void(Result<ImagesResult>)>;
    void run(const Connection& connection, const Credential& credential,
             std::vector<ImageRequest> plan, GCancellable* cancellable, ImagesCallbacks callbacks,
             Done done);

    // For tests: the deadline in milliseconds.
    void setDeadlineMs(guint ms) { deadlineMs_ = ms; }

  private:
    HttpClient& http_;
    size_t maxInFlight_;
    guint deadlineMs_;
};

} // namespace imagegen
