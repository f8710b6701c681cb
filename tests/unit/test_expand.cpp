// Generative Expand's planner: the tiles of one API size that paint the new border, and the
// canvas they are built on.
#include "core/pixels/expand.h"
#include "test_util.h"

#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

namespace {

struct PlanCase {
    const char* name;
    Size canvas;
    Margins margins;
    size_t tiles; // how many the plan has
};

const PlanCase kPlanCases[] = {
    {"one-side", {800, 600}, {0, 0, 300, 0}, 1},
    {"four-sides", {800, 600}, {100, 80, 100, 80}, 1},
    {"wide-border", {640, 480}, {0, 0, 2000, 0}, 3},
    {"tall-and-wide", {1500, 1200}, {700, 50, 700, 600}, 6},
    {"small-canvas", {40, 30}, {5, 0, 0, 7}, 1},
};

// Every border pixel lies in some tile; no pixel of the original is in the border.
void checkCovered(const ExpandPlan& plan) {
    std::vector<uint8_t> covered(static_cast<size_t>(plan.canvas.width) * plan.canvas.height, 0);
    for (const Rect& t : plan.tiles) {
        const Rect on = intersect(t, {0, 0, plan.canvas.width, plan.canvas.height});
        for (int y = on.y; y < on.bottom(); ++y) {
            for (int x = on.x; x < on.right(); ++x) {
                covered[static_cast<size_t>(y) * plan.canvas.width + x] = 1;
            }
        }
    }
    int missing = 0;
    for (int y = 0; y < plan.canvas.height; ++y) {
        for (int x = 0; x < plan.canvas.width; ++x) {
            if (inBorder(plan, x, y) &&
                covered[static_cast<size_t>(y) * plan.canvas.width + x] == 0) {
                ++missing;
            }
        }
    }
    g_assert_cmpint(missing, ==, 0);
}

// Each tile has context: it overlaps the original, or a tile done before it by at least the
// overlap; the first overlaps the original.
void checkContext(const ExpandPlan& plan) {
    for (size_t i = 0; i < plan.tiles.size(); ++i) {
        const Rect t = plan.tiles[i];
        bool context = !intersect(t, plan.original).empty();
        for (size_t j = 0; j < i && !context; ++j) {
            const Rect shared = intersect(t, plan.tiles[j]);
            context = !shared.empty() &&
                      std::min(shared.width, shared.height) >= std::min(plan.overlap, 1);
        }
        if (i == 0) {
            g_assert_false(intersect(t, plan.original).empty());
        }
        g_assert_true(context);
        g_assert_cmpint(t.width, ==, plan.apiSize.width);
        g_assert_cmpint(t.height, ==, plan.apiSize.height);
        // Every tile starts on the canvas and holds some border.
        g_assert_cmpint(t.x, >=, 0);
        g_assert_cmpint(t.y, >=, 0);
    }
}

void testPlan(gconstpointer data) {
    const auto* c = static_cast<const PlanCase*>(data);
    auto plan = planExpand(c->canvas, c->margins, {1024, 1024});
    if (!assertOk(plan)) {
        return;
    }
    g_assert_cmpint(plan->canvas.width, ==, c->canvas.width + c->margins.left + c->margins.right);
    g_assert_cmpint(plan->canvas.height, ==, c->canvas.height + c->margins.top + c->margins.bottom);
    g_assert_true(plan->original ==
                  (Rect{c->margins.left, c->margins.top, c->canvas.width, c->canvas.height}));
    g_assert_cmpuint(plan->tiles.size(), ==, c->tiles);
    checkCovered(*plan);
    checkContext(*plan);
}

// One side: the tile reaches as far into the picture as the border leaves room for.
void testOneSideContext() {
    auto plan = planExpand({800, 600}, {0, 0, 300, 0}, {1024, 1024});
    if (!assertOk(plan)) {
        return;
    }
    g_assert_true(plan->tiles.front() == (Rect{76, 0, 1024, 1024}));
}

// A border wider than the largest API size: tiles march outward, neighbours overlapping.
void testWideBorderOverlaps() {
    auto plan = planExpand({640, 480}, {0, 0, 2000, 0}, {1536, 1024});
    if (!assertOk(plan)) {
        return;
    }
    g_assert_cmpuint(plan->tiles.size(), >=, 2);
    g_assert_cmpint(plan->overlap, ==, 128);
    for (size_t i = 1; i < plan->tiles.size(); ++i) {
        g_assert_cmpint(plan->tiles[i].x, >, plan->tiles[i - 1].x);
        g_assert_cmpint(intersect(plan->tiles[i], plan->tiles[i - 1]).width, >=, plan->overlap);
    }
    checkCovered(*plan);
}

void testRefusals() {
    const Size canvas{800, 600};
    const Size tile{1024, 1024};
    assertEq(assertFails(planExpand(canvas, {}, tile), ErrorKind::InvalidRequest).param, "left");
    assertEq(assertFails(planExpand(canvas, {0, -5, 10, 0}, tile), ErrorKind::InvalidRequest).param,
             "top");
    assertFails(planExpand(canvas, {0, 0, kMaxCanvasSide, 0}, tile), ErrorKind::InvalidRequest);
    // Too many tiles for one run.
    assertFails(planExpand(canvas, {0, 0, 60000, 60000}, tile), ErrorKind::InvalidRequest);
    // Millions of small tiles are refused by their count, before any is made (this would take
    // gigabytes if they were made first).
    const Error many = assertFails(planExpand({100, 100}, {262000, 262000, 262000, 262000},
                                              {kMinExpandTileSide, kMinExpandTileSide}),
                                   ErrorKind::InvalidRequest);
    assertContains(many.message, "more than the 64 one run may send");
}

void testTileSize() {
    auto chosen = expandTileSize(model("gpt-image-1"), "");
    if (assertOk(chosen)) {
        assertEq(formatSize(*chosen), "1024x1024");
    }
    chosen = expandTileSize(model("gpt-image-1"), "1536x1024");
    if (assertOk(chosen)) {
        assertEq(formatSize(*chosen), "1536x1024");
    }
    assertFails(expandTileSize(model("gpt-image-1"), "333x333"), ErrorKind::InvalidRequest);
    assertFails(expandTileSize(model("dall-e-3"), ""), ErrorKind::InvalidRequest);
    // A free size too small to tile with (gpt-image-2 takes 16x16).
    assertFails(expandTileSize(model("gpt-image-2"), "16x16"), ErrorKind::InvalidRequest);
    if (auto free = expandTileSize(model("gpt-image-2"), "512x512"); assertOk(free)) {
        assertEq(formatSize(*free), "512x512");
    }
}

// The canvas: the original at its offset; the first tile repaints only the empty border; once
// filled, the border is kept for the next tile; the layer's mask is the border alone.
void testCanvas() {
    auto plan = planExpand({4, 3}, {2, 0, 0, 1}, {8, 8});
    if (!assertOk(plan)) {
        return;
    }
    RgbaImage original(4, 3);
    std::fill(original.pixels.begin(), original.pixels.end(), 200);
    ExpandCanvas canvas(*plan, original);
    const Rect tile = plan->tiles.front();
    auto coverage = canvas.coverageUnder(tile);
    auto under = canvas.pixelsUnder(tile);
    g_assert_cmpint(coverage[0], ==, 255);                      // border (0, 0)
    g_assert_cmpint(coverage[2], ==, 0);                        // original (2, 0)
    g_assert_cmpint(coverage[static_cast<size_t>(7)], ==, 255); // past the canvas
    g_assert_cmpint(under.at(2, 0)[0], ==, 200);
    g_assert_cmpint(under.at(0, 0)[3], ==, 0);
    RgbaImage result(8, 8);
    std::fill(result.pixels.begin(), result.pixels.end(), 90);
    canvas.fill(tile, result);
    g_assert_cmpint(canvas.coverageUnder(tile)[0], ==, 0);
    const RgbaImage layer = canvas.borderLayer();
    g_assert_cmpint(layer.at(0, 0)[0], ==, 90);
    g_assert_cmpint(layer.at(2, 0)[3], ==, 0); // the layer holds no copy of the original
    g_assert_cmpint(canvas.pixelsUnder(tile).at(2, 0)[0], ==, 200); // which is never replaced
    const auto mask = canvas.borderMask();
    g_assert_cmpint(mask[0], ==, 255);
    g_assert_cmpint(mask[2], ==, 0);
    g_assert_cmpint(mask[static_cast<size_t>(3) * 6 + 2], ==, 255); // bottom border
}

// A later tile cross-fades into the earlier one over half the overlap, next to what it paints,
// and takes the empty border as it is; the original is never touched.
void testTilesFeather() {
    auto plan = planExpand({10, 8}, {0, 0, 150, 0}, {64, 64});
    if (!assertOk(plan) || !assertSize(plan->tiles, 3)) {
        return;
    }
    g_assert_cmpint(plan->overlap, ==, 8);
    RgbaImage original(10, 8);
    std::fill(original.pixels.begin(), original.pixels.end(), 30);
    ExpandCanvas canvas(*plan, original);
    auto flat = [](uint8_t v) {
        RgbaImage image(64, 64);
        std::fill(image.pixels.begin(), image.pixels.end(), v);
        return image;
    };
    canvas.fill(plan->tiles[0], flat(90));  // x 10..63
    canvas.fill(plan->tiles[1], flat(200)); // x 56..119, new from 64
    const RgbaImage layer = canvas.borderLayer();
    g_assert_cmpint(canvas.pixelsUnder(plan->tiles[0]).at(5, 3)[0], ==, 30); // the original
    g_assert_cmpint(layer.at(59, 3)[0], ==, 90);  // 5 px from the new pixels: past the feather
    g_assert_cmpint(layer.at(63, 3)[0], ==, 173); // 1 px: 3/4 of the way to the later tile
    g_assert_cmpint(layer.at(62, 3)[0], ==, 145); // 2 px: half
    g_assert_cmpint(layer.at(64, 3)[0], ==, 200); // the later tile's own
}

struct AspectCase {
    const char* name;
    Size canvas;
    int ratioWidth;
    int ratioHeight;
    ExpandAnchor anchor;
    Margins expected;
};

const AspectCase kAspectCases[] = {
    // 300 × 16 / 9 = 533.3: 534 wide, 134 more, split in the middle.
    {"16-9-centred", {400, 300}, 16, 9, ExpandAnchor::Centre, {67, 0, 67, 0}},
    {"16-9-start", {400, 300}, 16, 9, ExpandAnchor::Start, {0, 0, 134, 0}},
    {"16-9-end", {400, 300}, 16, 9, ExpandAnchor::End, {134, 0, 0, 0}},
    // Taller: 400 × 5 / 4 = 500 high.
    {"4-5-centred", {400, 300}, 4, 5, ExpandAnchor::Centre, {0, 100, 0, 100}},
    {"odd-split", {401, 300}, 1, 1, ExpandAnchor::Centre, {0, 50, 0, 51}},
    {"portrait-to-square", {300, 400}, 1, 1, ExpandAnchor::Start, {0, 0, 100, 0}},
    {"already-16-9", {1920, 1080}, 16, 9, ExpandAnchor::Centre, {}},
    // One row short of 16:9 (a canvas an earlier 16:9 expand rounded): no 1-pixel border.
    {"nearly-16-9", {1920, 1079}, 16, 9, ExpandAnchor::Centre, {}},
    {"nearly-16-9-end", {1920, 1065}, 16, 9, ExpandAnchor::End, {}},
    // 20 rows to add, centred: one border of 20 rather than two of 10.
    {"too-narrow-to-split", {400, 280}, 4, 3, ExpandAnchor::Centre, {0, 0, 0, 20}},
    // GIMP's widest canvas: the arithmetic must not overflow 32 bits.
    {"widest-canvas", {524288, 2}, 1, 1, ExpandAnchor::Start, {0, 0, 0, 524286}},
    {"no-ratio", {400, 300}, 0, 9, ExpandAnchor::Centre, {}},
};

void testMarginsForAspect(gconstpointer data) {
    const auto* c = static_cast<const AspectCase*>(data);
    const Margins m = marginsForAspect(c->canvas, c->ratioWidth, c->ratioHeight, c->anchor);
    g_assert_cmpint(m.left, ==, c->expected.left);
    g_assert_cmpint(m.top, ==, c->expected.top);
    g_assert_cmpint(m.right, ==, c->expected.right);
    g_assert_cmpint(m.bottom, ==, c->expected.bottom);
}

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    for (const auto& c : kPlanCases) {
        g_test_add_data_func((std::string("/expand/plan/") + c.name).c_str(), &c, testPlan);
    }
    g_test_add_func("/expand/plan/one-side-context", testOneSideContext);
    g_test_add_func("/expand/plan/wide-border-overlaps", testWideBorderOverlaps);
    for (const AspectCase& c : kAspectCases) {
        g_test_add_data_func((std::string("/expand/margins-for-aspect/") + c.name).c_str(), &c,
                             testMarginsForAspect);
    }
    g_test_add_func("/expand/refusals", testRefusals);
    g_test_add_func("/expand/tile-size", testTileSize);
    g_test_add_func("/expand/canvas", testCanvas);
    g_test_add_func("/expand/tiles-feather", testTilesFeather);
    return g_test_run();
}
