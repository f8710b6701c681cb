// What a run will cost before it starts, in the unit the service bills: the output tokens of the
// images it asks for, from the model's table in data/models.json, and in US dollars at OpenAI's
// list prices of the table's date.
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

// What the money estimate needs to know of a run.
struct CostRequest {
    Size size;              // the size the model draws
    std::string quality;    // "" or "auto": the model's default
    int images = 1;         // every image the run makes (n, times the tiles of an expand)
    int partialImages = 0;  // streamed partial images of each image
    int requests = 1;       // the requests sent: each one bills the prompt once
    size_t promptBytes = 0; // the prompt's length in UTF-8 bytes
};

// US dollars. `low` == `high` when the price is exact (dall-e: so much an image).
struct CostEstimate {
    double low = 0;
    double high = 0;
    std::string asOf; // the date of the prices, "YYYY-MM-DD"
};

// The run's cost at the model's list price; nullopt when the model has no price, or none for this
// size and quality.
//
// GPT Image models bill tokens. The low end is the output tokens of the images (partial images
// included, as estimateOutputTokens counts them) at the image output price: what the images
// cost whatever is sent. The high end adds the most the prompt can cost: each request bills its
// prompt as text input tokens, and a token of OpenAI's byte-level tokenizers stands for at least
// one byte of text, so the prompt's bytes bound its tokens from above. The input picture of an
// edit or expand is billed too, as image input tokens, but no OpenAI page says how many tokens a
// picture comes to, so it is not counted here: the dialog says so rather than guess.
//
// dall-e models bill by the image: `images` times the price of one image of that quality and size,
// exact. Their default quality ("" or "auto") is the first they list (standard).
std::optional<CostEstimate> estimateCost(const ModelCaps& caps, const CostRequest& request);

// How many decimal places a sum of dollars is shown with: cents from $0.10, else enough places
// for two significant digits (a mini model's low-quality image is $0.0022, not $0.00). At most 4.
int dollarDecimals(double dollars);

} // namespace imagegen
