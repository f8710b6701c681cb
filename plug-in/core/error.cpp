#include "core/error.h"

#include <glib.h>

namespace imagegen {

std::string withoutSecret(std::string text, const std::string& secret) {
    if (secret.empty()) {
        return text;
    }
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
        text.replace(at, secret.size(), "[redacted]");
    }
    return text;
}

const char* errorKindName(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::InvalidRequest:
        return "invalid-request";
    case ErrorKind::Configuration:
        return "configuration";
    case ErrorKind::Authentication:
        return "authentication";
    case ErrorKind::NotFound:
        return "not-found";
    case ErrorKind::BadRequest:
        return "bad-request";
    case ErrorKind::ContentFilter:
        return "content-filter";
    case ErrorKind::RateLimited:
        return "rate-limited";
    case ErrorKind::Server:
        return "server";
    case ErrorKind::Network:
        return "network";
    case ErrorKind::Timeout:
        return "timeout";
    case ErrorKind::Cancelled:
        return "cancelled";
    case ErrorKind::MalformedResponse:
        return "malformed-response";
    case ErrorKind::Image:
        return "image";
    }
    return "unknown";
}

std::string megabytes(size_t bytes) {
    char text[32];
    g_snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

} // namespace imagegen
