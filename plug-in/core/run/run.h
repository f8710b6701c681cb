// One run of a procedure as core code: prepare (resolve the service, read the options and the
// pixels, plan), then the one asynchronous run operation (run_operation.h) sends and turns the
// answers into layers, and insertResults puts them in. A Script-Fu call waits for the operation
// (runProcedure); the dialog starts it and keeps the results until the user inserts them. The
// editor is reached only through Host.
#pragma once

#include "core/pixels/expand.h"
#include "core/pixels/pipeline.h"
#include "core/run/host.h"
#include "core/run/run_parameters.h"
#include "core/service/connection.h"
#include "core/service/credential_lookup.h"
#include "core/service/http_client.h"
#include "core/service/image_request.h"
#include "core/service/images_client.h"
#include "core/service/models.h"
#include "core/service/service.h"
#include "core/util/error.h"
#include "core/util/glib_ptr.h"

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
    // Kept between runs, so that a token is fetched once and a saved key read once; shared
    // with a lookup's worker thread, which may outlive the run that started it.
    std::shared_ptr<EntraTokenSource> tokens = std::make_shared<EntraTokenSource>();
    CredentialCache credentials;
    std::function<int64_t()> clock; // unix seconds; the real clock when empty
    HttpOptions http;
    size_t maxInFlight = 4; // requests sent at once for a plan of several

    [[nodiscard]] int64_t nowUnix() const;
};

// What a run is, once planned and read: immutable from then on. The encoded pixels it sends are
// not here but in its Upload, which the send consumes.
struct RunPlan {
    Procedure procedure = Procedure::Edit;
    RunParameters parameters;
    Service service;
    ImageRequest request;          // validated, with the size the plan chose; no images
    EditPlan edit;                 // edit: the region sent and its API size
    Rect target;                   // generate: what the results cover
    ExpandPlan expand;             // expand: the new canvas and its tiles
    std::vector<uint8_t> coverage; // the selection over the region or target; may be empty
    // Edit: a sample of the pixels the mask told the model to keep, as sent, for the colour match.
    // At most kMaxColorSamples (about 240 KB), where the region's own pixels could take hundreds
    // of megabytes while the request is in flight.
    KeptSamples kept;
    int partialsPerImage = 0; // streamed partial images expected per result
};

// The pixels a run sends, held once: an edit's encoded region, mask and reference layers, moved
// into the request when it goes (and from there into the HTTP body alone); the picture an expand
// grows, which its tiles read. Move-only.
struct Upload {
    Upload() = default;
    ~Upload() = default;
    Upload(Upload&&) = default;
    Upload& operator=(Upload&&) = default;
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;

    std::vector<InputImage> images; // edit: the region, then the references
    std::optional<InputImage> mask;
    RgbaImage original; // expand
};

// A run ready to send: nothing has gone on the wire yet.
struct PreparedRun {
    RunPlan plan;
    Upload upload;
};

// Every refusal that needs no network comes from here: the service, the options, the fields
// (before any pixel is read), the image, the plan, and the encoded request. It never waits on
// the Secret Service or the Azure CLI: a credential not at hand is left pending
// (Service::credentialPending) for the run operation to look up off the main loop.
Result<PreparedRun> prepareRun(Procedure procedure, const RunParameters& parameters,
                               RunSetup& setup, Host& host, PhaseTimer* timings = nullptr);

// Where an edit's or an expand's pixels come from: the picture as the user sees it when the options
// say "visible", else the active layer.
PixelSource pixelSource(const RunParameters& parameters);
// The image's geometry as the run sees it: with the picture as the source, the "layer" is the
// whole canvas.
ImageGeometry asSent(ImageGeometry geometry, const RunParameters& parameters);

// The first half of prepareRun, which reads no pixel: the service, the options, the fields, the
// image's geometry and the plan (the region an edit sends, the size it goes at). The dialog calls
// it at each change of an option, to show what will be sent and to refuse early. As prepareRun,
// it looks no credential up: the plan needs the connection and the model, not the secret.
Result<RunPlan> planRun(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
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

// ErrorKind::Cancelled, as every step of a run reports a cancel.
Error cancelledError();

struct Inserted {
    std::vector<int> layers; // edit, generate
    int image = -1;          // new image
};

// Puts the layers into the image (edit, generate) or a new image, as one undo step. An expand's
// first insert grows the canvas; `expandCanvasGrown` says an earlier insert of this run's results
// grew it and nothing has grown it since (the dialog, which may insert a run's results one at a
// time, knows): only then is a canvas of the grown size taken as this run's own.
Result<Inserted> insertResults(const RunPlan& plan, const std::vector<NewLayer>& layers, Host& host,
                               const CancelCheck& cancelled = {}, bool expandCanvasGrown = false);

} // namespace imagegen
