// Fuzz target: the body of a 2xx answer of the Images API, as parseImagesResponse reads it, once
// with no bounds and once with tight ones (one image of at most 64x64 pixels): what the bounds
// let through keeps within them, and they only ever refuse more.
#include "core/pixels/codec.h"
#include "core/service/responses.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace imagegen;

namespace {

void checkRefusalSaysWhy(const Result<ImagesResponse>& response) {
    if (!response && response.error().message.empty()) {
        __builtin_trap(); // every refusal says why
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    auto response = parseImagesResponse(body);
    checkRefusalSaysWhy(response);
    AnswerBounds tight;
    tight.maxImages = 1;
    tight.maxPixels = 64 * 64;
    auto bounded = parseImagesResponse(body, tight);
    checkRefusalSaysWhy(bounded);
    if (bounded) {
        if (!response || bounded->images.size() > tight.maxImages) {
            __builtin_trap(); // the bounds refuse more, never less
        }
        for (const auto& image : bounded->images) {
            // Small inputs: the header check saw each image whole, as the decoder will.
            if (auto info = probeImage(image.bytes);
                info && int64_t{info->width} * info->height > tight.maxPixels) {
                __builtin_trap();
            }
        }
    }
    if (!response) {
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
