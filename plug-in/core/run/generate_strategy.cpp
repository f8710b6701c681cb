// Generate Layer: one step; each result covers the target (the selection's bounds, or the
// canvas) from the answer's middle, masked by the selection.
#include "core/run/run_strategy.h"

namespace imagegen {

namespace {

class GenerateStrategy final : public OneStepStrategy {
  public:
    explicit GenerateStrategy(const RunPlan& plan) : OneStepStrategy(plan, Upload{}) {}

  protected:
    Result<NewLayer> place(const GeneratedImage& image, int64_t maxPixels,
                           ResultNotes& /*notes*/) override {
        const Rect target = plan().target;
        auto pixels = coverTarget(image.bytes, {target.width, target.height}, maxPixels);
        if (!pixels) {
            return pixels.error();
        }
        NewLayer layer;
        layer.bounds = target;
        layer.pixels = std::move(*pixels);
        layer.mask = plan().coverage;
        return layer;
    }
};

} // namespace

std::unique_ptr<RunStrategy> generateStrategy(const RunPlan& plan) {
    return std::make_unique<GenerateStrategy>(plan);
}

} // namespace imagegen
