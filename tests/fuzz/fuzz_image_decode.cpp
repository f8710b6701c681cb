// Fuzz target: image bytes as the service (or a reference layer's export) might send them, read
// by probeImage and decoded by decodeImage with the limit the plug-in uses.
#include "core/pixels/codec.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace imagegen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto info = probeImage(bytes);
    auto image = decodeImage(bytes, kMaxDecodePixels);
    if (!image) {
        return 0;
    }
    // A decoded image is what it says it is, within the limit, and what the header said.
    if (image->width <= 0 || image->height <= 0 ||
        static_cast<int64_t>(image->width) * image->height > kMaxDecodePixels ||
        image->pixels.size() != static_cast<size_t>(image->width) * image->height * 4) {
        __builtin_trap();
    }
    if (info && (info->width != image->width || info->height != image->height)) {
        __builtin_trap();
    }
    return 0;
}
