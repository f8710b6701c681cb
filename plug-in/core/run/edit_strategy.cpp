// Edit Selection: one step; each result, colour-matched, over the part of the region that was
// read, masked by the selection softened inward by the feather.
#include "core/run/run_strategy.h"

namespace imagegen {

namespace {

class EditStrategy final : public OneStepStrategy {
  public:
    EditStrategy(const RunPlan& plan, Upload upload)
        : OneStepStrategy(plan, std::move(upload)),
          mask_(featherInward(plan.coverage, plan.edit.held.width, plan.edit.held.height,
                              plan.parameters.feather < 0 ? kDefaultFeather
                                                          : plan.parameters.feather)) {}

  protected:
    Result<NewLayer> place(const GeneratedImage& image, int64_t /*maxPixels*/,
                           ResultNotes& notes) override {
        ColorFit fit;
        auto drawn = matchedResult(plan(), image.bytes, plan().kept, fit);
        if (!drawn) {
            return drawn.error();
        }
        notes.colorMatch = std::move(fit);
        // Only what lies over the pixels read becomes the layer: the rest is past the canvas.
        const Rect held = plan().edit.held;
        const Size size{drawn->width, drawn->height};
        NewLayer layer;
        layer.bounds = held;
        layer.pixels = resize(crop(*drawn, scaledPart(held, plan().edit.region, size)), held.width,
                              held.height);
        layer.mask = mask_;
        return layer;
    }

  private:
    std::vector<uint8_t> mask_; // every result's layer mask
};

} // namespace

std::unique_ptr<RunStrategy> editStrategy(const RunPlan& plan, Upload upload) {
    return std::make_unique<EditStrategy>(plan, std::move(upload));
}

} // namespace imagegen
