// Region and mask maths: context, aspect, size choice, scaling, masks and feathering.
#include "core/pixels/region.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

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

// Context at the edges of its range: computed before any conversion to whole pixels, so that a
// vast context is the whole canvas (1e308 sent none, 21474836.48 "the area to edit is empty",
// 42949673 a 108x108 region: the padding wrapped around), and no number is no context.
static void testContextRegionEdges() {
    const Rect selection{400, 300, 100, 100};
    const Size canvas{1000, 800};
    const Rect whole{0, 0, 1000, 800};
    g_assert_true(contextRegion(selection, 0.0, canvas) == selection);
    g_assert_true(contextRegion(selection, -0.0, canvas) == selection);
    g_assert_true(contextRegion(selection, std::nan(""), canvas) == selection);
    for (const double vast : {1e308, std::numeric_limits<double>::max(), 21474836.48, 42949673.0,
                              std::numeric_limits<double>::infinity()}) {
        g_assert_true(contextRegion(selection, vast, canvas) == whole);
    }
    // GIMP's largest canvas: a padding of the canvas's side on each side stays within int.
    g_assert_true(contextRegion({0, 0, 524288, 524288}, 1e308, {524288, 524288}) ==
                  (Rect{0, 0, 524288, 524288}));
}

// Where a part of a region lands in the image the region is scaled to: whole pixels, inside it,
// at least one a side however thin the part.
static void testScaledPart() {
    const Rect region{-100, -200, 400, 600};
    g_assert_true(scaledPart(region, region, {200, 300}) == (Rect{0, 0, 200, 300}));
    g_assert_true(scaledPart({0, 0, 200, 200}, region, {200, 300}) == (Rect{50, 100, 100, 100}));
    // A one-pixel strip of a 262144-wide region at 1536 wide: still one pixel tall.
    const Rect thin = scaledPart({0, 0, 262144, 1}, {0, -87381, 262144, 174763}, {1536, 1024});
    g_assert_true(thin == (Rect{0, 512, 1536, 1}));
}

static void testCropAndPlace() {
    RgbaImage image(4, 3);
    image.at(2, 1)[0] = 200;
    const RgbaImage part = crop(image, {1, 1, 2, 2});
    g_assert_cmpint(part.width, ==, 2);
    g_assert_cmpint(part.at(1, 0)[0], ==, 200);
    const RgbaImage placed = placedOn(part, {5, 5}, {3, 2, 2, 2});
    g_assert_cmpint(placed.at(4, 2)[0], ==, 200);
    g_assert_cmpint(placed.at(0, 0)[3], ==, 0);
}

// The size chosen, as "WxH", or the error's kind.
static std::string chosen(const Result<Size>& s) {
    return s ? formatSize(*s) : std::string("error ") + errorKindName(s.error().kind);
}

static void testChooseApiSize() {
    const ModelCaps& gpt = model("gpt-image-1");
    assertEq(chosen(chooseApiSize(gpt, "auto", {3000, 2000})), "1536x1024");
    assertEq(chosen(chooseApiSize(gpt, "", {2000, 3000})), "1024x1536");
    assertEq(chosen(chooseApiSize(gpt, "auto", {1000, 1100})), "1024x1024");
    assertEq(chosen(chooseApiSize(gpt, "1024x1536", {3000, 2000})), "1024x1536");
    assertFails(chooseApiSize(gpt, "1792x1024", {100, 100}), ErrorKind::InvalidRequest);
    assertEq(chosen(chooseApiSize(model("dall-e-3"), "auto", {1900, 1000})), "1792x1024");
    // dall-e-2's three squares: the smallest that covers the region, else the largest (it once
    // took 256x256 for every region and enlarged it).
    assertEq(chosen(chooseApiSize(model("dall-e-2"), "", {1900, 1000})), "1024x1024");
    assertEq(chosen(chooseApiSize(model("dall-e-2"), "", {460, 460})), "512x512");
    assertEq(chosen(chooseApiSize(model("dall-e-2"), "", {200, 150})), "256x256");
    assertFails(chooseApiSize(gpt, "auto", {0, 10}), ErrorKind::InvalidRequest);
}

static const Size kFreeSizeRegions[] = {
    {1600, 900}, {300, 200}, {5000, 1000}, {8000, 6000}, {123, 457}};

// A free-size model keeps the region's own aspect, in multiples of 16, within its limits.
static void testFreeSizeKeepsAspect(gconstpointer data) {
    const Size region = *static_cast<const Size*>(data);
    const ModelCaps& free = model("gpt-image-2");
    auto s = chooseApiSize(free, "auto", region);
    if (!assertOk(s)) {
        return;
    }
    g_assert_cmpint(s->width % 16, ==, 0);
    g_assert_cmpint(s->height % 16, ==, 0);
    g_assert_true(free.offersSize(formatSize(*s)));
    const double want =
        std::clamp(static_cast<double>(region.width) / region.height, 1.0 / 3.0, 3.0);
    g_assert_cmpfloat(std::fabs(static_cast<double>(s->width) / s->height / want - 1.0), <, 0.03);
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

static const Size kFlatResizeSizes[] = {{17, 11}, {160, 90}, {40, 30}};

// A flat colour stays that colour at every size: down, up and the same.
static void testResizeKeepsFlatColour(gconstpointer data) {
    const Size s = *static_cast<const Size*>(data);
    RgbaImage flat(40, 30);
    for (size_t i = 0; i < flat.pixels.size(); i += 4) {
        flat.pixels[i] = 10;
        flat.pixels[i + 1] = 200;
        flat.pixels[i + 2] = 77;
        flat.pixels[i + 3] = 255;
    }
    RgbaImage out = resize(flat, s.width, s.height);
    g_assert_cmpint(out.width, ==, s.width);
    g_assert_cmpint(out.height, ==, s.height);
    for (size_t i = 0; i < out.pixels.size(); i += 4) {
        // One report for the image, not one per pixel.
        if (out.pixels[i] != 10 || out.pixels[i + 1] != 200 || out.pixels[i + 2] != 77 ||
            out.pixels[i + 3] != 255) {
            fail(IMAGEGEN_TEST_HERE,
                 "pixel " + std::to_string(i / 4) + " is not the flat colour 10,200,77,255");
            return;
        }
    }
}

static void testResizeIgnoresTransparentColour() {
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
    if (out.width != 37 || out.height != 19) {
        fail(IMAGEGEN_TEST_HERE, "resize(half, 37, 19) is " + std::to_string(out.width) + "x" +
                                     std::to_string(out.height));
        return;
    }
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
    if (!assertSize(mask.pixels, 4 * 2 * 4)) {
        return;
    }
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
    if (!assertSize(big.pixels, 8 * 4 * 4)) {
        return;
    }
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
    if (!assertSize(soft, coverage.size())) {
        return;
    }
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
    init(&argc, &argv);
    g_test_add_func("/region/context", testContextRegion);
    g_test_add_func("/region/context/edges", testContextRegionEdges);
    g_test_add_func("/region/scaled-part", testScaledPart);
    g_test_add_func("/region/crop-and-place", testCropAndPlace);
    g_test_add_func("/region/choose-api-size", testChooseApiSize);
    for (const auto& region : kFreeSizeRegions) {
        g_test_add_data_func(("/region/choose-api-size/free/" + formatSize(region)).c_str(),
                             &region, testFreeSizeKeepsAspect);
    }
    g_test_add_func("/region/widen-to-aspect", testWidenToAspect);
    for (const auto& size : kFlatResizeSizes) {
        g_test_add_data_func(("/region/resize/flat-colour/" + formatSize(size)).c_str(), &size,
                             testResizeKeepsFlatColour);
    }
    g_test_add_func("/region/resize/transparent-colour-does-not-bleed",
                    testResizeIgnoresTransparentColour);
    g_test_add_func("/region/api-mask", testApiMask);
    g_test_add_func("/region/feather-inward", testFeatherInward);
    return g_test_run();
}
