// When to try a request again and how long to wait first: the official SDKs' policy
// (PROTOCOL.md §9), as pure functions of an answer, so that it is tested without a server.
#pragma once

#include "core/service/http_client.h"

#include <cstdint>
#include <optional>

namespace imagegen {

// The longest wait a server's delay is taken as: past it (1e308, a date in the year 9999) the
// delay is this, so no conversion of it can overflow.
inline constexpr double kMaxServerDelaySeconds = 7 * 24 * 3600.0;

// The delay the server asks for before a retry, in seconds (retry-after-ms, x-ms-retry-after-ms,
// Retry-After as seconds or an HTTP date), when it gives one: within [0, kMaxServerDelaySeconds],
// nullopt for a negative or NaN one.
std::optional<double> serverDelaySeconds(const HttpResponse& response, int64_t nowUnix);

// The delay before the next try, or nullopt when the answer is not to be retried: 408, 409, 429
// and 5xx are (x-should-retry overrides); the server's delay from retry-after-ms,
// x-ms-retry-after-ms or Retry-After (seconds or an HTTP date) is honoured up to
// maxServerDelaySeconds, otherwise min(0.5 * 2^k, 8) s less up to 25 % jitter.
std::optional<double> retryDelaySeconds(const HttpResponse& response, int retriesTaken,
                                        const HttpOptions& options, double random, int64_t nowUnix);
double backoffSeconds(int retriesTaken, double random);

} // namespace imagegen
