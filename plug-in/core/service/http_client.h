// An asynchronous HTTP client on libsoup-3.0 with the official SDKs' retry policy
// (PROTOCOL.md §9): one GCancellable per operation, a connect timeout, a whole-request timeout,
// and the body handed over in chunks for streamed answers.
#pragma once

#include "core/service/connection.h"
#include "core/service/request_encoding.h"
#include "core/util/error.h"
#include "core/util/glib_ptr.h"

#include <libsoup/soup.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imagegen {

struct HttpOptions {
    int connectTimeoutMs = 10'000;
    int totalTimeoutMs = 600'000; // per attempt, as the SDKs count it
    // Once an answer has begun, the longest it may send nothing: past it the attempt fails as a
    // network error (and is retried). Not before the answer begins: a generation takes minutes.
    int idleTimeoutMs = 60'000;
    int streamIdleTimeoutMs = 180'000; // the same while an event stream is open
    int maxRetries = 2;
    double maxServerDelaySeconds = 60.0; // a longer Retry-After falls back to our own backoff
    size_t maxErrorBodyBytes = 1 << 20;  // an error body is read up to this (decoded), no further
    size_t maxBodyBytes = size_t{256} << 20; // a 2xx answer past this is refused
    // libsoup allows 2 connections per host unless told otherwise, which would quietly halve a
    // plan's parallel requests (dall-e-3 takes one image per request).
    int maxConnectionsPerHost = 10;
    std::function<double()> random; // in [0, 1), for the jitter; g_random_double when empty
    // Each line of libsoup's log of requests and answers (headers only), credentials redacted.
    // With IMAGEGEN_DEBUG=1 in the environment and none given, the lines go to stderr.
    std::function<void(const std::string&)> debugLog;
};

// A header line as the debug log shows it: the value of Authorization, api-key and the like
// replaced by "[redacted]".
std::string redactHeaderLine(std::string_view line);

struct HttpResponse {
    int status = 0;
    std::vector<Header> headers;
    std::string body; // empty when it was handed over in chunks
    [[nodiscard]] std::string header(const std::string& name) const; // case-insensitive
    [[nodiscard]] std::string requestId() const; // apim-request-id or x-request-id
};

// The asynchronous contract: `done` runs exactly once, always from the thread-default main
// context and never inside send(). Destroying the client cancels every operation it started and
// drops their callbacks: after ~HttpClient nothing of its callers runs, so a caller (the dialog)
// may go away with requests in flight. What the operations share with the client (the session,
// the options) lives until the last of them has ended.
class HttpClient {
  public:
    using Done = std::function<void(Result<HttpResponse>)>;
    // Called with the response's status and headers (body still empty) and each piece of a 2xx
    // body.
    using Chunk = std::function<void(const HttpResponse& head, std::string_view chunk)>;

    explicit HttpClient(HttpOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    HttpClient(HttpClient&&) = delete;
    HttpClient& operator=(HttpClient&&) = delete;

    // Sends with retries. With `onChunk`, a 2xx body is handed over as it arrives instead of
    // being collected (and is then never retried once a chunk has been handed over).
    void send(const HttpRequest& request, GCancellable* cancellable, Done done, Chunk onChunk = {});

    [[nodiscard]] const HttpOptions& options() const;
    [[nodiscard]] int attemptsStarted() const;
    // Decoded body bytes read by every operation so far (errors and retries included).
    [[nodiscard]] size_t bodyBytesRead() const;
    // Operations started and not yet ended.
    [[nodiscard]] int inFlight() const;
    // Cancelled when the client is destroyed: what a deferred callback checks before it runs.
    [[nodiscard]] GCancellable* closing() const;

    struct Shared;

  private:
    std::shared_ptr<Shared> shared_;
};

} // namespace imagegen
