// The geometry of an edit, without GIMP: which part of the canvas is sent, at which API size,
// the mask that says what may change, and the way back from the API's image to the canvas.
#pragma once

#include "core/pixels/codec.h"
#include "core/service/models.h"
#include "core/util/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace imagegen {

struct Rect {
    int x = 0;
    int y = 0;
    int width = 0;
    int height = 0;
    [[nodiscard]] bool empty() const { return width <= 0 || height <= 0; }
    [[nodiscard]] int right() const { return x + width; }
    [[nodiscard]] int bottom() const { return y + height; }
    bool operator==(const Rect&) const = default;
};

Rect intersect(Rect a, Rect b);

// The selection's bounds grown by `context` (a fraction of the selection's larger side) on every
// side, clamped to the canvas.
Rect contextRegion(Rect selection, double context, Size canvas);

// The API size for a region: "" or "auto" picks the model's fixed size nearest the region's
// aspect (a free-size model gets the region's own aspect, in multiples of 16); otherwise the
// requested size, which must be one the model offers.
Result<Size> chooseApiSize(const ModelCaps& caps, const std::string& requested, Size region);

// Widens `region` (never shrinks it) around its centre to the aspect of `target`, moving it to
// stay on the canvas where it can. Where the canvas is too small, the region reaches past it:
// pixels there are read as transparent and so belong to the edit area.
Rect widenToAspect(Rect region, Size target, Size canvas);

// The part `rect` of `image` (which must lie inside it), as an image of its own.
RgbaImage crop(const RgbaImage& image, Rect rect);

// `image` laid over a transparent canvas of `canvas` at `at` (which must hold it).
RgbaImage placedOn(const RgbaImage& image, Size canvas, Rect at);

// Where `part`, a rectangle inside `whole`, lands when `whole` is scaled to `scaled`: whole
// pixels, at least one a side, inside `scaled`.
Rect scaledPart(Rect part, Rect whole, Size scaled);

// High-quality resampling (Catmull-Rom, widened when shrinking; premultiplied alpha).
RgbaImage resize(const RgbaImage& image, int width, int height);
// The same for a single 8-bit channel (a coverage mask).
std::vector<uint8_t> resizeChannel(const std::vector<uint8_t>& channel, int width, int height,
                                   int newWidth, int newHeight);

// The API mask for a region: alpha 0 where the region may change (selected, or transparent in the
// source), 255 where it must be kept, soft in between; RGB black. `coverage` and `source` are at
// region size; the mask comes back at `apiSize`.
RgbaImage buildApiMask(const std::vector<uint8_t>& coverage, const RgbaImage& source, Size apiSize);

// The result layer's mask: the selection's coverage, softened inward over `feather` pixels, so
// a pixel the selection does not touch (coverage 0) stays 0 whatever the feather.
std::vector<uint8_t> featherInward(const std::vector<uint8_t>& coverage, int width, int height,
                                   double feather);

} // namespace imagegen
