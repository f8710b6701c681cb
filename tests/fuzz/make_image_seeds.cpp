// Writes the image seeds of the image_decode fuzz target: small real PNG, JPEG and WebP files
// (made by the core's encodePng, the test fixtures' encodeJpeg and libwebp), and the known
// hostile inputs: tiny files whose headers claim 8000x8000 pixels. Run once, and commit what it
// writes:  make-image-seeds tests/fuzz/corpus/image_decode
#include "core/pixels/codec.h"
#include "support/fixtures.h"

#include <webp/encode.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

using namespace imagegen;

namespace {

RgbaImage gradient(int width, int height, bool alpha) {
    RgbaImage image(width, height);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            uint8_t* p = image.at(x, y);
            p[0] = static_cast<uint8_t>(x * 255 / width);
            p[1] = static_cast<uint8_t>(y * 255 / height);
            p[2] = static_cast<uint8_t>((x + y) * 20);
            p[3] = alpha ? static_cast<uint8_t>(255 - x * 30) : 255;
        }
    }
    return image;
}

std::string webp(const RgbaImage& image, bool lossless) {
    uint8_t* out = nullptr;
    const int stride = image.width * 4;
    const size_t size =
        lossless
            ? WebPEncodeLosslessRGBA(image.pixels.data(), image.width, image.height, stride, &out)
            : WebPEncodeRGBA(image.pixels.data(), image.width, image.height, stride, 75, &out);
    std::string bytes(reinterpret_cast<char*>(out), size);
    WebPFree(out);
    return bytes;
}

void put32be(std::string& s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        s.push_back(static_cast<char>((v >> shift) & 0xff));
    }
}

// A PNG chunk with its length and CRC.
std::string chunk(const char* type, const std::string& data) {
    std::string out;
    put32be(out, static_cast<uint32_t>(data.size()));
    std::string body = std::string(type, 4) + data;
    out += body;
    put32be(out, static_cast<uint32_t>(
                     crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
    return out;
}

// 65 bytes: a valid header claiming 8000x8000 RGBA, one tiny IDAT, IEND.
std::string pngClaiming8000() {
    std::string png = test::pngHeaderClaiming(8000, 8000);
    const std::string filterBytes(2, '\0');
    uLongf length = compressBound(filterBytes.size());
    std::string compressed(length, '\0');
    compress2(reinterpret_cast<Bytef*>(compressed.data()), &length,
              reinterpret_cast<const Bytef*>(filterBytes.data()), filterBytes.size(), 9);
    compressed.resize(length);
    return png + chunk("IDAT", compressed) + chunk("IEND", "");
}

// A small baseline JPEG with its frame header (SOF0) patched to say 8000x8000.
std::string jpegClaiming8000() {
    std::string jpeg = *encodeJpeg(gradient(8, 8, false), 50);
    for (size_t i = 0; i + 8 < jpeg.size(); ++i) {
        if (static_cast<uint8_t>(jpeg[i]) == 0xff && static_cast<uint8_t>(jpeg[i + 1]) == 0xc0) {
            // FF C0, length (2), precision (1), height (2), width (2)
            jpeg[i + 5] = jpeg[i + 7] = static_cast<char>(8000 >> 8);
            jpeg[i + 6] = jpeg[i + 8] = static_cast<char>(8000 & 0xff);
            break;
        }
    }
    return jpeg;
}

// 33 bytes: RIFF/WEBP with a lossless (VP8L) header claiming 8000x8000 and almost no data.
std::string webpClaiming8000() {
    const uint32_t bits = (8000 - 1) | ((8000 - 1) << 14) | (1U << 28); // width, height, alpha
    std::string vp8l("\x2f", 1);
    for (int shift = 0; shift < 32; shift += 8) {
        vp8l.push_back(static_cast<char>((bits >> shift) & 0xff));
    }
    vp8l += std::string("\x00\x00\x00\x00\x00\x00\x00\x00", 8);
    auto le32 = [](uint32_t v) {
        std::string s;
        for (int shift = 0; shift < 32; shift += 8) {
            s.push_back(static_cast<char>((v >> shift) & 0xff));
        }
        return s;
    };
    const std::string chunkBytes = "VP8L" + le32(vp8l.size()) + vp8l;
    return "RIFF" + le32(4 + chunkBytes.size()) + "WEBP" + chunkBytes;
}

bool write(const std::string& dir, const std::string& name, const std::string& bytes) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    out << bytes;
    std::printf("%s/%s: %zu bytes\n", dir.c_str(), name.c_str(), bytes.size());
    return static_cast<bool>(out);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    auto png = encodePng(gradient(4, 3, true));
    auto opaque = encodePng(gradient(5, 5, false), 9);
    bool ok = png && opaque;
    ok = ok && write(dir, "rgba-4x3.png", *png);
    ok = ok && write(dir, "opaque-5x5.png", *opaque);
    auto jpeg8 = encodeJpeg(gradient(8, 8, false), 80);
    auto jpeg17 = encodeJpeg(gradient(17, 9, false), 30);
    ok = ok && jpeg8 && jpeg17;
    ok = ok && write(dir, "gradient-8x8.jpeg", *jpeg8);
    ok = ok && write(dir, "gradient-17x9.jpeg", *jpeg17);
    ok = ok && write(dir, "lossy-6x4.webp", webp(gradient(6, 4, false), false));
    ok = ok && write(dir, "lossless-alpha-4x4.webp", webp(gradient(4, 4, true), true));
    ok = ok && write(dir, "known-png-claims-8000x8000.png", pngClaiming8000());
    ok = ok && write(dir, "known-jpeg-claims-8000x8000.jpeg", jpegClaiming8000());
    ok = ok && write(dir, "known-webp-claims-8000x8000.webp", webpClaiming8000());
    return ok ? 0 : 1;
}
