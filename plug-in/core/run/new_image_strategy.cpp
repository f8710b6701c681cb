// Generate Image: one step; each result as it came, one layer of a new image.
#include "core/run/run_strategy.h"

namespace imagegen {

namespace {

class NewImageStrategy final : public OneStepStrategy {
  public:
    explicit NewImageStrategy(const RunPlan& plan) : OneStepStrategy(plan, Upload{}) {}

  protected:
    Result<NewLayer> place(const GeneratedImage& image, int64_t maxPixels,
                           ResultNotes& /*notes*/) override {
        auto pixels = decodeResult(image.bytes, maxPixels);
        if (!pixels) {
            return pixels.error();
        }
        NewLayer layer;
        layer.bounds = {0, 0, pixels->width, pixels->height};
        layer.pixels = std::move(*pixels);
        return layer;
    }
};

} // namespace

std::unique_ptr<RunStrategy> newImageStrategy(const RunPlan& plan) {
    return std::make_unique<NewImageStrategy>(plan);
}

} // namespace imagegen
