#include "core/util/error.h"

#include "core/service/service_text.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"

#include <cstdarg>
#include <utility>

#include <glib.h>

namespace imagegen {

std::string withoutSecret(std::string text, const std::string& secret) {
    return redactSecrets(std::move(text), secret);
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

std::string textf(const char* format, ...) {
    va_list args;
    va_start(args, format);
    const GCharPtr text(g_strdup_vprintf(format, args));
    va_end(args);
    return text.get();
}

std::string megabytes(size_t bytes) {
    char text[32];
    // TRANSLATORS: a size in megabytes, e.g. "1.4 MB".
    g_snprintf(text, sizeof text, _("%.1f MB"), static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

} // namespace imagegen
