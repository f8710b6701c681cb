// Generative Expand without GIMP: the canvas grows by four margins, and the new border is painted
// in tiles of one API size each. A tile is an edit region sent at 1:1 scale: part of the border,
// plus context from the original picture and from the tiles done before it. Tiles are done one
// after another, nearest the picture first, so each continues what is already there.
#pragma once

#include "core/pixels/codec.h"
#include "core/pixels/region.h"
#include "core/service/models.h"
#include "core/util/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace imagegen {

struct Margins {
    int left = 0;
    int top = 0;
    int right = 0;
    int bottom = 0;
    [[nodiscard]] bool none() const { return left == 0 && top == 0 && right == 0 && bottom == 0; }
};

// GIMP's largest image side (GIMP_MAX_IMAGE_SIZE).
inline constexpr int kMaxCanvasSide = 524288;
// The most tiles one expand may send (each is one request, done one after another).
inline constexpr int kMaxExpandTiles = 64;
// The narrowest border worth painting: each tile is charged in full (a 1-pixel border once cost two
// 1024x1024 tiles), and a model continues a picture poorly into a sliver.
inline constexpr int kMinExpandBorder = 16;
// The smallest tile side: smaller tiles give the model too little to continue, and many of them.
inline constexpr int kMinExpandTileSide = 256;
// The most pixels a run may hold in copies of what it covers (one per alternative, with its
// result layer and mask; for Expand the whole canvas): about 2 GB at 4 bytes a pixel.
inline constexpr int64_t kMaxHeldPixels = int64_t{512} * 1024 * 1024;

struct ExpandPlan {
    Size canvas;             // the new canvas
    Rect original;           // where the old canvas lies in it
    Size apiSize;            // every tile's size, on the canvas and on the wire
    std::vector<Rect> tiles; // in the order they are sent; may reach past the new canvas
    int overlap = 0;         // pixels shared by neighbouring tiles
};

// The tile size: the size asked for, or (empty, "auto") 1024x1024 where the model offers it, or
// else its largest fixed size.
Result<Size> expandTileSize(const ModelCaps& caps, const std::string& size);

// Refuses margins that are negative or all 0, and a new canvas past GIMP's largest image or past
// kMaxExpandTiles tiles; otherwise the tiles, which cover every border pixel.
Result<ExpandPlan> planExpand(Size canvas, Margins margins, Size apiSize);
// Refuses a margin narrower than kMinExpandBorder (0 is fine): what a run may pay for, where
// planExpand says only what the geometry allows.
Status checkBorderWidths(Margins margins);

// Where the picture stays when the canvas grows to an aspect ratio: centred, at the left or top
// (the border grows right or down), at the right or bottom.
enum class ExpandAnchor { Centre, Start, End };

// The margins that grow `canvas` to the aspect ratio ratioWidth:ratioHeight by widening it or
// by making it taller, never both; none when it has that ratio already, or would grow by less
// than kMinExpandBorder.
Margins marginsForAspect(Size canvas, int ratioWidth, int ratioHeight, ExpandAnchor anchor);

// Whether a pixel of the new canvas belongs to the border (not the original).
bool inBorder(const ExpandPlan& plan, int x, int y);

// The picture as the tiles build it: the original at its offset, the border filled as tiles are
// done (`filled` says where), transparent elsewhere.
class ExpandCanvas {
  public:
    ExpandCanvas(const ExpandPlan& plan, const RgbaImage& original);

    // A tile's input: the pixels under it (transparent past the canvas or where nothing is yet),
    // and the coverage to repaint: 255 over the border still empty and past the canvas, 0 else.
    [[nodiscard]] RgbaImage pixelsUnder(Rect tile) const;
    [[nodiscard]] std::vector<uint8_t> coverageUnder(Rect tile) const;

    // Takes a tile's result (tile-sized) where its coverage was 255 and on the canvas, and
    // cross-fades it into the border earlier tiles painted over the feather's width (half the
    // overlap) next to that, so no seam shows between tiles. The original is never touched.
    void fill(Rect tile, const RgbaImage& result);

    // The border as one layer: the new canvas's size, transparent over the original, and its
    // mask (255 on the border, 0 on the original).
    [[nodiscard]] RgbaImage borderLayer() const;
    [[nodiscard]] std::vector<uint8_t> borderMask() const;

  private:
    // Over the tile: 1 where the border is still empty, 2 where an earlier tile painted it, 0
    // elsewhere (the original, past the canvas).
    [[nodiscard]] std::vector<uint8_t> stateUnder(Rect tile) const;

    const ExpandPlan& plan_;
    RgbaImage pixels_;
    std::vector<uint8_t> filled_;
};

} // namespace imagegen
