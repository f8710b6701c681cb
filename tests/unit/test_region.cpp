// Region and mask maths: context, aspect, size choice, scaling, masks and feathering.
#include "core/region.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>

using namespace imagegen;
using namespace imagegen::test;

static void testContextRegion() {
    // 100x50 selection, 10 % context = 10 px each side.
    Rect r = contextRegion({200, 300, 100, 50}, 0.1, {1000, 1000});
    g_assert_true(r == (Rect{190, 290, 120, 70}));
    // Clamped to the canvas.
    r = contextRegion({0, 10, 100, 50}, 0.5, {120, 1000});
    g_assert_true(r == (Rect{0, 0, 120, 110}));
    g_assert_true(contextRegion({5, 5, 10, 10}, 0.0, {100, 100}) == (Rect{5, 5, 10, 10}));
}

static void testChooseApiSize() {
    const ModelCaps& gpt = model("gpt-image-1");
    g_assert_true(*chooseApiSize(gpt, "auto", {3000, 2000}) == (Size{1536, 1024}));
    g_assert_true(*chooseApiSize(gpt, "", {2000, 3000}) == (Size{1024, 1536}));
    g_assert_true(*chooseApiSize(gpt, "auto", {1000, 1100}) == (Size{1024, 1024}));
    g_assert_true(*chooseApiSize(gpt, "1024x1536", {3000, 2000}) == (Size{1024, 1536}));
    assertFails(chooseApiSize(gpt, "1792x1024", {100, 100}), ErrorKind::InvalidRequest);
    g_assert_true(*chooseApiSize(model("dall-e-3"), "auto", {1900, 1000}) == (Size{1792, 1024}));
    g_assert_true(*chooseApiSize(model("dall-e-2"), "", {1900, 1000}) == (Size{256, 256}));

    // A free-size model keeps the region's own aspect, in multiples of 16, within its limits.
    const ModelCaps& free = model("gpt-image-2");
    for (Size region :
         {Size{1600, 900}, Size{300, 200}, Size{5000, 1000}, Size{8000, 6000}, Size{123, 457}}) {
        auto s = chooseApiSize(free, "auto", region);
        assertOk(s);
        g_assert_cmpint(s->width % 16, ==, 0);
        g_assert_cmpint(s->height % 16, ==, 0);
        g_assert_true(free.offersSize(formatSize(*s)));
        const double want =
            std::clamp(static_cast<double>(region.width) / region.height, 1.0 / 3.0, 3.0);
        g_assert_cmpfloat(std::fabs(static_cast<double>(s->width) / s->height / want - 1.0), <,
                          0.03);
    }
    assertFails(chooseApiSize(gpt, "auto", {0, 10}), ErrorKind::InvalidRequest);
}

static void testWidenToAspect() {
    // 100x100 to 3:2 on a large canvas: widened around the centre.
    Rect r = widenToAspect({500, 500, 100, 100}, {1536, 1024}, {2000, 2000});
    g_assert_true(r == (Rect{475, 500, 150, 100}));
    // At the left edge: slides right instead of leaving the canvas.
    r = widenToAspect({0, 500, 100, 100}, {1536, 1024}, {2000, 2000});
    g_assert_true(r == (Rect{0, 500, 150, 100}));
    // Taller: grows down and up.
    r = widenToAspect({500, 500, 100, 100}, {1024, 1536}, {2000, 2000});
    g_assert_true(r == (Rect{500, 475, 100, 150}));
    // The canvas is too narrow: the region reaches past it, centred, still holding the original.
    r = widenToAspect({0, 0, 100, 300}, {1536, 1024}, {100, 300});
    g_assert_true(r == (Rect{-175, 0, 450, 300}));
    g_assert_true(intersect(r, {0, 0, 100, 300}) == (Rect{0, 0, 100, 300}));
}

static void testResizeKeepsFlatColourAndIgnoresTransparentColour() {
    RgbaImage flat(40, 30);
    for (size_t i = 0; i < flat.pixels.size(); i += 4) {
        flat.pixels[i] = 10;
        flat.pixels[i + 1] = 200;
        flat.pixels[i + 2] = 77;
        flat.pixels[i + 3] = 255;
    }
    for (Size s : {Size{17, 11}, Size{160, 90}, Size{40, 30}}) {
        RgbaImage out = resize(flat, s.width, s.height);
        g_assert_cmpint(out.width, ==, s.width);
        for (size_t i = 0; i < out.pixels.size(); i += 4) {
            g_assert_cmpint(out.pixels[i], ==, 10);
            g_assert_cmpint(out.pixels[i + 1], ==, 200);
            g_assert_cmpint(out.pixels[i + 2], ==, 77);
            g_assert_cmpint(out.pixels[i + 3], ==, 255);
        }
    }
    // Left half opaque red, right half transparent *green*: no green may bleed into the result.
    RgbaImage half(20, 10);
    for (int y = 0; y < 10; ++y) {
        for (int x = 0; x < 20; ++x) {
            uint8_t* p = half.at(x, y);
            p[0] = x < 10 ? 255 : 0;
            p[1] = x < 10 ? 0 : 255;
            p[3] = x < 10 ? 255 : 0;
        }
    }
    RgbaImage out = resize(half, 37, 19);
    for (int y = 0; y < 19; ++y) {
        for (int x = 0; x < 37; ++x) {
            const uint8_t* p = out.at(x, y);
            if (p[3] > 8) {
                g_assert_cmpint(p[1], <=, 2);
            }
        }
    }
}

static void testApiMask() {
    // 4x2 region: left column selected, one pixel transparent in the source, rest kept.
    std::vector<uint8_t> coverage = {255, 0, 0, 128, 255, 0, 0, 0};
    RgbaImage source(4, 2);
    for (size_t i = 0; i < source.pixels.size(); i += 4) {
        source.pixels[i + 3] = 255;
    }
    source.at(2, 1)[3] = 0;
    RgbaImage mask = buildApiMask(coverage, source, {4, 2});
    auto alpha = [&](int x, int y) {
        return mask.at(x, y)[3];
    };
    g_assert_cmpint(alpha(0, 0), ==, 0);   // selected
    g_assert_cmpint(alpha(1, 0), ==, 255); // kept
    g_assert_cmpint(alpha(3, 0), ==, 127); // half selected
    g_assert_cmpint(alpha(0, 1), ==, 0);
    g_assert_cmpint(alpha(2, 1), ==, 0); // transparent in the source: part of the edit area
    g_assert_cmpint(mask.at(1, 0)[0], ==, 0);
    // Scaled to the API size.
    RgbaImage big = buildApiMask(coverage, source, {8, 4});
    g_assert_cmpint(big.width, ==, 8);
    g_assert_cmpint(big.at(0, 0)[3], ==, 0);
    g_assert_cmpint(big.at(3, 0)[3], ==, 255);
}

static void testFeatherInward() {
    const int w = 41;
    const int h = 41;
    std::vector<uint8_t> coverage(static_cast<size_t>(w) * h, 0);
    for (int y = 10; y <= 30; ++y) {
        for (int x = 10; x <= 30; ++x) {
            coverage[static_cast<size_t>(y) * w + x] = 255;
        }
    }
    auto soft = featherInward(coverage, w, h, 5.0);
    auto at = [&](int x, int y) {
        return soft[static_cast<size_t>(y) * w + x];
    };
    for (size_t i = 0; i < coverage.size(); ++i) {
        if (coverage[i] == 0) {
            g_assert_cmpint(soft[i], ==, 0); // never outside the selection
        }
        g_assert_cmpint(soft[i], <=, coverage[i]);
    }
    g_assert_cmpint(at(20, 20), ==, 255); // the middle is untouched
    g_assert_cmpint(at(15, 20), ==, 255); // 6 px in: past the feather
    g_assert_cmpint(at(10, 20), ==, 51);  // 1 px from outside: 1/5
    g_assert_cmpint(at(12, 20), ==, 153); // 3/5
    g_assert_true(featherInward(coverage, w, h, 0.0) == coverage);
    // A selection covering the whole region has no inner edge to soften.
    std::vector<uint8_t> all(100, 255);
    g_assert_true(featherInward(all, 10, 10, 4.0) == all);
}

int main(int argc, char** argv) {
    g_test_init(&argc, &argv, nullptr);
    g_test_add_func("/region/context", testContextRegion);
    g_test_add_func("/region/choose-api-size", testChooseApiSize);
    g_test_add_func("/region/widen-to-aspect", testWidenToAspect);
    g_test_add_func("/region/resize", testResizeKeepsFlatColourAndIgnoresTransparentColour);
    g_test_add_func("/region/api-mask", testApiMask);
    g_test_add_func("/region/feather-inward", testFeatherInward);
    return g_test_run();
}
