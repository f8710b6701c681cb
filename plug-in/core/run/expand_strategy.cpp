// Generative Expand: one step per tile, one after another, nearest the picture first. Each
// tile's requests (one per alternative, each continuing its own earlier tiles) are built from the
// picture and the tiles already painted; each answer, colour-matched, is painted into its
// alternative's canvas; at the end each alternative is one layer over the new canvas, masked to
// the border.
#include "core/run/run_strategy.h"
#include "core/util/i18n.h"

#include <algorithm>

namespace imagegen {

namespace {

class ExpandStrategy final : public RunStrategy {
  public:
    ExpandStrategy(const RunPlan& plan, Upload upload)
        : plan_(plan),
          canvases_(std::max<size_t>(1, static_cast<size_t>(std::max(1, plan.request.n))),
                    ExpandCanvas(plan.expand, upload.original)),
          fits_(canvases_.size()) {}

    // The next tile with border left to paint: its requests. None when every tile is done.
    Result<std::vector<ImageRequest>> next() override {
        const std::vector<Rect>& tiles = plan_.expand.tiles;
        for (; next_ < tiles.size(); ++next_) {
            const std::vector<uint8_t> coverage = canvases_.front().coverageUnder(tiles[next_]);
            if (std::any_of(coverage.begin(), coverage.end(), [](uint8_t c) { return c != 0; })) {
                return tileRequests(tiles[next_], coverage);
            }
            // The tiles before it painted all of its border.
        }
        return std::vector<ImageRequest>();
    }

    // The answer to the tile next() gave: each image, colour-matched, into its canvas.
    Status take(ImagesResult answer) override {
        if (answer.images.size() != kept_.size()) {
            return makeError(ErrorKind::MalformedResponse,
                             textf(_("the service sent %zu images for %zu requests"),
                                   answer.images.size(), kept_.size()));
        }
        const Rect tile = plan_.expand.tiles.at(next_);
        for (size_t i = 0; i < answer.images.size(); ++i) {
            auto result = tileResult(answer.images[i].bytes, kept_[i], fits_[i]);
            if (!result) {
                return result.error();
            }
            canvases_[i].fill(tile, *result);
        }
        ++next_;
        return Ok{};
    }

    // Each alternative as one layer over the new canvas, masked to the border.
    Result<std::vector<NewLayer>> layers(int64_t nowUnix, const CancelCheck& cancelled) override {
        const std::vector<uint8_t> mask = canvases_.front().borderMask();
        const Size canvas = plan_.expand.canvas;
        const int count = static_cast<int>(canvases_.size());
        std::vector<NewLayer> layers;
        for (int i = 0; i < count; ++i) {
            if (cancelled && cancelled()) {
                return cancelledError();
            }
            const auto index = static_cast<size_t>(i);
            NewLayer layer;
            layer.name = layerNameFor(plan_.request.prompt, i, count);
            layer.bounds = {0, 0, canvas.width, canvas.height};
            layer.pixels = canvases_[index].borderLayer();
            layer.mask = mask;
            layer.visible = i == 0;
            ResultNotes notes;
            notes.colorMatch = fits_[index];
            layer.parasite =
                resultParasite(plan_.parameters.prompt, "", plan_.service.model, plan_.request.size,
                               plan_.request.quality, nowUnix, notes);
            layers.push_back(std::move(layer));
        }
        return layers;
    }

    [[nodiscard]] size_t done() const override { return next_; }
    [[nodiscard]] size_t count() const override { return plan_.expand.tiles.size(); }

  private:
    Result<std::vector<ImageRequest>> tileRequests(Rect tile,
                                                   const std::vector<uint8_t>& coverage) {
        kept_.clear();
        std::vector<ImageRequest> requests;
        for (const ExpandCanvas& canvas : canvases_) {
            auto upload =
                prepareEdit(canvas.pixelsUnder(tile), coverage, true, plan_.expand.apiSize);
            if (!upload) {
                return upload.error();
            }
            ImageRequest request = plan_.request;
            request.n = 1;
            request.images = {std::move(upload->image)};
            request.mask = std::move(upload->mask);
            if (auto valid = validateRequest(*plan_.service.caps, request); !valid) {
                return withGuessNote(valid.error(), plan_.service);
            }
            kept_.push_back(std::move(upload->kept));
            requests.push_back(std::move(request));
        }
        return requests;
    }

    // A tile's result, at the tile's size and (unless turned off) in the picture's tone.
    Result<RgbaImage> tileResult(const std::string& bytes, const KeptSamples& kept,
                                 ColorFit& fit) const {
        auto matched = matchedResult(plan_, bytes, kept, fit);
        if (!matched) {
            return matched.error();
        }
        const Size api = plan_.expand.apiSize;
        if (matched->width != api.width || matched->height != api.height) {
            return resize(*matched, api.width, api.height);
        }
        return matched;
    }

    const RunPlan& plan_;
    std::vector<ExpandCanvas> canvases_; // one per alternative
    std::vector<ColorFit> fits_;         // each alternative's last colour match
    std::vector<KeptSamples> kept_;      // the current tile's, one per alternative
    size_t next_ = 0;                    // the tile being sent, or the next to look at
};

} // namespace

std::unique_ptr<RunStrategy> expandStrategy(const RunPlan& plan, Upload upload) {
    return std::make_unique<ExpandStrategy>(plan, std::move(upload));
}

} // namespace imagegen
