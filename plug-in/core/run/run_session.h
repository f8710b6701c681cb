// The runs of one dialog, as core code with no GTK: the Generate in flight (one at a time), the
// results of every Generate, kept until the session ends so that any of them can be inserted,
// and their insert. Each Generate takes the core's steps exactly as a Script-Fu call with the
// same parameters would (prepareRun, the one run operation on the thread-default main loop,
// insertResults); the dialog only shows what the session reports. The editor is reached only
// through the Host given to each call.
//
// Only this class knows how a run is sent (RunOperation) and what a result keeps of its run, so
// that the way of running can change behind it.
#pragma once

#include "core/pixels/expand.h"
#include "core/run/host.h"
#include "core/run/procedures.h"
#include "core/run/run.h"
#include "core/run/run_operation.h"
#include "core/run/run_parameters.h"
#include "core/service/responses.h"
#include "core/user/result_history.h"
#include "core/util/error.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace imagegen {

class RunSession {
  public:
    // A Generate that ended with results: they are the session's results first … first+count-1.
    struct Generated {
        size_t first = 0;
        size_t count = 0;
        Usage usage; // the tokens the service reported, summed over the requests or tiles
    };

    // What a Generate reports, always from the main loop, never inside start() or cancel().
    struct Callbacks {
        // A streamed partial image, decoded; a broken one is only a preview and is skipped.
        std::function<void(const RgbaImage& image)> onPartial;
        // The part of the run done, from 0 to 1: requests answered, or an expand's tiles.
        std::function<void(double fraction)> onProgress;
        // The run ended: with its results kept, or with an error (ErrorKind::Cancelled after
        // cancel()). Nothing of a failed run is kept. May not destroy the session.
        std::function<void(Result<Generated> ended)> onDone;
    };

    // The chosen results that went in: `layers` in `steps` undo steps. `error` is the refusal
    // that stopped the insert, after the steps before it went in.
    struct InsertReport {
        size_t layers = 0;
        size_t steps = 0;
        std::optional<Error> error;
        std::vector<size_t> results; // the results that went in
    };

    using HostFactory = std::function<std::unique_ptr<Host>()>;

    RunSession(Procedure procedure, RunSetup& setup, Callbacks callbacks);
    // A run in flight is dropped: its connections close now, and no callback of it runs.
    ~RunSession();
    RunSession(const RunSession&) = delete;
    RunSession& operator=(const RunSession&) = delete;
    RunSession(RunSession&&) = delete;
    RunSession& operator=(RunSession&&) = delete;

    // Starts a Generate of `parameters` on the image as `host` shows it now. A refusal that
    // needs no network (the service, an option, the image, the plan) comes back here, and then
    // nothing starts; so does a start while a run is in flight.
    Status start(const RunParameters& parameters, Host& host);
    // Ends the run in flight as ErrorKind::Cancelled, through onDone; nothing when none is.
    void cancel();
    // Drops the run in flight (the dialog is closing): no callback of it runs.
    void stop();
    [[nodiscard]] bool running() const;

    // Of the run in flight; empty or 0 when none is.
    [[nodiscard]] std::string model() const;    // the model or deployment asked
    [[nodiscard]] int partialsExpected() const; // partial images it will stream in all
    // Expand: {tiles painted, tiles in all}.
    [[nodiscard]] std::optional<std::pair<size_t, size_t>> tiles() const;

    // The results kept, in the order they came.
    [[nodiscard]] size_t resultCount() const { return results_.size(); }
    [[nodiscard]] const NewLayer& layer(size_t result) const;
    [[nodiscard]] const std::string& promptOf(size_t result) const;
    // Which Generate made it (0 for the first): an expand's results go in with their own run.
    [[nodiscard]] size_t generationOf(size_t result) const;
    // Expand: the canvas the result was made for and where the picture is in it; else nullptr.
    [[nodiscard]] const ExpandPlan* expandOf(size_t result) const;

    // Puts the chosen results (indices, in the order given) into the image, inserted before or
    // not. Edit and generate results carry their own place: all go in as one undo step. An
    // expand's results go in with the run that made them: the chosen ones of each Generate
    // together, one undo step each; a second insert of the run whose insert last grew the
    // canvas goes into that canvas. Results of different procedures (restored ones) go in
    // apart. Each step reads the image anew through `makeHost`.
    InsertReport insert(const std::vector<size_t>& chosen, const HostFactory& makeHost);

    // Whether the result went into the image (in this session, or before it was kept).
    [[nodiscard]] bool isInserted(size_t result) const { return results_.at(result).inserted; }
    // What "Insert all" inserts: the results not inserted yet, in order. One already inserted
    // goes in again only when chosen by itself (insert() inserts whatever it is given).
    [[nodiscard]] std::vector<size_t> notInserted() const;

    // The result as the dialog keeps it on disk (core/user/result_history.h), and its ID there.
    [[nodiscard]] KeptResult kept(size_t result) const;
    [[nodiscard]] const std::string& idOf(size_t result) const { return results_.at(result).id; }
    // Results kept from an earlier dialog on this image, added after the session's own as if a
    // Generate had made them (those of one run together), with their inserted state. They go in
    // exactly as they would have then: an edit's or a generation's in its own place; an
    // expand's only into a canvas of the size it was made for. No callback runs.
    Generated restore(const std::vector<KeptResult>& kept);

    // Everything inserted while the session lasted.
    [[nodiscard]] const Inserted& inserted() const { return inserted_; }
    [[nodiscard]] bool insertedAny() const { return insertedAny_; }

  private:
    // One Generate's results with the plan they came from (its upload went with the requests).
    struct Generation {
        std::shared_ptr<const RunPlan> plan;
        std::vector<NewLayer> layers;
        Usage usage;
        std::string run;     // its ID, kept with its results
        int64_t created = 0; // unix seconds
    };
    struct Kept {
        size_t generation = 0;
        size_t layer = 0;
        std::string id;
        bool inserted = false;
    };

    void onDone(Result<RunOutcome> outcome);
    void onPartial(const std::string& bytes);
    void keep(std::shared_ptr<const RunPlan> plan, std::vector<NewLayer> layers,
              const Usage& usage);
    size_t addGeneration(Generation generation, const std::vector<KeptResult>* kept);
    [[nodiscard]] Procedure procedureOf(size_t result) const;
    void finish(Result<Generated> ended) noexcept;
    Status insertStep(const std::vector<size_t>& group, Host& host);

    const Procedure procedure_;
    RunSetup& setup_;
    Callbacks callbacks_;
    std::vector<std::unique_ptr<const Generation>> generations_;
    std::vector<Kept> results_;
    // The expand whose insert last grew the canvas: more of its results go into that canvas.
    std::optional<size_t> grownBy_;
    Inserted inserted_;
    bool insertedAny_ = false;

    // The run in flight, or the last one, kept until the next start (it ends from its own
    // callback). Last, so that it goes first: its callbacks point at everything above.
    std::unique_ptr<RunOperation> operation_;
    bool running_ = false;
};

} // namespace imagegen
