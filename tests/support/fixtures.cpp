#include "support/fixtures.h"

#include <zlib.h>

namespace imagegen::test {

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
