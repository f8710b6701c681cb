// Colour matching: an image model redraws the whole frame and comes back slightly shifted in
// tone. The pixels it was asked to keep (the context around the selection, where the mask sent is
// opaque) should equal the source, so they show how far it drifted. A robust per-channel fit of
// result = gain * source + offset on a sample of them, inverted, brings the new content back to
// the source's tone before it is inserted; a poor fit (the model changed the context) leaves the
// result as it is, and says why.
#pragma once

#include "core/pixels/codec.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace imagegen {

// One kept pixel of the image sent: where it lies at the size it was sent at, and its colour.
struct KeptSample {
    int x = 0;
    int y = 0;
    std::array<uint8_t, 3> rgb{};
};

// The kept pixels sampled from the image sent, at the size it was sent at (width x height).
struct KeptSamples {
    int width = 0;
    int height = 0;
    std::vector<KeptSample> samples;
};

// The most kept pixels a fit looks at: enough for a stable fit of six figures, and a few hundred
// kilobytes to keep while the request is in flight.
inline constexpr size_t kMaxColorSamples = 20000;

// Samples, on an even grid, the pixels of `sent` that the model was told to keep: the mask's
// alpha is 255 there (so the selection does not touch them and the source is opaque there), and
// as far as two pixels away on each side, since a model blends its new content into the context
// along the edge. Both images are at the size sent.
KeptSamples sampleKeptPixels(const RgbaImage& sent, const RgbaImage& mask,
                             size_t maxSamples = kMaxColorSamples);

enum class ColorMatchOutcome {
    Applied,      // the result was brought back to the source's tone
    Declined,     // the fit was poor: the result is left as it is
    NoKeptPixels, // nothing was kept (the selection covers the whole region)
    TurnedOff,    // match_colors false
};

// A fit of result = gain * source + offset per channel (R, G, B), and what was done with it.
struct ColorFit {
    ColorMatchOutcome outcome = ColorMatchOutcome::NoKeptPixels;
    std::string reason; // why it was declined or not tried; empty when applied
    std::array<double, 3> gain{1, 1, 1};
    std::array<double, 3> offset{0, 0, 0};
    size_t samples = 0;  // kept pixels compared
    double inliers = 0;  // the share of them the fit explains (within kInlierLevels, every channel)
    double residual = 0; // RMS distance of those from the fit, in 8-bit levels
    [[nodiscard]] bool applied() const { return outcome == ColorMatchOutcome::Applied; }
};

// A residual within this many 8-bit levels counts as explained: room for the noise of a lossy
// answer (JPEG, WebP) and for resampling, well below a visible step.
inline constexpr double kInlierLevels = 8.0;
// A fit that explains less than this share of the kept pixels is poor: a drift moves every kept
// pixel alike, while a model that changed the context (new shadows, a different scene, moved
// objects) leaves many kept pixels far from any one tone curve. 0.6 still accepts a context where
// a third of the pixels changed (a moved object, a blended edge) on top of a drift.
inline constexpr double kMinInlierShare = 0.6;

// Fits the drift of `result` (any size: the samples' positions are scaled to it) against the
// kept samples. Applied when the fit is good; otherwise Declined or NoKeptPixels with a reason.
ColorFit fitColorDrift(const KeptSamples& kept, const RgbaImage& result);

// Applies the inverse of an applied fit to every pixel's R, G and B (alpha is left alone).
void undoColorDrift(RgbaImage& image, const ColorFit& fit);

// A fit that was not tried, and why.
ColorFit colorMatchNotTried(ColorMatchOutcome outcome, std::string reason);

} // namespace imagegen
