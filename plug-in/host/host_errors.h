// What the GIMP hosts (host/gimp2, host/gimp3) refuse and why, in the user's words: the same
// refusals whichever GIMP runs the plug-in, written once. No libgimp here.
#pragma once

#include "core/pixels/expand.h"
#include "core/run/host.h"
#include "core/util/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace imagegen::host {

Error hostError(const std::string& message);
// What GIMP refused, as the run's error: a layer GIMP could not make (too large for its memory,
// say) ends the run with this, and what was made is deleted, never left half-made.
Error gimpRefused(const std::string& what);
Error closedMeanwhile();
Error imageClosed();
Error indexedImage();
Error canvasNotEnlarged();

// Why the active drawable cannot be edited, by what it is.
enum class DrawableKind : std::uint8_t { Missing, LayerMask, Channel, Group, NotALayer, Layer };
Status checkDrawable(DrawableKind kind);

// A reference layer named in `options` that is not a layer of pixels.
Error notAPixelLayer(int layer);

// The layers of an expand were planned for the canvas as it was when the run began; the user may
// have cropped or scaled it meanwhile, and a border would then cover part of the picture. Returns
// the grown canvas (its x and y: where the old canvas goes) or that refusal.
Result<Rect> grownCanvas(Size canvas, Margins margins, const std::vector<NewLayer>& layers);

// GIMP's thumbnail data (Y, YA, RGB or RGBA rows of `bpp` bytes a pixel) as RGBA; empty when
// the data is not of that shape.
RgbaImage thumbnailToRgba(const uint8_t* data, size_t size, int width, int height, int bpp);
// The thumbnail of a layer drawn where it lies (`left`, `top`, in the picture's scale) on a
// transparent picture of `picture`'s size: what an edit of the active layer alone sends.
RgbaImage layerOnPicture(const RgbaImage& layer, Size picture, int left, int top);

} // namespace imagegen::host
