// The host moves mask bytes of 8-bit images without GEGL, converting linear "Y u8" and gamma
// "Y' u8" with core/pixels/srgb.h: every one of the 256 values of both directions must be what babl
// itself gives, or masks would differ from the GEGL path's by a level.
#include "core/pixels/srgb.h"
#include "test_util.h"

#include <babl/babl.h>

using namespace imagegen;

static void convertAll(const char* from, const char* to, uint8_t (*ours)(int)) {
    uint8_t in[256];
    uint8_t out[256];
    for (int i = 0; i < 256; ++i) {
        in[i] = static_cast<uint8_t>(i);
    }
    babl_process(babl_fish(babl_format(from), babl_format(to)), in, out, 256);
    int differ = 0;
    for (int i = 0; i < 256; ++i) {
        if (out[i] != ours(i)) {
            g_test_message("%s -> %s: %d gives %d, babl %d", from, to, i, ours(i), out[i]);
            ++differ;
        }
    }
    g_assert_cmpint(differ, ==, 0);
}

static uint8_t encode(int v) {
    return srgbEncode8(v);
}
static uint8_t decode(int v) {
    return srgbDecode8(v);
}

static void testLinearToGamma() {
    convertAll("Y u8", "Y' u8", encode);
}
static void testGammaToLinear() {
    convertAll("Y' u8", "Y u8", decode);
}

int main(int argc, char** argv) {
    imagegen::test::init(&argc, &argv);
    babl_init();
    g_test_add_func("/srgb/linear-to-gamma-as-babl", testLinearToGamma);
    g_test_add_func("/srgb/gamma-to-linear-as-babl", testGammaToLinear);
    const int status = g_test_run();
    babl_exit();
    return status;
}
