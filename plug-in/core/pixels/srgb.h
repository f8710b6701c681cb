// The sRGB transfer curve between 8-bit linear and 8-bit gamma-encoded values, as babl converts
// "Y u8" and "Y' u8" (GIMP's masks and the selection are linear; the run reads them as Y'). The
// host uses it where it moves mask bytes without GEGL; a unit test checks all 256 values of both
// directions against babl.
#pragma once

#include <cmath>
#include <cstdint>

namespace imagegen {

inline uint8_t srgbEncode8(int linear) {
    const double v = linear / 255.0;
    const double e = v <= 0.0031308 ? v * 12.92 : (1.055 * std::pow(v, 1.0 / 2.4)) - 0.055;
    return static_cast<uint8_t>(std::lround(std::fmin(std::fmax(e, 0.0), 1.0) * 255.0));
}

inline uint8_t srgbDecode8(int encoded) {
    const double v = encoded / 255.0;
    const double l = v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    return static_cast<uint8_t>(std::lround(std::fmin(std::fmax(l, 0.0), 1.0) * 255.0));
}

} // namespace imagegen
