// Deterministic pictures: what a generation or an edit draws depends on the prompt and the
// input alone, so tests can compute the expected pixels.
#pragma once

#include "core/pixels/codec.h"
#include "emulator/faults.h"

#include <string>

namespace emulator {

using imagegen::RgbaImage;

// Diagonal stripes of the prompt's colour and its complement; with a transparent background
// the complement's stripes are transparent.
RgbaImage drawGeneration(const std::string& prompt, int w, int h, bool transparent);

// The edit: every pixel the mask leaves transparent gets the prompt's colour, every other pixel
// is moved a little (up to 4 levels up or down, by position, never by 0), as a model redraws the
// whole frame; the moves average out, so they are no drift in tone. With `drift` the whole answer
// (the prompt's colour too) goes through its tone curve instead, exactly. Without a mask a GPT
// model redraws the whole image; dall-e-2 takes the image's own transparent pixels as the mask.
RgbaImage drawEdit(const std::string& prompt, const RgbaImage& source, const RgbaImage* mask,
                   bool gpt, int w, int h, const std::optional<Drift>& drift = std::nullopt);

// A partial image, further from the final one the earlier it comes.
RgbaImage partialOf(const RgbaImage& final, int index, int count);

// `format` is "png", "jpeg" or "webp"; compression < 0 takes the service's default.
std::string encodeAs(const RgbaImage& image, const std::string& format, int compression);

std::string base64(const std::string& bytes);

} // namespace emulator
