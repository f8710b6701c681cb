// Codecs in memory: PNG round trips, JPEG and WebP decoding, headers that lie.
#include "core/pixels/codec.h"
#include "core/pixels/pipeline.h"
#include "core/util/glib_ptr.h"
#include "support/fixtures.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
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
    if (!assertOk(png)) {
        return;
    }
    auto info = probeImage(*png);
    if (assertOk(info)) {
        g_assert_true(info->format == ImageFormat::Png);
        g_assert_cmpint(info->width, ==, 37);
        g_assert_cmpint(info->height, ==, 23);
        g_assert_true(info->hasAlpha);
    }
    auto decoded = decodeImage(*png);
    if (assertOk(decoded)) {
        g_assert_true(decoded->pixels == image.pixels);
    }
    assertFails(encodePng(RgbaImage()), ErrorKind::Image);
}

static void testJpegDecodes() {
    RgbaImage image(16, 8);
    for (size_t i = 0; i < image.pixels.size(); i += 4) {
        image.pixels[i] = 200;
        image.pixels[i + 1] = 40;
        image.pixels[i + 2] = 90;
        image.pixels[i + 3] = 255;
    }
    const std::string jpeg = *encodeJpeg(image, 95);
    auto info = probeImage(jpeg);
    if (assertOk(info)) {
        g_assert_true(info->format == ImageFormat::Jpeg);
        g_assert_cmpint(info->width, ==, 16);
        g_assert_cmpint(info->height, ==, 8);
    }
    auto decoded = decodeImage(jpeg);
    if (assertOk(decoded)) {
        g_assert_cmpint(decoded->width, ==, 16);
        g_assert_cmpint(decoded->height, ==, 8);
        if (decoded->width == 16 && decoded->height == 8) {
            const uint8_t* p = decoded->at(5, 5);
            g_assert_cmpint(std::abs(p[0] - 200), <=, 3);
            g_assert_cmpint(std::abs(p[1] - 40), <=, 3);
            g_assert_cmpint(std::abs(p[2] - 90), <=, 3);
            g_assert_cmpint(p[3], ==, 255);
        }
    }
    // Cut short: an error, not a crash.
    assertFails(decodeImage(jpeg.substr(0, jpeg.size() / 3)), ErrorKind::Image);
}

static void testWebPDecodes() {
    RgbaImage image = gradient(20, 10);
    uint8_t* out = nullptr;
    size_t size = WebPEncodeLosslessRGBA(image.pixels.data(), 20, 10, 80, &out);
    const std::unique_ptr<uint8_t, GFreeWith<WebPFree>> owned(out);
    g_assert_cmpuint(size, >, 0);
    const std::string webp(reinterpret_cast<char*>(out), size);
    auto info = probeImage(webp);
    if (assertOk(info)) {
        g_assert_true(info->format == ImageFormat::WebP);
        g_assert_cmpint(info->width, ==, 20);
    }
    auto decoded = decodeImage(webp);
    if (assertOk(decoded)) {
        g_assert_true(decoded->pixels == image.pixels);
    }
    assertEq(mimeTypeOf(ImageFormat::WebP), "image/webp");
}

static void testHugeHeaderRefusedBeforeAllocation() {
    const std::string png = pngHeaderClaiming(100000, 100000);
    auto info = probeImage(png);
    if (assertOk(info)) {
        g_assert_cmpint(info->width, ==, 100000);
    }
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
    if (!assertOk(png)) {
        return;
    }
    assertFails(decodeImage(png->substr(0, png->size() / 2)), ErrorKind::Image);
    std::string corrupt = *png;
    corrupt[60] ^= 0x55;
    assertFails(decodeImage(corrupt), ErrorKind::Image);
    assertFails(decodeImage(pngHeaderClaiming(64, 64)), ErrorKind::Image); // a header and no data
}

// Files whose headers claim 8000x8000 (exactly 64 megapixels, under the global limit) with a few
// bytes behind them: refused for what they hold, before 256 MB of pixels are allocated.
static std::string jpegClaiming(int width, int height) {
    std::string jpeg = *encodeJpeg(gradient(16, 16), 90);
    for (size_t i = 2; i + 9 < jpeg.size(); ++i) {
        if (static_cast<unsigned char>(jpeg[i]) == 0xFF &&
            static_cast<unsigned char>(jpeg[i + 1]) == 0xC0) {
            jpeg[i + 5] = static_cast<char>(height >> 8);
            jpeg[i + 6] = static_cast<char>(height & 0xFF);
            jpeg[i + 7] = static_cast<char>(width >> 8);
            jpeg[i + 8] = static_cast<char>(width & 0xFF);
            break;
        }
    }
    return jpeg;
}

static std::string webpClaiming(int width, int height) {
    // A lossless (VP8L) header: signature 0x2f, then width-1 and height-1 in 14 bits each.
    const uint32_t bits =
        static_cast<uint32_t>(width - 1) | (static_cast<uint32_t>(height - 1) << 14);
    std::string vp8l = {'\x2f', static_cast<char>(bits & 0xFF),
                        static_cast<char>((bits >> 8) & 0xFF),
                        static_cast<char>((bits >> 16) & 0xFF), static_cast<char>(bits >> 24)};
    vp8l += std::string(8, '\0');
    auto le32 = [](uint32_t v) {
        return std::string{static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF),
                           static_cast<char>((v >> 16) & 0xFF), static_cast<char>(v >> 24)};
    };
    const std::string chunk = "VP8L" + le32(static_cast<uint32_t>(vp8l.size())) + vp8l;
    return "RIFF" + le32(static_cast<uint32_t>(4 + chunk.size())) + "WEBP" + chunk;
}

static void testTinyFilesClaimingHugeImages() {
    const std::string png = pngHeaderClaiming(8000, 8000);
    g_assert_cmpuint(png.size(), <, 100);
    assertContains(assertFails(decodeImage(png), ErrorKind::Image).message,
                   "cannot hold the 8000x8000 pixels");

    const std::string jpeg = jpegClaiming(8000, 8000);
    g_assert_cmpuint(jpeg.size(), <, 1000);
    auto jpegInfo = probeImage(jpeg);
    if (assertOk(jpegInfo)) {
        g_assert_cmpint(jpegInfo->width, ==, 8000);
    }
    assertContains(assertFails(decodeImage(jpeg), ErrorKind::Image).message, "JPEG");

    const std::string webp = webpClaiming(8000, 8000);
    g_assert_cmpuint(webp.size(), <, 40);
    auto webpInfo = probeImage(webp);
    if (assertOk(webpInfo)) {
        g_assert_cmpint(webpInfo->height, ==, 8000);
    }
    assertContains(assertFails(decodeImage(webp), ErrorKind::Image).message,
                   "cannot hold the 8000x8000 pixels");
    // Under a run's own limit they are refused for their size alone.
    assertContains(assertFails(decodeImage(webp, 4 * 1536 * 1024), ErrorKind::Image).message,
                   "larger than can be opened safely");
}

// libjpeg fills missing data with grey and only warns: a cut JPEG is broken, not grey.
static void testTruncatedJpegIsBroken() {
    const std::string jpeg = *encodeJpeg(gradient(64, 64), 90);
    assertFails(decodeImage(jpeg.substr(0, jpeg.size() * 2 / 3)), ErrorKind::Image);
    g_assert_true(decodeImage(jpeg).ok());
    // Stray bytes before a marker only draw a warning that changes no pixel: still decoded.
    std::string stray = jpeg;
    const size_t sos = stray.find("\xFF\xDA");
    if (sos != std::string::npos) {
        stray.insert(sos, "\x00\x00");
        g_assert_true(decodeImage(stray).ok());
    }
}

// A photograph's statistics, roughly: smooth shading, edges, and a grain of a few levels.
static RgbaImage photoLike(int w, int h) {
    RgbaImage image(w, h);
    uint32_t seed = 12345;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            seed = seed * 1664525U + 1013904223U;
            const int grain = static_cast<int>((seed >> 24) % 7) - 3;
            uint8_t* p = image.at(x, y);
            const int edge = (x / 37 + y / 23) % 2 == 0 ? 40 : 0;
            p[0] = static_cast<uint8_t>(std::clamp(60 + x * 120 / w + edge + grain, 0, 255));
            p[1] = static_cast<uint8_t>(std::clamp(90 + y * 100 / h + grain, 0, 255));
            p[2] = static_cast<uint8_t>(std::clamp(150 - edge + grain, 0, 255));
            p[3] = 255;
        }
    }
    return image;
}

static double psnr(const RgbaImage& a, const RgbaImage& b) {
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i) {
        if (i % 4 == 3) {
            continue;
        }
        const double d = double(a.pixels[i]) - double(b.pixels[i]);
        sum += d * d;
        ++n;
    }
    return 10.0 * std::log10(255.0 * 255.0 / (sum / static_cast<double>(n)));
}

// The core's JPEG: what it encodes decodes to the same size, opaque, close to the source, and
// smaller than the PNG of the same pixels.
static void testJpegEncodes() {
    const RgbaImage image = photoLike(320, 200);
    auto jpeg = encodeJpeg(image);
    if (!assertOk(jpeg)) {
        return;
    }
    auto decoded = decodeImage(*jpeg);
    if (!assertOk(decoded)) {
        return;
    }
    g_assert_cmpint(decoded->width, ==, 320);
    g_assert_cmpint(decoded->height, ==, 200);
    g_assert_true(isOpaque(*decoded));
    g_assert_cmpfloat(psnr(image, *decoded), >=, 40.0);
    g_assert_cmpuint(jpeg->size(), <, encodePng(image)->size() / 2);
    assertFails(encodeJpeg(RgbaImage()), ErrorKind::Image);
    auto webp = encodeWebP(image, 90);
    if (assertOk(webp)) {
        g_assert_true(probeImage(*webp)->format == ImageFormat::WebP);
    }
}

static void testOpaque() {
    RgbaImage image = photoLike(8, 8);
    g_assert_true(isOpaque(image));
    image.at(7, 7)[3] = 254;
    g_assert_false(isOpaque(image));
}

// The image to edit goes up as JPEG only when asked to allow it and nothing of it is
// transparent; the mask is always PNG.
static void testEditUploadFormat() {
    RgbaImage opaque = photoLike(64, 48);
    const std::vector<uint8_t> coverage(64 * 48, 255);
    const Size api{64, 48};
    auto jpeg = prepareEdit(opaque, coverage, true, api, UploadFormat::JpegIfOpaque);
    if (assertOk(jpeg)) {
        assertEq(jpeg->image.mimeType, "image/jpeg");
        assertEq(jpeg->image.filename, "image.jpg");
        g_assert_true(probeImage(jpeg->image.bytes)->format == ImageFormat::Jpeg);
        assertEq(jpeg->mask->mimeType, "image/png");
        g_assert_true(probeImage(jpeg->mask->bytes)->format == ImageFormat::Png);
    }
    auto forced = prepareEdit(opaque, coverage, true, api, UploadFormat::Png);
    if (assertOk(forced)) {
        assertEq(forced->image.mimeType, "image/png");
        g_assert_true(probeImage(forced->image.bytes)->format == ImageFormat::Png);
    }
    RgbaImage holed = opaque;
    holed.at(10, 10)[3] = 0; // a transparent pixel is part of the area to paint
    auto png = prepareEdit(holed, coverage, true, api, UploadFormat::JpegIfOpaque);
    if (assertOk(png)) {
        assertEq(png->image.mimeType, "image/png");
        assertEq(png->image.filename, "image.png");
        g_assert_true(decodeImage(png->image.bytes)->pixels == holed.pixels);
    }
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/codec/png/round-trip-is-lossless", testPngRoundTripIsLossless);
    g_test_add_func("/codec/jpeg/decodes", testJpegDecodes);
    g_test_add_func("/codec/webp/decodes", testWebPDecodes);
    g_test_add_func("/codec/huge-header-refused-before-allocation",
                    testHugeHeaderRefusedBeforeAllocation);
    g_test_add_func("/codec/broken-data", testBrokenData);
    g_test_add_func("/codec/tiny-files-claiming-huge-images", testTinyFilesClaimingHugeImages);
    g_test_add_func("/codec/jpeg/truncated-is-broken", testTruncatedJpegIsBroken);
    g_test_add_func("/codec/jpeg/encodes", testJpegEncodes);
    g_test_add_func("/codec/opaque", testOpaque);
    g_test_add_func("/pipeline/edit-upload-format", testEditUploadFormat);
    return g_test_run();
}
