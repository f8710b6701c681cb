// Image codecs in memory: PNG, JPEG and WebP encoding and decoding. No temporary files; an image
// whose header claims too many pixels is refused before anything is allocated.
#pragma once

#include "core/util/error.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imagegen {

// 8-bit RGBA, rows packed (stride = width * 4), not premultiplied.
struct RgbaImage {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> pixels;

    RgbaImage() = default;
    RgbaImage(int w, int h) : width(w), height(h), pixels(static_cast<size_t>(w) * h * 4, 0) {}
    uint8_t* at(int x, int y) { return pixels.data() + (static_cast<size_t>(y) * width + x) * 4; }
    [[nodiscard]] const uint8_t* at(int x, int y) const {
        return pixels.data() + (static_cast<size_t>(y) * width + x) * 4;
    }
};

enum class ImageFormat { Png, Jpeg, WebP, Unknown };

struct ImageInfo {
    ImageFormat format = ImageFormat::Unknown;
    int width = 0;
    int height = 0;
    bool hasAlpha = false;
};

inline constexpr int64_t kMaxDecodePixels = 64'000'000;

// The most pixels a result may have when `asked` were asked for: four times as many (a service
// may answer another size of the same order), never more than kMaxDecodePixels; that when
// nothing is known.
constexpr int64_t resultPixelBound(int64_t asked) {
    return asked > 0 && asked < kMaxDecodePixels / 4 ? 4 * asked : kMaxDecodePixels;
}

const char* mimeTypeOf(ImageFormat format);

// Reads only the header: format, dimensions and (PNG) whether it has an alpha channel.
Result<ImageInfo> probeImage(std::string_view bytes);

Result<RgbaImage> decodeImage(std::string_view bytes, int64_t maxPixels = kMaxDecodePixels);

// zlib level 1: the network is slower than a larger file, and this is fast.
Result<std::string> encodePng(const RgbaImage& image, int compressionLevel = 1);

// Lossy, colour only (alpha is dropped), 4:4:4 chroma. For a 1536x1024 picture as the image to
// edit, quality 92 gives 0.28-0.39 MB at 41 dB PSNR where PNG takes 3.1 MB (tools/benchmark:
// 90 is at 40.5 dB, too near the 40 dB aimed at; 95 takes 0.43-0.55 MB for 1 dB more).
inline constexpr int kDefaultJpegQuality = 92;
Result<std::string> encodeJpeg(const RgbaImage& image, int quality = kDefaultJpegQuality);

// Lossy WebP (alpha kept), for the benchmark's comparison; OpenAI takes it, Azure does not.
Result<std::string> encodeWebP(const RgbaImage& image, int quality);

// Whether every pixel is fully opaque: only then does a format without alpha lose nothing of
// what the model must see.
bool isOpaque(const RgbaImage& image);

} // namespace imagegen
