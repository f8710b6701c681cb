// The steps of an edit and of a generation that do not need GIMP: where the region lies, what is
// sent, and how each result comes back to canvas pixels and a layer mask.
#pragma once

#include "core/pixels/codec.h"
#include "core/pixels/color_match.h"
#include "core/pixels/region.h"
#include "core/service/image_request.h"
#include "core/service/models.h"
#include "core/util/error.h"

#include <optional>
#include <string>
#include <vector>

namespace imagegen {

// What the host knows of the image, in canvas coordinates.
struct ImageGeometry {
    Size canvas;
    Rect drawable;                 // the active layer's bounds (offsets count)
    std::optional<Rect> selection; // the selection's bounds, when there is a selection
};

struct EditPlan {
    Rect region;  // the part of the canvas sent (may reach past the canvas edges)
    Rect area;    // what was asked to change: the selection's bounds, or the layer
    Size apiSize; // the size it is sent at
    // The region's part on the canvas: all that is read, and all a result layer covers. Past the
    // canvas there is nothing to read (it goes up transparent, to be painted) and nothing to
    // keep, so a thin layer widened to the API's aspect (20000x100 to 20000x13333) holds only
    // its own pixels, never the region's.
    Rect held;
    // Where `held` lies in the image sent, in its pixels.
    [[nodiscard]] Rect heldInApi() const { return scaledPart(held, region, apiSize); }
};

// Step 1-2 of the edit pipeline: the area (selection, or the whole layer), grown by `context`,
// widened to the aspect of the API size.
Result<EditPlan> planEdit(const ModelCaps& caps, const std::string& size, double context,
                          const ImageGeometry& geometry);

// The coverage of the edit area over the region when there is no selection: the layer, whole.
std::vector<uint8_t> layerCoverage(Rect region, Rect drawable, Size canvas);

// How the image to edit may go up. JPEG is an eighth to a tenth of the PNG's bytes for a
// 1536x1024 picture at 41 dB (tools/benchmark); it is used only where it loses nothing the model
// must see: every pixel sent is opaque (transparent pixels are part of the area to paint, and JPEG
// has no alpha) and the model takes JPEG (GPT image models; dall-e-2 takes PNG only).
enum class UploadFormat { Png, JpegIfOpaque };

// Step 3: the image and (with a selection, or transparent pixels) the mask, at the API size.
struct EditUpload {
    InputImage image;
    std::optional<InputImage> mask;
    KeptSamples kept; // with a mask: the pixels it tells the model to keep, sampled (colour match)
};
// `pixels` and `coverage` are the part of the region that is read (EditPlan::held), which goes at
// `placement` of the image sent (EditPlan::heldInApi); the rest of it goes up transparent, part
// of the area to paint. An empty placement: the pixels are the whole region.
Result<EditUpload> prepareEdit(const RgbaImage& pixels, const std::vector<uint8_t>& coverage,
                               bool sendMask, Size apiSize, UploadFormat format = UploadFormat::Png,
                               Rect placement = {});

// A reference layer as an extra input image, no larger than `maxSide` on its longer side.
Result<InputImage> prepareReference(const RgbaImage& pixels, int maxSide, int index);

// The most pixels a result may have: four times the size asked for (a service may answer another
// size of the same order), or the model's largest when the size was left to it; never more than
// kMaxDecodePixels. A result past it is refused before its pixels are allocated.
int64_t resultPixelLimit(const ModelCaps& caps, const std::string& size);

// GIMP's largest image, a side (GIMP_MAX_IMAGE_SIZE): a result past it cannot become an image.
inline constexpr int kMaxImageSide = 524288;

// A result image from the service; what cannot be read is a malformed response.
Result<RgbaImage> decodeResult(const std::string& bytes, int64_t maxPixels = kMaxDecodePixels);

// Generation: the results cover `target` (the selection's bounds or the canvas), centred.
Rect generationTarget(const ImageGeometry& geometry);
Result<RgbaImage> coverTarget(const std::string& bytes, Size target,
                              int64_t maxPixels = kMaxDecodePixels);

// A short layer name from the prompt.
std::string layerNameFor(const std::string& prompt, int index, int count);

// What the parasite says of how a result was made fit, besides the request.
struct ResultNotes {
    std::optional<double> upscaleFactor; // how much it was enlarged to cover its region
    std::optional<ColorFit> colorMatch;  // edit: the colour match, done or not
};

// The parasite each result layer carries, as JSON text.
std::string resultParasite(const std::string& prompt, const std::string& revisedPrompt,
                           const std::string& model, const std::string& size,
                           const std::string& quality, int64_t unixTime,
                           const ResultNotes& notes = {});

} // namespace imagegen
