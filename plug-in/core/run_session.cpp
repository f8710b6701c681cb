#include "core/run_session.h"

#include "core/i18n.h"
#include "core/pipeline.h"

#include <glib.h>

#include <algorithm>
#include <exception>

namespace imagegen {

namespace {

Error internalError(const std::exception& e) {
    return makeError(ErrorKind::Image, textf(_("internal error: %s"), e.what()));
}

} // namespace

RunSession::RunSession(Procedure procedure, RunSetup& setup, Callbacks callbacks)
    : procedure_(procedure), setup_(setup), callbacks_(std::move(callbacks)) {}

RunSession::~RunSession() {
    stop();
}

Status RunSession::start(const RunParameters& parameters, Host& host) {
    if (running()) {
        return makeError(ErrorKind::InvalidRequest, _("a run is already in flight"));
    }
    auto prepared = prepareRun(procedure_, parameters, setup_, host);
    if (!prepared) {
        return prepared.error();
    }
    // The last run's, long finished.
    send_.reset();
    expand_.reset();
    running_ = std::make_unique<PreparedRun>(std::move(*prepared));
    // The send's callbacks come from GLib's main loop: nothing may throw back into it.
    ImagesCallbacks callbacks;
    callbacks.onPartial = [this](size_t /*request*/, int /*index*/, const std::string& bytes) {
        try {
            onPartial(bytes);
        } catch (...) { // NOLINT(bugprone-empty-catch): a partial image is only a preview
        }
    };
    callbacks.onProgress = [this](size_t finished, size_t total) {
        try {
            if (callbacks_.onProgress) {
                callbacks_.onProgress(
                    total > 0 ? static_cast<double>(finished) / static_cast<double>(total) : 0.0);
            }
        } catch (...) { // NOLINT(bugprone-empty-catch): progress is only shown
        }
    };
    // Starting allocates (an expand holds the picture and a canvas per result): if it throws,
    // the session must not stay "running" with nothing in flight.
    try {
        if (procedure_ == Procedure::Expand) {
            // The tiles go one after another; the picture they grow is read now, as it is.
            expand_ = std::make_unique<PendingExpand>(
                *running_, readExpandOriginal(*running_, host), setup_, std::move(callbacks),
                [this](Result<std::vector<NewLayer>> r) { onExpanded(std::move(r)); });
        } else {
            send_ = std::make_unique<PendingSend>(
                *running_, setup_, std::move(callbacks),
                [this](Result<ImagesResult> r) { onSent(std::move(r)); });
        }
    } catch (const std::exception& e) {
        running_.reset();
        return internalError(e);
    }
    return Ok{};
}

void RunSession::cancel() {
    if (!running()) {
        return;
    }
    if (send_) {
        send_->cancel();
    }
    if (expand_) {
        expand_->cancel();
    }
}

void RunSession::stop() {
    expand_.reset();
    send_.reset();
    running_.reset();
}

bool RunSession::running() const {
    return running_ && (send_ || expand_);
}

std::string RunSession::model() const {
    return running_ ? running_->service.model : std::string();
}

int RunSession::partialsExpected() const {
    if (!running_ || procedure_ == Procedure::Expand) {
        return 0; // a tile's partial images are not the result's
    }
    return running_->partialsPerImage * std::max(1, running_->request.n);
}

std::optional<std::pair<size_t, size_t>> RunSession::tiles() const {
    if (!running_ || !expand_) {
        return std::nullopt;
    }
    return std::pair{expand_->tilesDone(), expand_->tileCount()};
}

const NewLayer& RunSession::layer(size_t result) const {
    const auto& [generation, index] = results_.at(result);
    return generations_[generation]->layers[index];
}

const std::string& RunSession::promptOf(size_t result) const {
    return generations_[results_.at(result).first]->run.parameters.prompt;
}

size_t RunSession::generationOf(size_t result) const {
    return results_.at(result).first;
}

const ExpandPlan* RunSession::expandOf(size_t result) const {
    const PreparedRun& run = generations_[results_.at(result).first]->run;
    return run.procedure == Procedure::Expand ? &run.expand : nullptr;
}

void RunSession::onPartial(const std::string& bytes) {
    if (!running_ || !callbacks_.onPartial) {
        return;
    }
    auto image =
        decodeResult(bytes, resultPixelLimit(*running_->service.caps, running_->request.size));
    if (!image) {
        return; // a broken partial image is only a preview: the final image decides
    }
    callbacks_.onPartial(*image);
}

// The send is kept until the next start: it ends here, from its own callback.
void RunSession::onSent(Result<ImagesResult> answer) {
    const std::unique_ptr<PreparedRun> run = std::move(running_);
    if (!answer) {
        finish(answer.error());
        return;
    }
    try {
        auto layers = layersFromAnswers(*run, *answer, setup_.nowUnix());
        if (!layers) {
            finish(layers.error());
            return;
        }
        // Inserting needs only the parameters, the plan and the layers: the encoded upload goes
        // now, so that the session does not grow by an upload at every Generate.
        run->request.images.clear();
        run->request.mask.reset();
        run->requests.clear();
        run->coverage.clear();
        run->kept = {};
        keep(std::move(*run), std::move(*layers), answer->usage);
    } catch (const std::exception& e) {
        finish(internalError(e));
    }
}

void RunSession::onExpanded(Result<std::vector<NewLayer>> layers) {
    const std::unique_ptr<PreparedRun> run = std::move(running_);
    const Usage usage = expand_ ? expand_->usage() : Usage{};
    // Its canvases are copies of the results now held here; `done` may destroy it.
    expand_.reset();
    if (!layers) {
        finish(layers.error());
        return;
    }
    try {
        keep(std::move(*run), std::move(*layers), usage);
    } catch (const std::exception& e) {
        finish(internalError(e));
    }
}

void RunSession::keep(PreparedRun run, std::vector<NewLayer> layers, const Usage& usage) {
    const Generated generated{results_.size(), layers.size(), usage};
    const size_t generation = generations_.size();
    results_.reserve(results_.size() + layers.size());
    generations_.push_back(
        std::make_unique<const Generation>(Generation{std::move(run), std::move(layers)}));
    for (size_t i = 0; i < generated.count; ++i) {
        results_.emplace_back(generation, i);
    }
    finish(generated);
}

void RunSession::finish(Result<Generated> ended) noexcept {
    try {
        if (callbacks_.onDone) {
            callbacks_.onDone(std::move(ended));
        }
    } catch (...) {
        g_warning("imagegen: a run's completion handler threw");
    }
}

RunSession::InsertReport RunSession::insert(const std::vector<size_t>& chosen,
                                            const HostFactory& makeHost) {
    std::vector<std::vector<size_t>> groups;
    for (const size_t result : chosen) {
        if (groups.empty() || (procedure_ == Procedure::Expand &&
                               generationOf(groups.back().front()) != generationOf(result))) {
            groups.emplace_back();
        }
        groups.back().push_back(result);
    }
    InsertReport report;
    for (const auto& group : groups) {
        const std::unique_ptr<Host> host = makeHost();
        if (auto step = insertStep(group, *host); !step) {
            report.error = step.error();
            break;
        }
        report.layers += group.size();
        ++report.steps;
    }
    return report;
}

// One undo step: the group's layers, the first of them visible, through the run's own insert.
Status RunSession::insertStep(const std::vector<size_t>& group, Host& host) {
    const size_t generation = generationOf(group.front());
    std::vector<NewLayer> layers;
    layers.reserve(group.size());
    for (const size_t result : group) {
        layers.push_back(layer(result));
        layers.back().visible = layers.size() == 1;
    }
    PreparedRun run = generations_[generation]->run;
    run.expandCanvasGrown = grownBy_ == generation;
    auto inserted = insertResults(run, layers, host);
    if (!inserted) {
        return inserted.error();
    }
    if (procedure_ == Procedure::Expand) {
        grownBy_ = generation;
    }
    insertedAny_ = true;
    inserted_.layers.insert(inserted_.layers.end(), inserted->layers.begin(),
                            inserted->layers.end());
    if (inserted->image >= 0) {
        inserted_.image = inserted->image;
    }
    return Ok{};
}

} // namespace imagegen
