#include "core/pixels/codec.h"

#include "core/util/i18n.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <jpeglib.h>
// After jpeglib.h, which it needs.
#include <jerror.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/encode.h>

namespace imagegen {

const char* mimeTypeOf(ImageFormat format) {
    switch (format) {
    case ImageFormat::Png:
        return "image/png";
    case ImageFormat::Jpeg:
        return "image/jpeg";
    case ImageFormat::WebP:
        return "image/webp";
    case ImageFormat::Unknown:
        break;
    }
    return "application/octet-stream";
}

static uint32_t bigEndian32(const unsigned char* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

static Result<ImageInfo> probeJpeg(std::string_view bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    size_t i = 2;
    while (i + 4 <= bytes.size()) {
        if (p[i] != 0xFF) {
            break;
        }
        const unsigned char marker = p[i + 1];
        if (marker == 0xFF) {
            ++i;
            continue;
        }
        const size_t length = (size_t{p[i + 2]} << 8) | p[i + 3];
        const bool startOfFrame =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (startOfFrame && i + 9 <= bytes.size()) {
            ImageInfo info;
            info.format = ImageFormat::Jpeg;
            info.height = (p[i + 5] << 8) | p[i + 6];
            info.width = (p[i + 7] << 8) | p[i + 8];
            return info;
        }
        i += 2 + length;
    }
    return makeError(ErrorKind::Image, _("the JPEG image has no readable header"));
}

Result<ImageInfo> probeImage(std::string_view bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    static const unsigned char pngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (bytes.size() >= 8 && std::memcmp(p, pngSignature, 8) == 0) {
        if (bytes.size() < 33 || std::memcmp(p + 12, "IHDR", 4) != 0) {
            return makeError(ErrorKind::Image, _("the PNG image has no readable header"));
        }
        ImageInfo info;
        info.format = ImageFormat::Png;
        const uint32_t w = bigEndian32(p + 16);
        const uint32_t h = bigEndian32(p + 20);
        if (w == 0 || h == 0 || w > 0x7fffffffU || h > 0x7fffffffU) {
            return makeError(ErrorKind::Image, _("the PNG image has impossible dimensions"));
        }
        info.width = static_cast<int>(w);
        info.height = static_cast<int>(h);
        const unsigned char colorType = p[25];
        info.hasAlpha = colorType == 4 || colorType == 6; // tRNS is not looked for here
        return info;
    }
    if (bytes.size() >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
        return probeJpeg(bytes);
    }
    if (bytes.size() >= 12 && std::memcmp(p, "RIFF", 4) == 0 &&
        std::memcmp(p + 8, "WEBP", 4) == 0) {
        WebPBitstreamFeatures features;
        if (WebPGetFeatures(p, bytes.size(), &features) != VP8_STATUS_OK) {
            return makeError(ErrorKind::Image, _("the WebP image has no readable header"));
        }
        ImageInfo info;
        info.format = ImageFormat::WebP;
        info.width = features.width;
        info.height = features.height;
        info.hasAlpha = features.has_alpha != 0;
        return info;
    }
    return makeError(ErrorKind::Image, _("the data is not a PNG, JPEG or WebP image"));
}

// Deflate never packs more than 1032 bytes into one, so a PNG shorter than its rows' bytes over
// 1032 cannot hold its pixels: refuse it before allocating them (a 65-byte PNG may claim
// 8000x8000).
static Status checkPngPlausible(std::string_view bytes, const ImageInfo& info) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const unsigned bitDepth = p[24];
    const unsigned char colorType = p[25];
    const unsigned channels = colorType == 2 ? 3 : colorType == 4 ? 2 : colorType == 6 ? 4 : 1;
    const uint64_t rowBytes =
        (uint64_t{static_cast<unsigned>(info.width)} * channels * bitDepth + 7) / 8;
    const uint64_t rawBytes = uint64_t{static_cast<unsigned>(info.height)} * (1 + rowBytes);
    constexpr uint64_t kDeflateMaxRatio = 1032;
    if (uint64_t{bytes.size()} * kDeflateMaxRatio < rawBytes) {
        return makeError(ErrorKind::Image,
                         textf(_("the PNG image is broken: %zu bytes cannot hold the %dx%d "
                                 "pixels it claims"),
                               bytes.size(), info.width, info.height));
    }
    return Ok{};
}

static Result<RgbaImage> decodePng(std::string_view bytes, int64_t maxPixels) {
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) == 0) {
        return makeError(ErrorKind::Image, textf(_("the PNG image is broken: %s"), image.message));
    }
    if (static_cast<int64_t>(image.width) * image.height > maxPixels) {
        png_image_free(&image);
        return makeError(ErrorKind::Image,
                         textf(_("the image is %ux%u, larger than can be opened safely"),
                               image.width, image.height));
    }
    image.format = PNG_FORMAT_RGBA;
    RgbaImage out(static_cast<int>(image.width), static_cast<int>(image.height));
    if (png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr) == 0) {
        std::string message = image.message;
        png_image_free(&image);
        return makeError(ErrorKind::Image,
                         textf(_("the PNG image is broken: %s"), message.c_str()));
    }
    return out;
}

namespace {
struct JpegErrorManager {
    jpeg_error_mgr base{};
    std::jmp_buf jump{};
    char message[JMSG_LENGTH_MAX] = {};
};

void jpegErrorExit(j_common_ptr info) {
    auto* manager = reinterpret_cast<JpegErrorManager*>(info->err);
    (*info->err->format_message)(info, manager->message);
    std::longjmp(manager->jump, 1); // NOLINT(cert-err52-cpp): libjpeg's documented error path
}

// libjpeg only warns when the data ends early and fills the rest with grey: a model never sends
// such a file, and a 642-byte one may claim 8000x8000, so that warning ends the decoding. Other
// warnings (stray bytes before a marker) are harmless and pass.
void jpegWarning(j_common_ptr info, int level) {
    const int code = info->err->msg_code;
    if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER)) {
        jpegErrorExit(info);
    }
}
} // namespace

// Kept free of C++ objects with destructors between setjmp and longjmp.
static bool decodeJpegInto(std::string_view bytes, int64_t maxPixels, RgbaImage* out,
                           std::string* error) {
    jpeg_decompress_struct info{};
    JpegErrorManager manager;
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = jpegErrorExit;
    manager.base.emit_message = jpegWarning;
    if (setjmp(manager.jump) != 0) { // NOLINT(cert-err52-cpp)
        jpeg_destroy_decompress(&info);
        *error = textf(_("the JPEG image is broken: %s"), manager.message);
        return false;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    jpeg_read_header(&info, TRUE);
    if (static_cast<int64_t>(info.image_width) * info.image_height > maxPixels) {
        jpeg_destroy_decompress(&info);
        *error = _("the image is larger than can be opened safely");
        return false;
    }
    info.out_color_space = JCS_EXT_RGBA;
    jpeg_start_decompress(&info);
    out->width = static_cast<int>(info.output_width);
    out->height = static_cast<int>(info.output_height);
    // The first row before the whole image: data too short for it ends here, unallocated.
    out->pixels.assign(static_cast<size_t>(out->width) * 4, 0);
    JSAMPROW first = out->pixels.data();
    jpeg_read_scanlines(&info, &first, 1);
    out->pixels.resize(static_cast<size_t>(out->width) * out->height * 4, 0);
    while (info.output_scanline < info.output_height) {
        JSAMPROW row =
            out->pixels.data() + static_cast<size_t>(info.output_scanline) * out->width * 4;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return true;
}

// WebP packs at most a few bits per 16x16 block (lossy) or long runs of a palette of two
// (lossless): even so no real file holds more than 2^18 pixels a byte, and a 33-byte one may
// claim 8000x8000.
static Status checkWebPPlausible(std::string_view bytes, const ImageInfo& info) {
    constexpr int64_t kMaxPixelsPerByte = int64_t{1} << 18;
    if (static_cast<int64_t>(bytes.size()) * kMaxPixelsPerByte <
        int64_t{info.width} * info.height) {
        return makeError(ErrorKind::Image,
                         textf(_("the WebP image is broken: %zu bytes cannot hold the %dx%d "
                                 "pixels it claims"),
                               bytes.size(), info.width, info.height));
    }
    return Ok{};
}

static Result<RgbaImage> decodeWebP(std::string_view bytes, const ImageInfo& info) {
    if (auto plausible = checkWebPPlausible(bytes, info); !plausible) {
        return plausible.error();
    }
    RgbaImage out(info.width, info.height);
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    if (WebPDecodeRGBAInto(data, bytes.size(), out.pixels.data(), out.pixels.size(),
                           info.width * 4) == nullptr) {
        return makeError(ErrorKind::Image, _("the WebP image is broken"));
    }
    return out;
}

Result<RgbaImage> decodeImage(std::string_view bytes, int64_t maxPixels) {
    auto info = probeImage(bytes);
    if (!info) {
        return info.error();
    }
    if (static_cast<int64_t>(info->width) * info->height > maxPixels) {
        return makeError(ErrorKind::Image,
                         textf(_("the image claims to be %dx%d, larger than can be opened safely"),
                               info->width, info->height));
    }
    switch (info->format) {
    case ImageFormat::Png:
        if (auto plausible = checkPngPlausible(bytes, *info); !plausible) {
            return plausible.error();
        }
        return decodePng(bytes, maxPixels);
    case ImageFormat::Jpeg: {
        RgbaImage out;
        std::string error;
        if (!decodeJpegInto(bytes, maxPixels, &out, &error)) {
            return makeError(ErrorKind::Image, error);
        }
        return out;
    }
    case ImageFormat::WebP:
        return decodeWebP(bytes, *info);
    case ImageFormat::Unknown:
        break;
    }
    return makeError(ErrorKind::Image, _("the data is not a PNG, JPEG or WebP image"));
}

namespace {
struct PngWriteState {
    std::string* out;
};
void pngWrite(png_structp png, png_bytep data, png_size_t length) {
    auto* state = static_cast<PngWriteState*>(png_get_io_ptr(png));
    state->out->append(reinterpret_cast<const char*>(data), length);
}
void pngFlush(png_structp /*png*/) {}
} // namespace

static Status checkEncodable(const RgbaImage& image) {
    if (image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != static_cast<size_t>(image.width) * image.height * 4) {
        return makeError(ErrorKind::Image, _("cannot encode an empty image"));
    }
    return Ok{};
}

static bool encodePngInto(const RgbaImage& image, int level, std::string* out, std::string* error) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
    if (info == nullptr) {
        png_destroy_write_struct(&png, nullptr);
        *error = _("out of memory while encoding a PNG");
        return false;
    }
    PngWriteState state{out};
    if (setjmp(png_jmpbuf(png)) != 0) { // NOLINT(cert-err52-cpp): libpng's error path
        png_destroy_write_struct(&png, &info);
        *error = _("the PNG could not be encoded");
        return false;
    }
    png_set_write_fn(png, &state, pngWrite, pngFlush);
    png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
                 static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGB_ALPHA,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, level);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_write_info(png, info);
    for (int y = 0; y < image.height; ++y) {
        png_write_row(png, image.at(0, y));
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return true;
}

Result<std::string> encodePng(const RgbaImage& image, int compressionLevel) {
    if (auto s = checkEncodable(image); !s) {
        return s.error();
    }
    std::string out;
    out.reserve(image.pixels.size() / 2);
    std::string error;
    if (!encodePngInto(image, compressionLevel, &out, &error)) {
        return makeError(ErrorKind::Image, error);
    }
    return out;
}

// Kept free of C++ objects with destructors between setjmp and longjmp. Rows go in as RGBA
// (libjpeg-turbo's JCS_EXT_RGBX ignores the fourth byte), so no copy without alpha is made.
static bool encodeJpegInto(const RgbaImage& image, int quality, unsigned char** data,
                           unsigned long* size, std::string* error) {
    jpeg_compress_struct info{};
    JpegErrorManager manager;
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = jpegErrorExit;
    if (setjmp(manager.jump) != 0) { // NOLINT(cert-err52-cpp)
        jpeg_destroy_compress(&info);
        // jpeg_mem_dest hands its buffer back only when it finishes: once the buffer has grown,
        // *data points at one already freed. Nothing is freed on this path (it is reached only
        // when libjpeg itself fails, out of memory); a double free would be worse than that leak.
        *data = nullptr;
        *error = textf(_("the JPEG could not be encoded: %s"), manager.message);
        return false;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, data, size);
    info.image_width = static_cast<JDIMENSION>(image.width);
    info.image_height = static_cast<JDIMENSION>(image.height);
    info.input_components = 4;
    info.in_color_space = JCS_EXT_RGBX;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    // 4:4:4: chroma subsampling costs most of the loss on edges of colour for little size.
    for (int c = 0; c < info.num_components; ++c) {
        info.comp_info[c].h_samp_factor = 1;
        info.comp_info[c].v_samp_factor = 1;
    }
    info.dct_method = JDCT_ISLOW;
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        // libjpeg takes rows as non-const; it only reads them.
        auto* row = const_cast<JSAMPROW>(image.at(0, static_cast<int>(info.next_scanline)));
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    return true;
}

Result<std::string> encodeJpeg(const RgbaImage& image, int quality) {
    if (auto s = checkEncodable(image); !s) {
        return s.error();
    }
    unsigned char* data = nullptr;
    unsigned long size = 0;
    std::string error;
    const bool ok = encodeJpegInto(image, std::clamp(quality, 1, 100), &data, &size, &error);
    // jpeg_mem_dest's buffer is malloc'd by libjpeg and ours to free once it has finished.
    const std::unique_ptr<unsigned char, decltype(&std::free)> owned(data, &std::free);
    if (!ok) {
        return makeError(ErrorKind::Image, error);
    }
    return std::string(reinterpret_cast<const char*>(data), size);
}

Result<std::string> encodeWebP(const RgbaImage& image, int quality) {
    if (auto s = checkEncodable(image); !s) {
        return s.error();
    }
    uint8_t* data = nullptr;
    const size_t size = WebPEncodeRGBA(image.pixels.data(), image.width, image.height,
                                       image.width * 4, static_cast<float>(quality), &data);
    const std::unique_ptr<uint8_t, decltype(&WebPFree)> owned(data, &WebPFree);
    if (size == 0) {
        return makeError(ErrorKind::Image, _("the WebP could not be encoded"));
    }
    return std::string(reinterpret_cast<const char*>(data), size);
}

bool isOpaque(const RgbaImage& image) {
    for (size_t i = 3; i < image.pixels.size(); i += 4) {
        if (image.pixels[i] != 255) {
            return false;
        }
    }
    return true;
}

} // namespace imagegen
