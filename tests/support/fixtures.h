// Image bytes that tests and the emulator make beyond what the core encodes: a PNG header that
// claims any size.
#pragma once

#include "core/pixels/codec.h"

#include <cstdint>
#include <string>

namespace imagegen::test {

// A PNG signature and IHDR (8-bit RGBA, valid CRC) claiming width x height, with no pixel data.
std::string pngHeaderClaiming(uint32_t width, uint32_t height);

} // namespace imagegen::test
