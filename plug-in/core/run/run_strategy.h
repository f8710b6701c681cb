// What each procedure does with the one run operation (run_operation.h): the requests of each
// step, what it takes from their answers, and the layers at the end. Edit, Generate Layer and
// Generate Image send one step; Generative Expand one per tile. Each lives in its own file.
#pragma once

#include "core/run/host.h"
#include "core/run/run.h"
#include "core/service/images_client.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace imagegen {

class RunStrategy {
  public:
    RunStrategy() = default;
    virtual ~RunStrategy() = default;
    RunStrategy(const RunStrategy&) = delete;
    RunStrategy& operator=(const RunStrategy&) = delete;
    RunStrategy(RunStrategy&&) = delete;
    RunStrategy& operator=(RunStrategy&&) = delete;

    // The requests of the next step (they take the upload with them); none when every step is
    // done.
    virtual Result<std::vector<ImageRequest>> next() = 0;
    // The answer to the requests next() gave last.
    virtual Status take(ImagesResult answer) = 0;
    // Once every step is done: the results as layers, every image decoded before any layer is
    // made. `cancelled` is asked between images.
    virtual Result<std::vector<NewLayer>> layers(int64_t nowUnix, const CancelCheck& cancelled) = 0;
    // Steps done (or skipped), and all of them.
    [[nodiscard]] virtual size_t done() const = 0;
    [[nodiscard]] virtual size_t count() const = 0;
};

// A procedure whose requests all go in one step (Edit, Generate Layer, Generate Image): the
// request with the upload in it, split as the model takes it, and one layer per image, placed as
// place() says.
class OneStepStrategy : public RunStrategy {
  public:
    OneStepStrategy(const RunPlan& plan, Upload upload) : plan_(plan), upload_(std::move(upload)) {}

    Result<std::vector<ImageRequest>> next() override;
    Status take(ImagesResult answer) override;
    Result<std::vector<NewLayer>> layers(int64_t nowUnix, const CancelCheck& cancelled) override;
    [[nodiscard]] size_t done() const override { return answer_ ? 1 : 0; }
    [[nodiscard]] size_t count() const override { return 1; }

  protected:
    // One result's pixels and where they go; `notes` gets what the parasite says of them.
    virtual Result<NewLayer> place(const GeneratedImage& image, int64_t maxPixels,
                                   ResultNotes& notes) = 0;
    [[nodiscard]] const RunPlan& plan() const { return plan_; }

  private:
    const RunPlan& plan_;
    Upload upload_;
    bool sent_ = false;
    std::optional<ImagesResult> answer_;
};

// The strategy of the plan's procedure; it reads `plan`, which must outlive it.
std::unique_ptr<RunStrategy> strategyFor(const RunPlan& plan, Upload upload);
std::unique_ptr<RunStrategy> editStrategy(const RunPlan& plan, Upload upload);
std::unique_ptr<RunStrategy> generateStrategy(const RunPlan& plan);
std::unique_ptr<RunStrategy> newImageStrategy(const RunPlan& plan);
std::unique_ptr<RunStrategy> expandStrategy(const RunPlan& plan, Upload upload);

// A result decoded and (unless the options turn it off) brought back to the tone of the pixels
// the model was told to keep: Edit's and Expand's colour match, in one place.
Result<RgbaImage> matchedResult(const RunPlan& plan, const std::string& bytes,
                                const KeptSamples& kept, ColorFit& fit);

} // namespace imagegen
