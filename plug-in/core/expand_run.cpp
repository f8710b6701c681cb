// Generative Expand as a run: the plan from prepareRun, the tiles sent one after another through
// the same path as every other run, and the results inserted with the canvas grown. A Script-Fu
// call waits for each tile (runExpand); the dialog does not wait (PendingExpand). Both take the
// tiles through ExpandTiles, so they send the same requests and make the same layers.
#include "core/glib_ptr.h"
#include "core/i18n.h"
#include "core/run.h"
#include "core/timings.h"

#include <algorithm>

namespace imagegen {

// The tiles of one expand, as a sequence of steps: the next tile's requests into the run, then
// its answer painted into every alternative's canvas, and at the end the layers. It holds a
// reference to the run, whose plan the canvases read.
class ExpandTiles {
  public:
    ExpandTiles(PreparedRun& run, const RgbaImage& original)
        : run_(run), canvases_(std::max<size_t>(1, static_cast<size_t>(std::max(1, run.request.n))),
                               ExpandCanvas(run.expand, original)),
          fits_(canvases_.size()) {}

    // The next tile with border left to paint gets its requests in run.requests (one per
    // alternative, each continuing its own earlier tiles); false when every tile is done.
    Result<bool> prepareNext() {
        const std::vector<Rect>& tiles = run_.expand.tiles;
        for (; next_ < tiles.size(); ++next_) {
            const std::vector<uint8_t> coverage = canvases_.front().coverageUnder(tiles[next_]);
            if (std::any_of(coverage.begin(), coverage.end(), [](uint8_t c) { return c != 0; })) {
                if (auto requests = tileRequests(tiles[next_], coverage); !requests) {
                    return requests.error();
                }
                return true;
            }
            // The tiles before it painted all of its border.
        }
        return false;
    }

    // The answer to the tile prepareNext gave: each image, colour-matched, into its canvas.
    Status take(const ImagesResult& answer) {
        if (answer.images.size() != run_.requests.size()) {
            return makeError(ErrorKind::MalformedResponse,
                             textf(_("the service sent %zu images for %zu requests"),
                                   answer.images.size(), run_.requests.size()));
        }
        const Rect tile = run_.expand.tiles.at(next_);
        for (size_t i = 0; i < answer.images.size(); ++i) {
            auto result = tileResult(answer.images[i].bytes, kept_[i], fits_[i]);
            if (!result) {
                return result.error();
            }
            canvases_[i].fill(tile, *result);
        }
        run_.requests.clear(); // the uploads are no longer needed
        ++next_;
        return Ok{};
    }

    // Each alternative as one layer over the new canvas, masked to the border.
    [[nodiscard]] std::vector<NewLayer> layers(int64_t nowUnix) const {
        const std::vector<uint8_t> mask = canvases_.front().borderMask();
        const Size canvas = run_.expand.canvas;
        const int count = static_cast<int>(canvases_.size());
        std::vector<NewLayer> layers;
        for (int i = 0; i < count; ++i) {
            const auto index = static_cast<size_t>(i);
            NewLayer layer;
            layer.name = layerNameFor(run_.request.prompt, i, count);
            layer.bounds = {0, 0, canvas.width, canvas.height};
            layer.pixels = canvases_[index].borderLayer();
            layer.mask = mask;
            layer.visible = i == 0;
            ResultNotes notes;
            notes.colorMatch = fits_[index];
            layer.parasite =
                resultParasite(run_.parameters.prompt, "", run_.service.model, run_.request.size,
                               run_.request.quality, nowUnix, notes);
            layers.push_back(std::move(layer));
        }
        return layers;
    }

    // Tiles done (or skipped), and all of them.
    [[nodiscard]] size_t done() const { return next_; }
    [[nodiscard]] size_t count() const { return run_.expand.tiles.size(); }

  private:
    Status tileRequests(Rect tile, const std::vector<uint8_t>& coverage) {
        kept_.clear();
        run_.requests.clear();
        for (const ExpandCanvas& canvas : canvases_) {
            auto upload =
                prepareEdit(canvas.pixelsUnder(tile), coverage, true, run_.expand.apiSize);
            if (!upload) {
                return upload.error();
            }
            ImageRequest request = run_.request;
            request.n = 1;
            request.images = {std::move(upload->image)};
            request.mask = std::move(upload->mask);
            if (auto valid = validateRequest(*run_.service.caps, request); !valid) {
                return withGuessNote(valid.error(), run_.service);
            }
            kept_.push_back(std::move(upload->kept));
            run_.requests.push_back(std::move(request));
        }
        return Ok{};
    }

    // A tile's result, at the tile's size and (unless turned off) in the picture's tone.
    Result<RgbaImage> tileResult(const std::string& bytes, const KeptSamples& kept,
                                 ColorFit& fit) const {
        auto decoded = decodeResult(bytes, resultPixelLimit(*run_.service.caps, run_.request.size));
        if (!decoded) {
            return decoded.error();
        }
        if (run_.options.matchColors) {
            fit = fitColorDrift(kept, *decoded);
            undoColorDrift(*decoded, fit);
        } else {
            fit =
                colorMatchNotTried(ColorMatchOutcome::TurnedOff, "turned off (match_colors false)");
        }
        const Size api = run_.expand.apiSize;
        if (decoded->width != api.width || decoded->height != api.height) {
            return resize(*decoded, api.width, api.height);
        }
        return decoded;
    }

    PreparedRun& run_;
    std::vector<ExpandCanvas> canvases_; // one per alternative
    std::vector<ColorFit> fits_;         // each alternative's last colour match
    std::vector<KeptSamples> kept_;      // the current tile's, one per alternative
    size_t next_ = 0;                    // the tile being sent, or the next to look at
};

RgbaImage readExpandOriginal(const PreparedRun& run, Host& host) {
    return host.readRegion({0, 0, run.expand.original.width, run.expand.original.height});
}

Result<Inserted> runExpand(const RunParameters& parameters, RunSetup& setup, Host& host,
                           GCancellable* cancellable, const CancelCheck& isCancelled) {
    PhaseTimer timings;
    auto run = prepareRun(Procedure::Expand, parameters, setup, host);
    if (!run) {
        return run.error();
    }
    ExpandTiles tiles(*run, readExpandOriginal(*run, host));
    timings.phase("read");
    while (true) {
        if (isCancelled()) {
            return cancelledError();
        }
        auto more = tiles.prepareNext();
        if (!more) {
            return more.error();
        }
        if (!*more) {
            break;
        }
        auto answer = sendAndWait(*run, setup, cancellable, host);
        if (!answer) {
            return answer.error();
        }
        if (auto taken = tiles.take(*answer); !taken) {
            return taken.error();
        }
    }
    timings.phase("request");
    if (isCancelled()) {
        return cancelledError();
    }
    auto inserted = insertResults(*run, tiles.layers(setup.nowUnix()), host, isCancelled);
    timings.phase("insert");
    timings.total();
    return inserted;
}

PendingExpand::PendingExpand(PreparedRun run, const RgbaImage& original, const RunSetup& setup,
                             ImagesCallbacks callbacks,
                             std::function<void(Result<std::vector<NewLayer>>)> done)
    : run_(std::move(run)), setup_(setup), callbacks_(std::move(callbacks)), done_(std::move(done)),
      tiles_(std::make_unique<ExpandTiles>(run_, original)) {
    scheduleStep();
}

PendingExpand::~PendingExpand() = default;

void PendingExpand::cancel() {
    cancelled_ = true;
    if (send_) {
        send_->cancel(); // its answer (Cancelled) ends the run at the next step
    }
}

size_t PendingExpand::tilesDone() const {
    return tiles_->done();
}

size_t PendingExpand::tileCount() const {
    return tiles_->count();
}

// Every step runs from its own idle callback, never inside a PendingSend's callback, so the
// finished tile's PendingSend can go and `done` may destroy this object.
void PendingExpand::scheduleStep() {
    // On the thread-default context, as PendingSend's requests are.
    const GSourcePtr idle(g_idle_source_new());
    g_source_set_callback(
        idle.get(),
        +[](gpointer self) -> gboolean {
            auto* pending = static_cast<PendingExpand*>(self);
            pending->step_.forget();
            // A step decodes and allocates whole canvases: no exception may cross into GLib.
            try {
                pending->step();
            } catch (const std::exception& e) {
                pending->finish(
                    makeError(ErrorKind::Image, textf(_("internal error: %s"), e.what())));
            }
            return G_SOURCE_REMOVE;
        },
        this, nullptr);
    step_.reset(g_source_attach(idle.get(), g_main_context_get_thread_default()));
}

void PendingExpand::step() {
    send_.reset();
    if (answer_) {
        Result<ImagesResult> answer = std::move(*answer_);
        answer_.reset();
        if (!answer) {
            finish(answer.error());
            return;
        }
        if (auto taken = tiles_->take(*answer); !taken) {
            finish(taken.error());
            return;
        }
        addUsage(usage_, answer->usage); // every tile's tokens, as the service reported them
    }
    if (cancelled_) {
        finish(cancelledError());
        return;
    }
    auto more = tiles_->prepareNext();
    if (!more) {
        finish(more.error());
        return;
    }
    if (callbacks_.onProgress) {
        callbacks_.onProgress(tiles_->done(), tiles_->count());
    }
    if (!*more) {
        finish(tiles_->layers(setup_.nowUnix()));
        return;
    }
    ImagesCallbacks tileCallbacks;
    tileCallbacks.onPartial = callbacks_.onPartial;
    send_ = std::make_unique<PendingSend>(run_, setup_, std::move(tileCallbacks),
                                          [this](Result<ImagesResult> answer) {
                                              answer_ = std::move(answer);
                                              scheduleStep();
                                          });
}

void PendingExpand::finish(Result<std::vector<NewLayer>> result) {
    run_.requests.clear();
    // `done` may destroy this object: nothing of it is touched afterwards.
    const std::function<void(Result<std::vector<NewLayer>>)> done = std::move(done_);
    done(std::move(result));
}

} // namespace imagegen
