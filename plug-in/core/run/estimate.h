// What a run will cost before it starts, in the unit the service bills: the output tokens of the
// images it asks for, from the model's table in data/models.json.
#pragma once

#include "core/service/models.h"

#include <cstdint>
#include <optional>
#include <string>

namespace imagegen {

// OpenAI's image generation guide ("Partial images cost"): each streamed partial image adds this
// many output tokens.
inline constexpr int64_t kPartialImageOutputTokens = 100;

struct TokenEstimate {
    int64_t perImage = 0; // one final image, with its partial images
    int64_t total = 0;    // all n images
};

// nullopt when the model's table gives no figure for that size and quality ("auto" quality has
// none: no source says which quality the service then picks). `n` of -1 means the default, one
// image. `partialImages` counts the partial images streamed for each image.
std::optional<TokenEstimate> estimateOutputTokens(const ModelCaps& caps, Size apiSize,
                                                  const std::string& quality, int n,
                                                  int partialImages = 0);

} // namespace imagegen
