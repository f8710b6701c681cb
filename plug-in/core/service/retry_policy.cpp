#include "core/service/retry_policy.h"

#include <glib.h>

#include <algorithm>
#include <cmath>

namespace imagegen {

// Clamps what a server asks before anything converts it: a negative or NaN delay means nothing
// (our backoff applies), and no wait is longer than kMaxServerDelaySeconds, so 1e308 or an HTTP
// date in the year 9999 can wrap no integer further on.
static std::optional<double> saneDelay(double seconds) {
    if (std::isnan(seconds) || seconds < 0.0) {
        return std::nullopt;
    }
    return std::min(seconds, kMaxServerDelaySeconds) + 0.0; // + 0.0: -0 becomes 0
}

static std::optional<double> parseNumber(const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    char* end = nullptr;
    // Past the range of a double g_ascii_strtod gives HUGE_VAL (inf), which saneDelay clamps.
    const double v = g_ascii_strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0') {
        return std::nullopt;
    }
    return v;
}

// The delay the server asks for, in seconds, in the SDKs' order of preference.
std::optional<double> serverDelaySeconds(const HttpResponse& r, int64_t nowUnix) {
    if (auto ms = parseNumber(r.header("retry-after-ms"))) {
        return saneDelay(*ms / 1000.0);
    }
    if (auto ms = parseNumber(r.header("x-ms-retry-after-ms"))) {
        return saneDelay(*ms / 1000.0);
    }
    const std::string retryAfter = r.header("retry-after");
    if (auto seconds = parseNumber(retryAfter)) {
        return saneDelay(*seconds);
    }
    if (!retryAfter.empty()) {
        if (GDateTimePtr when{soup_date_time_new_from_http_string(retryAfter.c_str())}) {
            const int64_t at = g_date_time_to_unix(when.get());
            // Both within GDateTime's years 1-9999: the difference cannot overflow.
            return saneDelay(std::max<double>(0.0, static_cast<double>(at - nowUnix)));
        }
    }
    return std::nullopt;
}

double backoffSeconds(int retriesTaken, double random) {
    const double base = std::min(0.5 * std::pow(2.0, retriesTaken), 8.0);
    return base * (1.0 - 0.25 * random);
}

std::optional<double> retryDelaySeconds(const HttpResponse& response, int retriesTaken,
                                        const HttpOptions& options, double random,
                                        int64_t nowUnix) {
    const std::string shouldRetry = response.header("x-should-retry");
    bool retry = false;
    if (shouldRetry == "true") {
        retry = true;
    } else if (shouldRetry == "false") {
        retry = false;
    } else {
        const int s = response.status;
        retry = s == 408 || s == 409 || s == 429 || s >= 500;
    }
    if (!retry) {
        return std::nullopt;
    }
    auto delay = serverDelaySeconds(response, nowUnix);
    if (delay && *delay >= 0.0 && *delay <= options.maxServerDelaySeconds) {
        return *delay;
    }
    return backoffSeconds(retriesTaken, random);
}

} // namespace imagegen
