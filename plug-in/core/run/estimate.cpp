#include "core/run/estimate.h"

#include <algorithm>
#include <cmath>

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

// The quality a request that leaves it out gets, for a table keyed by quality.
static std::string qualityOf(const ModelCaps& caps, const std::string& quality) {
    if (!quality.empty() && quality != "auto") {
        return quality;
    }
    // Where the model has "auto", no source says which quality it picks: no figure.
    const bool hasAuto =
        std::find(caps.qualities.begin(), caps.qualities.end(), "auto") != caps.qualities.end();
    return hasAuto || caps.qualities.empty() ? quality : caps.qualities.front();
}

std::optional<CostEstimate> estimateCost(const ModelCaps& caps, const CostRequest& request) {
    if (!caps.price) {
        return std::nullopt;
    }
    const ModelPrice& price = *caps.price;
    const int64_t images = std::max(request.images, 0);
    CostEstimate cost;
    cost.asOf = price.asOf;
    const auto bySize = price.perImage.find(qualityOf(caps, request.quality));
    if (bySize != price.perImage.end()) {
        const auto each = bySize->second.find(formatSize(request.size));
        if (each == bySize->second.end()) {
            return std::nullopt;
        }
        cost.low = cost.high = each->second * static_cast<double>(images);
        return cost;
    }
    if (price.imageOutputPer1M <= 0) {
        return std::nullopt;
    }
    const auto tokens = estimateOutputTokens(caps, request.size, request.quality,
                                             static_cast<int>(images), request.partialImages);
    if (!tokens) {
        return std::nullopt;
    }
    constexpr double kPerMillion = 1e-6;
    cost.low = static_cast<double>(tokens->total) * price.imageOutputPer1M * kPerMillion;
    const double promptTokensAtMost = static_cast<double>(std::max(request.requests, 0)) *
                                      static_cast<double>(request.promptBytes);
    cost.high = cost.low + promptTokensAtMost * price.textInputPer1M * kPerMillion;
    return cost;
}

int dollarDecimals(double dollars) {
    const double magnitude = std::fabs(dollars);
    int decimals = 2;
    // 0.0435 -> 3 places, 0.0022 -> 4; rounding is left to the formatting.
    while (decimals < 4 && magnitude > 0 && magnitude < 0.1 * std::pow(10.0, 2 - decimals)) {
        ++decimals;
    }
    return decimals;
}

} // namespace imagegen
