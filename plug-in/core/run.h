// One run of a procedure as core code, in steps: prepare (resolve the service, read the options
// and the pixels, plan the requests), send, turn the answers into layers, and insert them. A
// Script-Fu call takes every step at once through runProcedure; the dialog takes them apart, so
// that it can keep results until the user inserts them. The editor is reached only through Host.
#pragma once

#include "core/connection.h"
#include "core/error.h"
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
    std::vector<uint8_t> coverage;      // the selection over the region or target; may be empty
    int partialsPerImage = 0;           // streamed partial images expected per result
};

// Every refusal that needs no network comes from here: the service, the options, the fields
// (before any pixel is read), the image, the plan, and the encoded request.
Result<PreparedRun> prepareRun(Procedure procedure, const RunParameters& parameters,
                               RunSetup& setup, Host& host, PhaseTimer* timings = nullptr);

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

// All the steps, as a Script-Fu call takes them. A cancel at any step (a cancelled
// `cancellable`, or `cancelled` answering true between steps that do not wait on the main loop)
// ends the run as ErrorKind::Cancelled with the image as it was.
Result<Inserted> runProcedure(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
                              Host& host, GCancellable* cancellable, CancelCheck cancelled = {});

} // namespace imagegen
