#include "support/fixtures.h"

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <jpeglib.h>

namespace imagegen::test {

std::string encodeJpeg(const RgbaImage& image, int quality) {
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
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        auto* row = const_cast<uint8_t*>(image.at(0, static_cast<int>(info.next_scanline)));
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    std::string bytes(reinterpret_cast<char*>(out), size);
    free(out); // NOLINT(cppcoreguidelines-no-malloc): allocated by jpeg_mem_dest
    return bytes;
}

std::string pngHeaderClaiming(uint32_t width, uint32_t height) {
    std::string png("\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[17] = {'I', 'H', 'D', 'R'};
    auto put = [](unsigned char* p, uint32_t v) {
        p[0] = static_cast<unsigned char>(v >> 24);
        p[1] = static_cast<unsigned char>(v >> 16);
        p[2] = static_cast<unsigned char>(v >> 8);
        p[3] = static_cast<unsigned char>(v);
    };
    put(ihdr + 4, width);
    put(ihdr + 8, height);
    ihdr[12] = 8; // bit depth
    ihdr[13] = 6; // RGBA
    unsigned char length[4];
    unsigned char crc[4];
    put(length, 13);
    put(crc, static_cast<uint32_t>(crc32(0, ihdr, 17)));
    png.append(reinterpret_cast<char*>(length), 4);
    png.append(reinterpret_cast<char*>(ihdr), 17);
    png.append(reinterpret_cast<char*>(crc), 4);
    return png;
}

} // namespace imagegen::test
