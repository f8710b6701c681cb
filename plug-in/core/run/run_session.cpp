#include "core/run/run_session.h"

#include "core/pixels/pipeline.h"
#include "core/util/i18n.h"

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
    operation_.reset(); // the last run's, long finished
    // The operation's callbacks come from GLib's main loop: nothing may throw back into it.
    RunEvents events;
    events.onPartial = [this](size_t /*request*/, int /*index*/, const std::string& bytes) {
        try {
            onPartial(bytes);
        } catch (...) { // NOLINT(bugprone-empty-catch): a partial image is only a preview
        }
    };
    events.onProgress = [this](size_t finished, size_t total) {
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
        operation_ = std::make_unique<RunOperation>(
            std::move(*prepared), setup_, std::move(events),
            [this](Result<RunOutcome> outcome) { onDone(std::move(outcome)); });
    } catch (const std::exception& e) {
        operation_.reset();
        return internalError(e);
    }
    running_ = true;
    return Ok{};
}

void RunSession::cancel() {
    if (running()) {
        operation_->cancel();
    }
}

void RunSession::stop() {
    operation_.reset();
    running_ = false;
}

bool RunSession::running() const {
    return running_ && operation_;
}

std::string RunSession::model() const {
    return running() ? operation_->plan().service.model : std::string();
}

int RunSession::partialsExpected() const {
    if (!running() || procedure_ == Procedure::Expand) {
        return 0; // a tile's partial images are not the result's
    }
    const RunPlan& plan = operation_->plan();
    return plan.partialsPerImage * std::max(1, plan.request.n);
}

std::optional<std::pair<size_t, size_t>> RunSession::tiles() const {
    if (!running() || procedure_ != Procedure::Expand) {
        return std::nullopt;
    }
    return std::pair{operation_->stepsDone(), operation_->stepCount()};
}

const NewLayer& RunSession::layer(size_t result) const {
    const Kept& kept = results_.at(result);
    return generations_[kept.generation]->layers[kept.layer];
}

const std::string& RunSession::promptOf(size_t result) const {
    return generations_[results_.at(result).generation]->plan->parameters.prompt;
}

size_t RunSession::generationOf(size_t result) const {
    return results_.at(result).generation;
}

// A restored result may come from another dialog than this session's (an expand's, kept with
// the image, shown in Edit): it goes in the way of the run that made it.
Procedure RunSession::procedureOf(size_t result) const {
    return generations_[results_.at(result).generation]->plan->procedure;
}

const ExpandPlan* RunSession::expandOf(size_t result) const {
    const RunPlan& plan = *generations_[results_.at(result).generation]->plan;
    return plan.procedure == Procedure::Expand ? &plan.expand : nullptr;
}

std::vector<size_t> RunSession::notInserted() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < results_.size(); ++i) {
        if (!results_[i].inserted) {
            out.push_back(i);
        }
    }
    return out;
}

KeptResult RunSession::kept(size_t result) const {
    const Kept& k = results_.at(result);
    const Generation& g = *generations_[k.generation];
    KeptResult out;
    out.id = k.id;
    out.run = g.run;
    out.created = g.created;
    out.procedure = g.plan->procedure;
    out.layer = g.layers[k.layer];
    out.settings = g.plan->parameters;
    out.usage = g.usage;
    if (out.procedure == Procedure::Expand) {
        out.canvas = g.plan->expand.canvas;
        out.original = g.plan->expand.original;
    }
    out.inserted = k.inserted;
    return out;
}

RunSession::Generated RunSession::restore(const std::vector<KeptResult>& kept) {
    const size_t first = results_.size();
    size_t from = 0;
    while (from < kept.size()) {
        // One run's results, as they were kept one after another.
        size_t to = from + 1;
        while (to < kept.size() && kept[to].run == kept[from].run &&
               kept[to].procedure == kept[from].procedure) {
            ++to;
        }
        const KeptResult& head = kept[from];
        auto plan = std::make_shared<RunPlan>();
        plan->procedure = head.procedure;
        plan->parameters = head.settings;
        plan->expand.canvas = head.canvas;
        plan->expand.original = head.original;
        Generation generation{std::move(plan), {}, head.usage, head.run, head.created};
        std::vector<KeptResult> group(kept.begin() + static_cast<std::ptrdiff_t>(from),
                                      kept.begin() + static_cast<std::ptrdiff_t>(to));
        for (const auto& k : group) {
            generation.layers.push_back(k.layer);
        }
        addGeneration(std::move(generation), &group);
        from = to;
    }
    return {first, results_.size() - first, Usage{}};
}

// Appends a Generate's results; `kept` gives their IDs and inserted state when restored, else
// they get new IDs from the run's.
size_t RunSession::addGeneration(Generation generation, const std::vector<KeptResult>* kept) {
    const size_t index = generations_.size();
    const size_t count = generation.layers.size();
    const std::string run = generation.run;
    results_.reserve(results_.size() + count);
    generations_.push_back(std::make_unique<const Generation>(std::move(generation)));
    for (size_t i = 0; i < count; ++i) {
        Kept k{index, i, run + "-" + std::to_string(i), false};
        if (kept != nullptr) {
            k.id = (*kept)[i].id;
            k.inserted = (*kept)[i].inserted;
        }
        results_.push_back(std::move(k));
    }
    return index;
}

void RunSession::onPartial(const std::string& bytes) {
    if (!running() || !callbacks_.onPartial) {
        return;
    }
    const RunPlan& plan = operation_->plan();
    auto image = decodeResult(bytes, resultPixelLimit(*plan.service.caps, plan.request.size));
    if (!image) {
        return; // a broken partial image is only a preview: the final image decides
    }
    callbacks_.onPartial(*image);
}

// The operation is kept until the next start: it ends here, from its own callback.
void RunSession::onDone(Result<RunOutcome> outcome) {
    running_ = false;
    if (!outcome) {
        finish(outcome.error());
        return;
    }
    try {
        keep(operation_->sharedPlan(), std::move(outcome->layers), outcome->usage);
    } catch (const std::exception& e) {
        finish(internalError(e));
    }
}

void RunSession::keep(std::shared_ptr<const RunPlan> plan, std::vector<NewLayer> layers,
                      const Usage& usage) {
    const Generated generated{results_.size(), layers.size(), usage};
    addGeneration(Generation{std::move(plan), std::move(layers), usage, ResultHistory::newRunId(),
                             setup_.nowUnix()},
                  nullptr);
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
        const size_t last = groups.empty() ? 0 : groups.back().front();
        if (groups.empty() || procedureOf(last) != procedureOf(result) ||
            (procedureOf(result) == Procedure::Expand &&
             generationOf(last) != generationOf(result))) {
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
        report.results.insert(report.results.end(), group.begin(), group.end());
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
    auto inserted =
        insertResults(*generations_[generation]->plan, layers, host, {}, grownBy_ == generation);
    if (!inserted) {
        return inserted.error();
    }
    if (generations_[generation]->plan->procedure == Procedure::Expand) {
        grownBy_ = generation;
    }
    for (const size_t result : group) {
        results_.at(result).inserted = true;
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
