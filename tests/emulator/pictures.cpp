#include "emulator/pictures.h"

#include "core/util/glib_ptr.h"
#include "support/fixtures.h"

#include <webp/encode.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>

using imagegen::GCharPtr;

namespace emulator {

namespace {

struct Rgb {
    uint8_t r, g, b;
};

// The colour an edit paints, from the prompt alone: tests compute the same.
Rgb promptColour(const std::string& prompt) {
    uint32_t h = 2166136261U;
    for (unsigned char c : prompt) {
        h = (h ^ c) * 16777619U;
    }
    return {static_cast<uint8_t>(64 + (h & 0x7f)), static_cast<uint8_t>(64 + ((h >> 8) & 0x7f)),
            static_cast<uint8_t>(64 + ((h >> 16) & 0x7f))};
}

// A redrawn pixel: moved by -4..-1 or 1..4 levels, from its position (never unchanged, so a
// missing layer mask shows), and kept within 0..255 by moving the other way.
uint8_t redrawn(uint8_t v, int x, int y, int c) {
    uint32_t h = (static_cast<uint32_t>(x) * 73856093U) ^ (static_cast<uint32_t>(y) * 19349663U) ^
                 (static_cast<uint32_t>(c) * 83492791U);
    h ^= h >> 13;
    h *= 0x5bd1e995U;
    h ^= h >> 15;
    const int k = static_cast<int>(h % 8);
    const int move = k < 4 ? k - 4 : k - 3;
    const int out = v + move;
    return static_cast<uint8_t>(out < 0 || out > 255 ? v - move : out);
}

RgbaImage nearestResize(const RgbaImage& in, int w, int h) {
    RgbaImage out(w, h);
    for (int y = 0; y < h; ++y) {
        const int sy =
            std::min(in.height - 1, static_cast<int>(static_cast<int64_t>(y) * in.height / h));
        for (int x = 0; x < w; ++x) {
            const int sx =
                std::min(in.width - 1, static_cast<int>(static_cast<int64_t>(x) * in.width / w));
            std::copy_n(in.at(sx, sy), 4, out.at(x, y));
        }
    }
    return out;
}

std::string encodeWebp(const RgbaImage& image, int quality) {
    uint8_t* raw = nullptr;
    const size_t size = WebPEncodeRGBA(image.pixels.data(), image.width, image.height,
                                       image.width * 4, static_cast<float>(quality), &raw);
    const std::unique_ptr<uint8_t, imagegen::GFreeWith<WebPFree>> out(raw);
    return {reinterpret_cast<char*>(out.get()), size};
}

} // namespace

RgbaImage drawGeneration(const std::string& prompt, int w, int h, bool transparent) {
    const Rgb c = promptColour(prompt);
    RgbaImage out(w, h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            uint8_t* p = out.at(x, y);
            const bool stripe = ((x + y) / 32) % 2 == 0;
            p[0] = stripe ? c.r : static_cast<uint8_t>(255 - c.r);
            p[1] = stripe ? c.g : static_cast<uint8_t>(255 - c.g);
            p[2] = stripe ? c.b : static_cast<uint8_t>(255 - c.b);
            p[3] = stripe || !transparent ? 255 : 0;
        }
    }
    return out;
}

RgbaImage drawEdit(const std::string& prompt, const RgbaImage& source, const RgbaImage* mask,
                   bool gpt, int w, int h, const std::optional<Drift>& drift) {
    const Rgb c = promptColour(prompt);
    RgbaImage image = nearestResize(source, w, h);
    std::optional<RgbaImage> m;
    if (mask != nullptr) {
        m = nearestResize(*mask, w, h);
    }
    bool anyTransparent = false;
    for (size_t i = 3; i < image.pixels.size(); i += 4) {
        anyTransparent = anyTransparent || image.pixels[i] == 0;
    }
    RgbaImage out(w, h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const uint8_t* s = image.at(x, y);
            const bool edit = m ? m->at(x, y)[3] == 0 : (gpt || !anyTransparent || s[3] == 0);
            uint8_t* p = out.at(x, y);
            const uint8_t drawn[3] = {c.r, c.g, c.b};
            for (int k = 0; k < 3; ++k) {
                if (drift) {
                    p[k] = drift->apply(k, edit ? drawn[k] : s[k]);
                } else {
                    p[k] = edit ? drawn[k] : redrawn(s[k], x, y, k);
                }
            }
            p[3] = 255;
        }
    }
    return out;
}

RgbaImage partialOf(const RgbaImage& final, int index, int count) {
    RgbaImage out = final;
    const double t = static_cast<double>(index + 1) / (count + 1);
    for (size_t i = 0; i < out.pixels.size(); ++i) {
        if (i % 4 != 3) {
            out.pixels[i] = static_cast<uint8_t>(std::lround(128 + (final.pixels[i] - 128) * t));
        }
    }
    return out;
}

std::string encodeAs(const RgbaImage& image, const std::string& format, int compression) {
    if (format == "jpeg") {
        auto jpeg = imagegen::encodeJpeg(image, compression < 0 ? 90 : std::max(1, compression));
        return jpeg ? *jpeg : std::string();
    }
    if (format == "webp") {
        return encodeWebp(image, compression < 0 ? 90 : compression);
    }
    auto png = imagegen::encodePng(image, 1);
    return png ? *png : std::string();
}

std::string base64(const std::string& bytes) {
    GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size()));
    return b64.get();
}

} // namespace emulator
