// One run of a procedure as core code, in steps: prepare (resolve the service, read the options
// and the pixels, plan the requests), send, turn the answers into layers, and insert them. A
// Script-Fu call takes every step at once through runProcedure; the dialog takes them apart, so
// that it can keep results until the user inserts them. The editor is reached only through Host.
#pragma once

#include "core/connection.h"
#include "core/error.h"
#include "core/expand.h"
#include "core/glib_ptr.h"
#include "core/host.h"
#include "core/http_client.h"
#include "core/image_request.h"
#include "core/images_client.h"
#include "core/models.h"
#include "core/pipeline.h"
#include "core/run_parameters.h"
#include "core/service.h"

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace imagegen {

class PhaseTimer;

// What a run needs besides the host and its parameters.
struct RunSetup {
    const ModelCatalog* catalog = nullptr;
    ConnectionStore connections;
    EnvLookup env;
    EntraTokenSource tokens;        // kept between runs, so a token is fetched once
    std::function<int64_t()> clock; // unix seconds; the real clock when empty
    HttpOptions http;
    size_t maxInFlight = 4; // requests sent at once for a plan of several

    [[nodiscard]] int64_t nowUnix() const;
};

// A run ready to send: nothing has gone on the wire yet.
struct PreparedRun {
    Procedure procedure = Procedure::Edit;
    RunParameters parameters;
    Service service;
    ImageRequest request;               // validated, with the size the plan chose
    std::vector<ImageRequest> requests; // what goes on the wire
    EditPlan edit;                      // edit: the region sent and its API size
    Rect target;                        // generate: what the results cover
    ExpandPlan expand;                  // expand: the new canvas and its tiles
    std::vector<uint8_t> coverage;      // the selection over the region or target; may be empty
    // Edit: a sample of the pixels the mask told the model to keep, as sent, for the colour match.
    // At most kMaxColorSamples (about 240 KB), where the region's own pixels could take hundreds
    // of megabytes while the request is in flight.
    KeptSamples kept;
    int partialsPerImage = 0; // streamed partial images expected per result
    Options options;
    // Expand: an earlier insert of this run's results grew the canvas, and nothing has grown it
    // since (the dialog, which may insert a run's results one at a time, says so). Only then is
    // a canvas of the grown size taken as this run's own.
    bool expandCanvasGrown = false;
};

// Every refusal that needs no network comes from here: the service, the options, the fields
// (before any pixel is read), the image, the plan, and the encoded request.
Result<PreparedRun> prepareRun(Procedure procedure, const RunParameters& parameters,
                               RunSetup& setup, Host& host, PhaseTimer* timings = nullptr);

// The first half of prepareRun, which reads no pixel: the service, the options, the fields, the
// image's geometry and the plan (the region an edit sends, the size it goes at). The dialog calls
// it at each change of an option, to show what will be sent and to refuse early.
Result<PreparedRun> planRun(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
                            Host& host);

// Where a run's results go and the size the model draws them at, from the model and the image's
// geometry alone: no service, no pixel. prepareRun follows it; the dialog shows it before a
// Generate (the region outlined on the thumbnail, the enlargement, the estimated tokens).
struct GeometryPlan {
    EditPlan edit;     // edit: the region sent and its API size
    Rect target;       // generate: what the results cover
    std::string size;  // the size sent ("" when the model chooses)
    ExpandPlan expand; // expand: the new canvas and its tiles
};
Result<GeometryPlan> planGeometry(Procedure procedure, const ModelCaps& caps,
                                  const RunParameters& parameters, const ImageGeometry& geometry);

// How much the results will be enlarged to cover what they replace: the region an edit sends, or
// the target a generation covers, against the size the model draws. 1 or less: not enlarged.
double upscaleFactor(Procedure procedure, const GeometryPlan& plan);

// The requests of a run in flight on the thread-default main context, for a caller that does not
// wait (the dialog). `done` runs once, from the main loop, never inside the constructor.
// Destroying the object (a dialog closed mid-run) closes every connection at once and drops
// every callback, so nothing runs after its owner has gone.
class PendingSend {
  public:
    PendingSend(const PreparedRun& run, const RunSetup& setup, ImagesCallbacks callbacks,
                std::function<void(Result<ImagesResult>)> done);
    ~PendingSend();
    PendingSend(const PendingSend&) = delete;
    PendingSend& operator=(const PendingSend&) = delete;
    PendingSend(PendingSend&&) = delete;
    PendingSend& operator=(PendingSend&&) = delete;

    // Ends the run as ErrorKind::Cancelled (through `done`).
    void cancel();

  private:
    GRef<GCancellable> cancellable_;
    HttpClient http_;
    ImagesClient client_;
};

class ExpandTiles;

// Generative Expand's tiles in flight on the thread-default main context, one after another,
// for a caller that does not wait (the dialog): PendingSend's contract, a tile at a time. `run`
// comes from prepareRun(Procedure::Expand, …), `original` is the picture it grows
// (readExpandOriginal). `done` runs once, from the main loop, with the layers insertResults puts
// in; it may destroy this object. onProgress counts tiles (done, all); onPartial shows a tile as
// it is drawn. Destroying the object drops the tile in flight and every callback.
class PendingExpand {
  public:
    PendingExpand(PreparedRun run, const RgbaImage& original, const RunSetup& setup,
                  ImagesCallbacks callbacks,
                  std::function<void(Result<std::vector<NewLayer>>)> done);
    ~PendingExpand();
    PendingExpand(const PendingExpand&) = delete;
    PendingExpand& operator=(const PendingExpand&) = delete;
    PendingExpand(PendingExpand&&) = delete;
    PendingExpand& operator=(PendingExpand&&) = delete;

    // Ends the run as ErrorKind::Cancelled (through `done`).
    void cancel();
    [[nodiscard]] size_t tilesDone() const;
    [[nodiscard]] size_t tileCount() const;
    // The tokens of the tiles answered so far, summed.
    [[nodiscard]] const Usage& usage() const { return usage_; }

  private:
    void scheduleStep();
    void step();
    void finish(Result<std::vector<NewLayer>> result);

    PreparedRun run_;
    const RunSetup& setup_;
    ImagesCallbacks callbacks_;
    std::function<void(Result<std::vector<NewLayer>>)> done_;
    std::unique_ptr<ExpandTiles> tiles_;         // reads run_'s plan
    std::optional<Result<ImagesResult>> answer_; // the tile just answered, for the next step
    Usage usage_;
    bool cancelled_ = false;
    SourceId step_;
    // Last, so that it goes first: its callback points at everything above.
    std::unique_ptr<PendingSend> send_;
};

// The picture an expand grows: the whole old canvas of the active layer.
RgbaImage readExpandOriginal(const PreparedRun& run, Host& host);

// ErrorKind::Cancelled, as every step of a run reports a cancel.
Error cancelledError();

// Sends the planned requests on the thread-default main context and waits for them, showing
// progress through the host. A cancel of `cancellable` ends it as ErrorKind::Cancelled.
Result<ImagesResult> sendAndWait(const PreparedRun& run, const RunSetup& setup,
                                 GCancellable* cancellable, Host& host);

// The answers as layers; every image is decoded before any layer is made, so a broken answer
// leaves the image as it was. `cancelled` is checked between images.
Result<std::vector<NewLayer>> layersFromAnswers(const PreparedRun& run, const ImagesResult& answer,
                                                int64_t nowUnix, const CancelCheck& cancelled = {});

struct Inserted {
    std::vector<int> layers; // edit, generate
    int image = -1;          // new image
};

// Puts the layers into the image (edit, generate) or a new image, as one undo step.
Result<Inserted> insertResults(const PreparedRun& run, const std::vector<NewLayer>& layers,
                               Host& host, const CancelCheck& cancelled = {});

// Generative Expand, every step: the tiles are sent one after another (each is built from the
// picture and the tiles done before it, so it needs their results), then the canvas grows and
// the results go in as one undo step. A cancel or an error leaves the image as it was.
Result<Inserted> runExpand(const RunParameters& parameters, RunSetup& setup, Host& host,
                           GCancellable* cancellable, const CancelCheck& cancelled);

// All the steps, as a Script-Fu call takes them. A cancel at any step (a cancelled
// `cancellable`, or `cancelled` answering true between steps that do not wait on the main loop)
// ends the run as ErrorKind::Cancelled with the image as it was.
Result<Inserted> runProcedure(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
                              Host& host, GCancellable* cancellable, CancelCheck cancelled = {});

} // namespace imagegen
