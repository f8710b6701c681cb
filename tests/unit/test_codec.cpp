// Codecs in memory: PNG round trips, JPEG and WebP decoding, headers that lie.
#include "codec.h"
#include "test_util.h"

#include <zlib.h>

#include <cstdio>
#include <jpeglib.h>
#include <webp/encode.h>

using namespace imagegen;
using namespace imagegen::test;

static RgbaImage gradient(int w, int h) {
    RgbaImage image(w, h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            uint8_t* p = image.at(x, y);
            p[0] = static_cast<uint8_t>(x * 255 / std::max(1, w - 1));
            p[1] = static_cast<uint8_t>(y * 255 / std::max(1, h - 1));
            p[2] = static_cast<uint8_t>((x + y) & 0xff);
            p[3] = static_cast<uint8_t>(x % 2 == 0 ? 255 : 128);
        }
    }
    return image;
}

static void testPngRoundTripIsLossless() {
    RgbaImage image = gradient(37, 23);
    auto png = encodePng(image);
    assertOk(png);
    auto info = probeImage(*png);
    assertOk(info);
    g_assert_true(info->format == ImageFormat::Png);
    g_assert_cmpint(info->width, ==, 37);
    g_assert_cmpint(info->height, ==, 23);
    g_assert_true(info->hasAlpha);
    auto decoded = decodeImage(*png);
    assertOk(decoded);
    g_assert_true(decoded->pixels == image.pixels);
    assertFails(encodePng(RgbaImage()), ErrorKind::Image);
}

static std::string encodeJpeg(const RgbaImage& image) {
    jpeg_compress_struct info{};
    jpeg_error_mgr err{};
    info.err = jpeg_std_error(&err);
    jpeg_create_compress(&info);
    unsigned char* out = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&info, &out, &size);
    info.image_width = static_cast<JDIMENSION>(image.width);
    info.image_height = static_cast<JDIMENSION>(image.height);
    info.input_components = 4;
    info.in_color_space = JCS_EXT_RGBA;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, 95, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        auto* row = const_cast<uint8_t*>(image.at(0, static_cast<int>(info.next_scanline)));
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    std::string bytes(reinterpret_cast<char*>(out), size);
    free(out); // NOLINT(cppcoreguidelines-no-malloc): jpeg_mem_dest allocates with malloc
    return bytes;
}

static void testJpegDecodes() {
    RgbaImage image(16, 8);
    for (size_t i = 0; i < image.pixels.size(); i += 4) {
        image.pixels[i] = 200;
        image.pixels[i + 1] = 40;
        image.pixels[i + 2] = 90;
        image.pixels[i + 3] = 255;
    }
    const std::string jpeg = encodeJpeg(image);
    auto info = probeImage(jpeg);
    assertOk(info);
    g_assert_true(info->format == ImageFormat::Jpeg);
    g_assert_cmpint(info->width, ==, 16);
    g_assert_cmpint(info->height, ==, 8);
    auto decoded = decodeImage(jpeg);
    assertOk(decoded);
    g_assert_cmpint(decoded->width, ==, 16);
    const uint8_t* p = decoded->at(5, 5);
    g_assert_cmpint(std::abs(p[0] - 200), <=, 3);
    g_assert_cmpint(std::abs(p[1] - 40), <=, 3);
    g_assert_cmpint(std::abs(p[2] - 90), <=, 3);
    g_assert_cmpint(p[3], ==, 255);
    // Cut short: an error, not a crash.
    assertFails(decodeImage(jpeg.substr(0, jpeg.size() / 3)), ErrorKind::Image);
}

static void testWebPDecodes() {
    RgbaImage image = gradient(20, 10);
    uint8_t* out = nullptr;
    size_t size = WebPEncodeLosslessRGBA(image.pixels.data(), 20, 10, 80, &out);
    g_assert_cmpuint(size, >, 0);
    const std::string webp(reinterpret_cast<char*>(out), size);
    WebPFree(out);
    auto info = probeImage(webp);
    assertOk(info);
    g_assert_true(info->format == ImageFormat::WebP);
    g_assert_cmpint(info->width, ==, 20);
    auto decoded = decodeImage(webp);
    assertOk(decoded);
    g_assert_true(decoded->pixels == image.pixels);
    assertEq(mimeTypeOf(ImageFormat::WebP), "image/webp");
}

// A PNG header claiming w x h, with a valid CRC, and no pixel data.
static std::string pngHeaderClaiming(uint32_t w, uint32_t h) {
    std::string png("\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[17] = {'I', 'H', 'D', 'R'};
    auto put = [](unsigned char* p, uint32_t v) {
        p[0] = static_cast<unsigned char>(v >> 24);
        p[1] = static_cast<unsigned char>(v >> 16);
        p[2] = static_cast<unsigned char>(v >> 8);
        p[3] = static_cast<unsigned char>(v);
    };
    put(ihdr + 4, w);
    put(ihdr + 8, h);
    ihdr[12] = 8; // depth
    ihdr[13] = 6; // RGBA
    unsigned char length[4];
    put(length, 13);
    unsigned char crc[4];
    put(crc, static_cast<uint32_t>(crc32(0, ihdr, 17)));
    png.append(reinterpret_cast<char*>(length), 4);
    png.append(reinterpret_cast<char*>(ihdr), 17);
    png.append(reinterpret_cast<char*>(crc), 4);
    return png;
}

static void testHugeHeaderRefusedBeforeAllocation() {
    const std::string png = pngHeaderClaiming(100000, 100000);
    auto info = probeImage(png);
    assertOk(info);
    g_assert_cmpint(info->width, ==, 100000);
    const Error e = assertFails(decodeImage(png), ErrorKind::Image);
    assertContains(e.message, "100000x100000");
    assertContains(e.message, "larger than can be opened safely");
    // Just over 64 megapixels is refused, just under is not refused for its size.
    assertFails(decodeImage(pngHeaderClaiming(8001, 8000)), ErrorKind::Image);
}

static void testBrokenData() {
    assertFails(decodeImage("GIF89a...."), ErrorKind::Image);
    assertFails(decodeImage(""), ErrorKind::Image);
    auto png = encodePng(gradient(64, 64));
    assertFails(decodeImage(png->substr(0, png->size() / 2)), ErrorKind::Image);
    std::string corrupt = *png;
    corrupt[60] ^= 0x55;
    assertFails(decodeImage(corrupt), ErrorKind::Image);
    assertFails(decodeImage(pngHeaderClaiming(64, 64)), ErrorKind::Image); // a header and no data
}

int main(int argc, char** argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/codec/png/round-trip-is-lossless", testPngRoundTripIsLossless);
    g_test_add_func("/codec/jpeg/decodes", testJpegDecodes);
    g_test_add_func("/codec/webp/decodes", testWebPDecodes);
    g_test_add_func("/codec/huge-header-refused-before-allocation",
                    testHugeHeaderRefusedBeforeAllocation);
    g_test_add_func("/codec/broken-data", testBrokenData);
    return g_test_run();
}
