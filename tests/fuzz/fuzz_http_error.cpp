// Fuzz target: a non-2xx answer, as classifyHttpError turns it into an Error. The first three
// bytes are the HTTP status (each read as a decimal digit, so "400{...}" is status 400 with
// that body); the rest is the body.
#include "core/service/responses.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace imagegen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) {
        return 0;
    }
    int status = 0;
    for (size_t i = 0; i < 3; ++i) {
        status = status * 10 + static_cast<uint8_t>(data[i] - '0') % 10;
    }
    const std::string_view body(reinterpret_cast<const char*>(data) + 3, size - 3);
    const std::string requestId = (size & 1) != 0 ? "req-fuzz" : "";
    const Error e = classifyHttpError(status, body, requestId);
    if (e.message.empty() || e.httpStatus != status) {
        __builtin_trap(); // every error says what happened, with the status it came with
    }
    (void)isContentFilterCode(e.code);
    return 0;
}
