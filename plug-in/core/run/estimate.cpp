#include "core/run/estimate.h"

#include <algorithm>

namespace imagegen {

std::optional<TokenEstimate> estimateOutputTokens(const ModelCaps& caps, Size apiSize,
                                                  const std::string& quality, int n,
                                                  int partialImages) {
    const auto bySize = caps.outputTokens.find(quality);
    if (bySize == caps.outputTokens.end()) {
        return std::nullopt;
    }
    const auto figure = bySize->second.find(formatSize(apiSize));
    if (figure == bySize->second.end()) {
        return std::nullopt;
    }
    const int64_t images = n == -1 ? 1 : std::max(n, 0);
    TokenEstimate estimate;
    estimate.perImage =
        figure->second + kPartialImageOutputTokens * std::max<int64_t>(partialImages, 0);
    estimate.total = estimate.perImage * images;
    return estimate;
}

} // namespace imagegen
