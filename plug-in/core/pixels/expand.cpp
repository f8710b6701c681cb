#include "core/pixels/expand.h"

#include "core/util/i18n.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <tuple>
#include <utility>

namespace imagegen {

namespace {

// Where tiles start along one axis of `total` pixels, the original lying at [at, at + length):
// the chains that go outward from the original's edges (each first tile reaching `context`
// pixels into it), and the tiles across the rest of the original between them; neighbours share
// `overlap` pixels. Together they cover every pixel of [0, total).
struct AxisStarts {
    std::vector<int> outward; // over the border of this axis
    std::vector<int> middle;  // over the original alone
};

AxisStarts axisStarts(int total, int at, int length, int tile, int overlap, int context) {
    AxisStarts a;
    const bool border = at > 0 || at + length < total;
    if (total <= tile) {
        (border ? a.outward : a.middle).push_back(0);
        return a;
    }
    int cursor = 0; // covered up to here from the start, by the leading chain
    if (at > 0) {
        int s = std::min(std::max(0, at + context - tile), total - tile);
        a.outward.push_back(s);
        cursor = s + tile;
        while (s > 0) {
            s = std::max(0, s + overlap - tile);
            a.outward.push_back(s);
        }
    }
    int trailingStart = total; // from here on, the trailing chain covers
    if (at + length < total) {
        int s = std::max(0, std::min(total, at + length - context + tile) - tile);
        trailingStart = s;
        a.outward.push_back(s);
        while (s + tile < total) {
            s = std::min(total - tile, s + tile - overlap);
            a.outward.push_back(s);
        }
    }
    while (cursor < trailingStart) {
        const int s = std::min(total - tile, cursor > 0 ? cursor - overlap : 0);
        a.middle.push_back(s);
        cursor = s + tile;
    }
    return a;
}

// How far a tile lies from the original (0 when it overlaps it).
int gapTo(Rect tile, Rect original) {
    const int dx = std::max({0, original.x - tile.right(), tile.x - original.right()});
    const int dy = std::max({0, original.y - tile.bottom(), tile.y - original.bottom()});
    return dx + dy;
}

Error expandRefusal(const std::string& message, const char* param) {
    Error e = makeError(ErrorKind::InvalidRequest, message);
    e.param = param;
    return e;
}

Status checkMargins(Size canvas, Margins m) {
    if (m.left < 0 || m.top < 0 || m.right < 0 || m.bottom < 0) {
        return expandRefusal(textf(_("the margins cannot be negative (left %d, top %d, right %d, "
                                     "bottom %d)"),
                                   m.left, m.top, m.right, m.bottom),
                             m.left < 0    ? "left"
                             : m.top < 0   ? "top"
                             : m.right < 0 ? "right"
                                           : "bottom");
    }
    if (m.none()) {
        return expandRefusal(_("every margin is 0: nothing to expand (give left, top, right or "
                               "bottom in pixels)"),
                             "left");
    }
    const int64_t width = int64_t{canvas.width} + m.left + m.right;
    const int64_t height = int64_t{canvas.height} + m.top + m.bottom;
    if (width > kMaxCanvasSide || height > kMaxCanvasSide) {
        return expandRefusal(textf(_("the expanded canvas would be %lldx%lld pixels, past GIMP's "
                                     "largest image (%lld pixels a side)"),
                                   static_cast<long long>(width), static_cast<long long>(height),
                                   static_cast<long long>(kMaxCanvasSide)),
                             width > kMaxCanvasSide ? "right" : "bottom");
    }
    return Ok{};
}

} // namespace

Status checkBorderWidths(Margins m) {
    for (const auto& [name, margin] :
         {std::pair{"left", m.left}, {"top", m.top}, {"right", m.right}, {"bottom", m.bottom}}) {
        if (margin > 0 && margin < kMinExpandBorder) {
            // TRANSLATORS: the first %s is the parameter's name: left, top, right or bottom.
            return expandRefusal(
                textf(g_dngettext(GETTEXT_PACKAGE,
                                  "the %s margin is %d pixel: a border narrower than %d pixels is "
                                  "not worth a request, as each tile is charged in full; give 0 "
                                  "or at least %d",
                                  "the %s margin is %d pixels: a border narrower than %d pixels "
                                  "is not worth a request, as each tile is charged in full; give "
                                  "0 or at least %d",
                                  static_cast<unsigned long>(margin)),
                      name, margin, kMinExpandBorder, kMinExpandBorder),
                name);
        }
    }
    return Ok{};
}

Result<Size> expandTileSize(const ModelCaps& caps, const std::string& size) {
    if (!caps.edits) {
        return makeError(ErrorKind::InvalidRequest,
                         textf(_("%s cannot edit images, so it cannot expand one: choose "
                                 "gpt-image-1 or another model that edits"),
                               caps.name.c_str()));
    }
    if (!size.empty() && size != "auto") {
        auto parsed = parseSize(size);
        if (!parsed || !caps.offersSize(size) || parsed->width < kMinExpandTileSide ||
            parsed->height < kMinExpandTileSide) {
            Error e = makeError(ErrorKind::InvalidRequest,
                                textf(_("size %s is not one %s offers for expanding (tiles are "
                                        "at least %d pixels a side)"),
                                      size.c_str(), caps.name.c_str(),
                                      static_cast<int>(kMinExpandTileSide)));
            e.param = "size";
            return e;
        }
        return *parsed;
    }
    if (caps.offersSize("1024x1024") || caps.freeSizes) {
        return Size{1024, 1024};
    }
    Size largest;
    for (const std::string& s : caps.sizes) {
        auto parsed = parseSize(s);
        if (parsed &&
            int64_t{parsed->width} * parsed->height > int64_t{largest.width} * largest.height) {
            largest = *parsed;
        }
    }
    if (largest.width <= 0) {
        return makeError(ErrorKind::InvalidRequest,
                         textf(_("%s offers no fixed size to tile with"), caps.name.c_str()));
    }
    return largest;
}

namespace {

Error tooManyTiles(Size canvas, const ExpandPlan& plan, int64_t tiles) {
    return expandRefusal(
        textf(_("expanding %dx%d to %dx%d takes %lld tiles of %s, more than the %lld one run may "
                "send: expand in smaller steps"),
              canvas.width, canvas.height, plan.canvas.width, plan.canvas.height,
              static_cast<long long>(tiles), formatSize(plan.apiSize).c_str(),
              static_cast<long long>(kMaxExpandTiles)),
        "size");
}

} // namespace

Result<ExpandPlan> planExpand(Size canvas, Margins margins, Size apiSize) {
    if (auto valid = checkMargins(canvas, margins); !valid) {
        return valid.error();
    }
    ExpandPlan plan;
    plan.canvas = {canvas.width + margins.left + margins.right,
                   canvas.height + margins.top + margins.bottom};
    plan.original = {margins.left, margins.top, canvas.width, canvas.height};
    plan.apiSize = apiSize;
    plan.overlap = std::min(apiSize.width, apiSize.height) / 8;
    const int contextX = apiSize.width / 4;
    const int contextY = apiSize.height / 4;
    const auto xs = axisStarts(plan.canvas.width, margins.left, canvas.width, apiSize.width,
                               plan.overlap, contextX);
    const auto ys = axisStarts(plan.canvas.height, margins.top, canvas.height, apiSize.height,
                               plan.overlap, contextY);
    // The columns over the left and right borders take every row; the columns over the original
    // alone take the rows over the top and bottom borders.
    std::vector<int> allYs = ys.outward;
    allYs.insert(allYs.end(), ys.middle.begin(), ys.middle.end());
    // Counted before any tile is made: a small tile size on a wide border would otherwise fill
    // memory with tiles before the limit refuses them.
    const int64_t planned = static_cast<int64_t>(xs.outward.size()) * allYs.size() +
                            static_cast<int64_t>(xs.middle.size()) * ys.outward.size();
    if (planned > kMaxExpandTiles) {
        return tooManyTiles(canvas, plan, planned);
    }
    for (const int x : xs.outward) {
        for (const int y : allYs) {
            plan.tiles.push_back({x, y, apiSize.width, apiSize.height});
        }
    }
    for (const int x : xs.middle) {
        for (const int y : ys.outward) {
            plan.tiles.push_back({x, y, apiSize.width, apiSize.height});
        }
    }
    std::sort(plan.tiles.begin(), plan.tiles.end(), [](const Rect& a, const Rect& b) {
        return std::tuple(a.y, a.x) < std::tuple(b.y, b.x);
    });
    plan.tiles.erase(std::unique(plan.tiles.begin(), plan.tiles.end()), plan.tiles.end());
    std::stable_sort(plan.tiles.begin(), plan.tiles.end(), [&](const Rect& a, const Rect& b) {
        return std::tuple(gapTo(a, plan.original), a.y, a.x) <
               std::tuple(gapTo(b, plan.original), b.y, b.x);
    });
    return plan;
}

bool inBorder(const ExpandPlan& plan, int x, int y) {
    const Rect& o = plan.original;
    const bool onCanvas = x >= 0 && y >= 0 && x < plan.canvas.width && y < plan.canvas.height;
    const bool inOriginal = x >= o.x && y >= o.y && x < o.right() && y < o.bottom();
    return onCanvas && !inOriginal;
}

ExpandCanvas::ExpandCanvas(const ExpandPlan& plan, const RgbaImage& original)
    : plan_(plan), pixels_(plan.canvas.width, plan.canvas.height),
      filled_(static_cast<size_t>(plan.canvas.width) * plan.canvas.height, 0) {
    const Rect& o = plan.original;
    for (int y = 0; y < std::min(o.height, original.height); ++y) {
        for (int x = 0; x < std::min(o.width, original.width); ++x) {
            std::copy_n(original.at(x, y), 4, pixels_.at(o.x + x, o.y + y));
        }
    }
}

RgbaImage ExpandCanvas::pixelsUnder(Rect tile) const {
    RgbaImage out(tile.width, tile.height);
    const Rect on = intersect(tile, {0, 0, plan_.canvas.width, plan_.canvas.height});
    for (int y = on.y; y < on.bottom(); ++y) {
        for (int x = on.x; x < on.right(); ++x) {
            std::copy_n(pixels_.at(x, y), 4, out.at(x - tile.x, y - tile.y));
        }
    }
    return out;
}

std::vector<uint8_t> ExpandCanvas::coverageUnder(Rect tile) const {
    std::vector<uint8_t> out(static_cast<size_t>(tile.width) * tile.height, 0);
    for (int y = 0; y < tile.height; ++y) {
        for (int x = 0; x < tile.width; ++x) {
            const int cx = tile.x + x;
            const int cy = tile.y + y;
            const bool onCanvas =
                cx >= 0 && cy >= 0 && cx < plan_.canvas.width && cy < plan_.canvas.height;
            const bool empty =
                !onCanvas || (inBorder(plan_, cx, cy) &&
                              filled_[static_cast<size_t>(cy) * plan_.canvas.width + cx] == 0);
            out[static_cast<size_t>(y) * tile.width + x] = empty ? 255 : 0;
        }
    }
    return out;
}

std::vector<uint8_t> ExpandCanvas::stateUnder(Rect tile) const {
    std::vector<uint8_t> state(static_cast<size_t>(tile.width) * tile.height, 0);
    const Rect on = intersect(tile, {0, 0, plan_.canvas.width, plan_.canvas.height});
    for (int y = on.y; y < on.bottom(); ++y) {
        for (int x = on.x; x < on.right(); ++x) {
            if (inBorder(plan_, x, y)) {
                const bool done = filled_[static_cast<size_t>(y) * plan_.canvas.width + x] != 0;
                state[static_cast<size_t>(y - tile.y) * tile.width + (x - tile.x)] = done ? 2 : 1;
            }
        }
    }
    return state;
}

namespace {

// City-block distance of every pixel to the nearest pixel in `state` 1, up to `limit`.
std::vector<int> distanceToEmpty(const std::vector<uint8_t>& state, int width, int height,
                                 int limit) {
    std::vector<int> d(state.size(), limit);
    auto at = [&](int x, int y) -> int& {
        return d[static_cast<size_t>(y) * width + x];
    };
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            if (state[static_cast<size_t>(y) * width + x] == 1) {
                at(x, y) = 0;
                continue;
            }
            if (x > 0) {
                at(x, y) = std::min(at(x, y), at(x - 1, y) + 1);
            }
            if (y > 0) {
                at(x, y) = std::min(at(x, y), at(x, y - 1) + 1);
            }
        }
    }
    for (int y = height - 1; y >= 0; --y) {
        for (int x = width - 1; x >= 0; --x) {
            if (x + 1 < width) {
                at(x, y) = std::min(at(x, y), at(x + 1, y) + 1);
            }
            if (y + 1 < height) {
                at(x, y) = std::min(at(x, y), at(x, y + 1) + 1);
            }
        }
    }
    return d;
}

} // namespace

void ExpandCanvas::fill(Rect tile, const RgbaImage& result) {
    const std::vector<uint8_t> state = stateUnder(tile);
    const int feather = std::max(1, plan_.overlap / 2);
    const std::vector<int> distance = distanceToEmpty(state, tile.width, tile.height, feather);
    for (int y = 0; y < tile.height; ++y) {
        for (int x = 0; x < tile.width; ++x) {
            const size_t i = static_cast<size_t>(y) * tile.width + x;
            const int cx = tile.x + x;
            const int cy = tile.y + y;
            if (state[i] == 1) {
                std::copy_n(result.at(x, y), 4, pixels_.at(cx, cy));
                filled_[static_cast<size_t>(cy) * plan_.canvas.width + cx] = 1;
            } else if (state[i] == 2 && distance[i] < feather) {
                // Next to the new pixels the result's own redraw, fading to the earlier tile's.
                const double w = 1.0 - static_cast<double>(distance[i]) / feather;
                uint8_t* px = pixels_.at(cx, cy);
                const uint8_t* from = result.at(x, y);
                for (int c = 0; c < 4; ++c) {
                    px[c] = static_cast<uint8_t>(std::lround(px[c] + w * (from[c] - px[c])));
                }
            }
        }
    }
}

RgbaImage ExpandCanvas::borderLayer() const {
    RgbaImage layer = pixels_;
    // Under the mask's 0 the original would only be a second copy in the saved file.
    const Rect& o = plan_.original;
    for (int y = o.y; y < o.bottom(); ++y) {
        std::fill_n(layer.at(o.x, y), static_cast<size_t>(o.width) * 4, 0);
    }
    return layer;
}

std::vector<uint8_t> ExpandCanvas::borderMask() const {
    std::vector<uint8_t> mask(filled_.size(), 0);
    for (int y = 0; y < plan_.canvas.height; ++y) {
        for (int x = 0; x < plan_.canvas.width; ++x) {
            mask[static_cast<size_t>(y) * plan_.canvas.width + x] = inBorder(plan_, x, y) ? 255 : 0;
        }
    }
    return mask;
}

Margins marginsForAspect(Size canvas, int ratioWidth, int ratioHeight, ExpandAnchor anchor) {
    Margins m;
    if (canvas.width <= 0 || canvas.height <= 0 || ratioWidth <= 0 || ratioHeight <= 0) {
        return m;
    }
    // The side that grows, rounded up so the ratio is reached, in 64 bits (a 524288-pixel side
    // times a ratio term overflows 32).
    const auto grownTo = [](int64_t side, int64_t numerator, int64_t denominator) {
        return (side * numerator + denominator - 1) / denominator;
    };
    // A growth narrower than a useful border is none: the canvas has nearly the shape already.
    // Centred, a growth too narrow to split goes on one side rather than two slivers.
    const auto split = [anchor](int64_t total, int& before, int& after) {
        const int grow = total < kMinExpandBorder ? 0 : static_cast<int>(total);
        before = anchor == ExpandAnchor::Centre && grow >= 2 * kMinExpandBorder ? grow / 2
                 : anchor == ExpandAnchor::Start                                ? 0
                 : anchor == ExpandAnchor::End                                  ? grow
                                                                                : 0;
        after = grow - before;
    };
    const int64_t width = grownTo(canvas.height, ratioWidth, ratioHeight);
    if (width > canvas.width) {
        split(width - canvas.width, m.left, m.right);
        return m;
    }
    const int64_t height = grownTo(canvas.width, ratioHeight, ratioWidth);
    if (height > canvas.height) {
        split(height - canvas.height, m.top, m.bottom);
    }
    return m;
}

} // namespace imagegen
