// The one run of a procedure, asynchronous: a prepared run's requests go out on the thread-default
// main context, a step at a time (Edit, Generate Layer and Generate Image send one step,
// Generative Expand one per tile: run_strategy.h), and `done` gets the layers. A Script-Fu call
// starts it and runs a main loop until it ends (runProcedure, as G'MIC-Qt's headless processor
// does); the dialog starts it and keeps the results until the user inserts them.
#pragma once

#include "core/run/host.h"
#include "core/run/run.h"
#include "core/service/credential_lookup.h"
#include "core/service/http_client.h"
#include "core/service/images_client.h"
#include "core/util/glib_ptr.h"

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <optional>

namespace imagegen {

class PhaseTimer;
class RunStrategy;

// What a run reports while it goes: steps done of all (requests answered, or tiles painted), and
// each streamed partial image.
struct RunEvents {
    std::function<void(size_t done, size_t total)> onProgress;
    std::function<void(size_t request, int partialIndex, const std::string& bytes)> onPartial;
};

struct RunOutcome {
    std::vector<NewLayer> layers;
    Usage usage; // the tokens of every step, as the service reported them
};

class RunOperation {
  public:
    using Done = std::function<void(Result<RunOutcome>)>;

    // Starts `run`, first looking its credential up on a worker thread when the plan left it
    // pending (and keeping what it found in `setup` for the next run). `done` runs once, from the
    // main loop, never inside the constructor; it may destroy this object. Destroying it (a dialog
    // closed mid-run) closes every connection at once and drops every callback, so nothing runs
    // after its owner has gone. A cancel of `outer` (may be null) ends the run as a cancel;
    // `cancelled` (may be empty) is asked between the steps that do not wait on the main loop
    // (decoding, making layers). `timings` (may be null) ends its phases "request" and "decode".
    RunOperation(PreparedRun run, RunSetup& setup, RunEvents events, Done done,
                 GCancellable* outer = nullptr, CancelCheck cancelled = {},
                 PhaseTimer* timings = nullptr);
    ~RunOperation();
    RunOperation(const RunOperation&) = delete;
    RunOperation& operator=(const RunOperation&) = delete;
    RunOperation(RunOperation&&) = delete;
    RunOperation& operator=(RunOperation&&) = delete;

    // Ends the run as ErrorKind::Cancelled (through `done`).
    void cancel();

    // What the run is; the results are inserted with it (insertResults).
    [[nodiscard]] const RunPlan& plan() const { return *plan_; }
    [[nodiscard]] std::shared_ptr<const RunPlan> sharedPlan() const { return plan_; }
    [[nodiscard]] size_t stepsDone() const;
    [[nodiscard]] size_t stepCount() const;
    [[nodiscard]] const Usage& usage() const { return usage_; }

  private:
    void lookUpCredential();
    void scheduleStep();
    void step();
    void send(std::vector<ImageRequest> requests);
    void finish(Result<RunOutcome> result);
    [[nodiscard]] bool isCancelled() const;

    std::shared_ptr<const RunPlan> plan_;
    std::unique_ptr<RunStrategy> strategy_; // reads *plan_
    RunSetup& setup_;
    Credential credential_; // the plan's, or the one looked up
    RunEvents events_;
    Done done_;
    GRef<GCancellable> cancellable_;
    GRef<GCancellable> outer_;
    gulong outerHandler_ = 0;
    CancelCheck cancelled_;
    PhaseTimer* timings_;
    std::optional<Result<ImagesResult>> answer_; // the step just answered, for the next step
    Usage usage_;
    SourceId step_;
    // Last, so that they go first: their callbacks point at everything above.
    std::unique_ptr<HttpClient> http_;
    std::unique_ptr<ImagesClient> client_;
    std::unique_ptr<CredentialLookup> lookup_;
};

// Every step of a call that waits (Script-Fu): prepared, run to its end on a main loop of its own
// with progress shown through the host, and inserted as one undo step. A cancel at any step (a
// cancelled `cancellable`, or `cancelled` answering true between steps that do not wait on the
// main loop) ends it as ErrorKind::Cancelled with the image as it was.
Result<Inserted> runProcedure(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
                              Host& host, GCancellable* cancellable, CancelCheck cancelled = {});

} // namespace imagegen
