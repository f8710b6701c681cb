// Fuzz target: the body of a 2xx answer of the Images API, as parseImagesResponse reads it.
#include "core/responses.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace imagegen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto response = parseImagesResponse(body);
    if (!response) {
        if (response.error().message.empty()) {
            __builtin_trap(); // every refusal says why
        }
        return 0;
    }
    if (response->images.empty()) {
        __builtin_trap(); // an answer without images is refused, never returned
    }
    size_t total = 0;
    for (const auto& image : response->images) {
        total += image.bytes.size() + image.url.size() + image.revisedPrompt.size();
    }
    return total == SIZE_MAX ? 1 : 0;
}
