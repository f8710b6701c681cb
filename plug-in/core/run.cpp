#include "core/run.h"

#include "core/glib_ptr.h"
#include "core/i18n.h"
#include "core/procedures.h"
#include "core/service_text.h"
#include "core/timings.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace imagegen {

int64_t RunSetup::nowUnix() const {
    return clock ? clock() : g_get_real_time() / 1'000'000;
}

namespace {

void phase(PhaseTimer* timings, const char* name) {
    if (timings != nullptr) {
        timings->phase(name);
    }
}

Status addReferences(ImageRequest& request, const std::vector<int>& references, Host& host) {
    for (size_t i = 0; i < references.size(); ++i) {
        auto layer = host.readLayer(references[i]);
        if (!layer) {
            return layer.error();
        }
        auto reference = prepareReference(*layer, 2048, static_cast<int>(i + 1));
        if (!reference) {
            return reference.error();
        }
        request.images.push_back(std::move(*reference));
    }
    return Ok{};
}

// Step 3: the region's pixels and mask, and the reference layers.
Status readEditInputs(PreparedRun& run, const ImageGeometry& geometry, Host& host,
                      PhaseTimer* timings) {
    const Rect held = run.edit.held;
    const RgbaImage pixels = host.readRegion(held);
    run.coverage = geometry.selection ? host.readSelection(held)
                                      : layerCoverage(held, geometry.drawable, geometry.canvas);
    phase(timings, "read");
    const bool jpegTaken = run.service.caps->isGptImage() && run.options.uploadFormat != "png";
    auto upload = prepareEdit(
        pixels, run.coverage, geometry.selection.has_value(), run.edit.apiSize,
        jpegTaken ? UploadFormat::JpegIfOpaque : UploadFormat::Png, run.edit.heldInApi());
    if (!upload) {
        return upload.error();
    }
    run.request.images.push_back(std::move(upload->image));
    run.request.mask = std::move(upload->mask);
    run.kept = std::move(upload->kept);
    auto references = addReferences(run.request, run.options.references, host);
    phase(timings, "encode");
    return references;
}

// What the plan needs of the image: its geometry (nothing for a new image).
Result<std::optional<ImageGeometry>> planImageSide(PreparedRun& run, Host& host) {
    if (run.procedure == Procedure::NewImage) {
        return std::optional<ImageGeometry>();
    }
    auto geometry = host.inspect();
    if (!geometry) {
        return geometry.error();
    }
    auto planned = planGeometry(run.procedure, *run.service.caps, run.parameters, *geometry);
    if (!planned) {
        return withGuessNote(planned.error(), run.service);
    }
    run.edit = planned->edit;
    run.target = planned->target;
    run.expand = planned->expand;
    run.request.size = planned->size;
    return std::optional<ImageGeometry>(*geometry);
}

// The pixels the plan needs: the region and its mask for an edit, the selection a generation is
// masked to.
Status readImageInputs(PreparedRun& run, const ImageGeometry& geometry, Host& host,
                       PhaseTimer* timings) {
    if (run.procedure == Procedure::Edit) {
        return readEditInputs(run, geometry, host, timings);
    }
    if (geometry.selection) {
        run.coverage = host.readSelection(run.target);
    }
    return Ok{};
}

// An edit's result over the part of the region that was read, brought back to the source's tone
// unless the options say otherwise; `fit` says what the colour match did.
Result<RgbaImage> editResult(const PreparedRun& run, const std::string& bytes, int64_t maxPixels,
                             ColorFit& fit) {
    auto decoded = decodeResult(bytes, maxPixels);
    if (!decoded) {
        return decoded.error();
    }
    if (!run.options.matchColors) {
        fit = colorMatchNotTried(ColorMatchOutcome::TurnedOff, "turned off (match_colors false)");
    } else {
        // At the size the model drew: the kept pixels are compared with what it was sent.
        fit = fitColorDrift(run.kept, *decoded);
        undoColorDrift(*decoded, fit);
    }
    // Only what lies over the pixels read becomes the layer: the rest is past the canvas.
    const Rect held = run.edit.held;
    const Size drawn{decoded->width, decoded->height};
    return resize(crop(*decoded, scaledPart(held, run.edit.region, drawn)), held.width,
                  held.height);
}

// One result's pixels, placed as its procedure places them.
Result<NewLayer> layerFor(const PreparedRun& run, const GeneratedImage& image,
                          const std::vector<uint8_t>& editMask, ResultNotes& notes) {
    const int64_t maxPixels = resultPixelLimit(*run.service.caps, run.request.size);
    NewLayer layer;
    if (run.procedure == Procedure::Edit) {
        ColorFit fit;
        auto pixels = editResult(run, image.bytes, maxPixels, fit);
        if (!pixels) {
            return pixels.error();
        }
        notes.colorMatch = std::move(fit);
        layer.bounds = run.edit.held;
        layer.pixels = std::move(*pixels);
        layer.mask = editMask;
    } else if (run.procedure == Procedure::Generate) {
        auto pixels = coverTarget(image.bytes, {run.target.width, run.target.height}, maxPixels);
        if (!pixels) {
            return pixels.error();
        }
        layer.bounds = run.target;
        layer.pixels = std::move(*pixels);
        layer.mask = run.coverage;
    } else {
        auto pixels = decodeResult(image.bytes, maxPixels);
        if (!pixels) {
            return pixels.error();
        }
        layer.bounds = {0, 0, pixels->width, pixels->height};
        layer.pixels = std::move(*pixels);
    }
    return layer;
}

Status checkImageCount(const PreparedRun& run, const ImagesResult& answer) {
    const size_t expected = static_cast<size_t>(std::max(1, run.request.n));
    const size_t got = answer.images.size();
    if (got == expected) {
        return Ok{};
    }
    return makeError(
        ErrorKind::MalformedResponse,
        textf(g_dngettext(GETTEXT_PACKAGE, "the service sent %zu image where %zu were asked for",
                          "the service sent %zu images where %zu were asked for", got),
              got, expected));
}

// Refused before any pixel is read: a run that would hold more canvas copies (one per
// alternative, and its result layer and mask) than memory allows.
Status checkExpandFits(const PreparedRun& run) {
    const int64_t area = int64_t{run.expand.canvas.width} * run.expand.canvas.height;
    const int64_t copies = 3 * int64_t{std::max(1, run.request.n)} + 1;
    if (area * copies > kMaxHeldPixels) {
        Error e = makeError(ErrorKind::InvalidRequest,
                            textf(_("expanding to %dx%d with %d alternatives needs more memory "
                                    "than one run may take: ask for fewer images, or expand a "
                                    "smaller image"),
                                  run.expand.canvas.width, run.expand.canvas.height,
                                  std::max(1, run.request.n)));
        e.param = "n-images";
        return e;
    }
    return Ok{};
}

// Refused before any pixel is read: an edit or a generation whose results (one layer and its
// mask each, beside what was read) would hold more pixels than one run may. The region is on
// the canvas, so only a vast canvas or selection with many alternatives comes near it.
Status checkLayersFit(const PreparedRun& run) {
    const Rect covered = run.procedure == Procedure::Edit ? run.edit.held : run.target;
    const int64_t copies = int64_t{std::max(1, run.request.n)} + 1;
    if (int64_t{covered.width} * covered.height * copies <= kMaxHeldPixels) {
        return Ok{};
    }
    Error e = makeError(ErrorKind::InvalidRequest,
                        textf(_("%dx%d pixels with %d alternatives needs more memory than one run "
                                "may take: ask for fewer images, or select a smaller part"),
                              covered.width, covered.height, std::max(1, run.request.n)));
    e.param = "n-images";
    return e;
}

// Progress while the requests run: GIMP's bar pulses until something is known.
class SendProgress {
  public:
    SendProgress(Host& host, const PreparedRun& run)
        : host_(host),
          steps_(static_cast<double>(run.requests.size()) * (run.partialsPerImage + 1)) {
        pulse_.reset(g_timeout_add(150, &SendProgress::onPulse, this));
    }

    ImagesCallbacks callbacks() {
        ImagesCallbacks c;
        c.onProgress = [this](size_t finished, size_t total) {
            known_ = true;
            host_.progressSet(static_cast<double>(finished) / static_cast<double>(total));
        };
        c.onPartial = [this](size_t /*request*/, int /*index*/, const std::string& /*bytes*/) {
            known_ = true;
            host_.progressSet(++stepsDone_ / steps_);
        };
        return c;
    }

  private:
    static gboolean onPulse(gpointer data) {
        auto* self = static_cast<SendProgress*>(data);
        if (!self->known_) {
            self->host_.progressPulse();
        }
        return G_SOURCE_CONTINUE;
    }

    Host& host_;
    double steps_;
    int stepsDone_ = 0;
    bool known_ = false;
    SourceId pulse_;
};

} // namespace

namespace {

// Only an edit sends reference layers; the others refuse them (dropping them without a word
// would hide it).
const char* referencesRefused(Procedure procedure) {
    switch (procedure) {
    case Procedure::Generate:
        return _("options: references are not used by Generate Layer, only by Edit Selection: "
                 "remove them");
    case Procedure::NewImage:
        return _("options: references are not used by Generate Image, only by Edit Selection: "
                 "remove them");
    case Procedure::Expand:
        return _("options: references are not used by Generative Expand, only by Edit "
                 "Selection: remove them");
    case Procedure::Edit:
        break;
    }
    return "";
}

// Context and feather that no edit can use, refused before anything is read. A context larger
// than the canvas needs is the whole canvas (contextRegion), and a negative value of either is
// its default, so only what is not a number, infinity, and a feather wider than any picture's
// soft edge are left to refuse.
Status checkEditNumbers(const RunParameters& p) {
    constexpr double kMaxFeather = 10000;
    if (!std::isfinite(p.context)) {
        Error e = makeError(ErrorKind::InvalidRequest,
                            _("context must be a number: the padding around the selection as a "
                              "fraction of its larger side, such as 0.15 (-1 for the default)"));
        e.param = "context";
        return e;
    }
    if (!std::isfinite(p.feather) || p.feather > kMaxFeather) {
        Error e = makeError(ErrorKind::InvalidRequest,
                            textf(_("feather %g is out of range: use 0 to %g pixels (-1 for none)"),
                                  p.feather, kMaxFeather));
        e.param = "feather";
        return e;
    }
    return Ok{};
}

// planRun, keeping the geometry it read for the step that reads pixels.
Result<PreparedRun> planWithGeometry(Procedure procedure, const RunParameters& parameters,
                                     RunSetup& setup, Host& host,
                                     std::optional<ImageGeometry>& geometry) {
    // Parameters the last values could not keep are refused, not sent and then forgotten.
    if (auto sizes = checkParameterSizes(specOf(procedure), parameters); !sizes) {
        return sizes.error();
    }
    PreparedRun run;
    run.procedure = procedure;
    run.parameters = parameters;
    auto service = resolveService(
        parameters.connection, parameters.model,
        {setup.catalog, &setup.connections, setup.env, &setup.tokens, setup.nowUnix()});
    if (!service) {
        return service.error();
    }
    run.service = std::move(*service);
    auto options = parseOptions(parameters.options);
    if (!options) {
        return options.error();
    }
    run.options = std::move(*options);
    if (procedure != Procedure::Edit && !run.options.references.empty()) {
        Error e = makeError(ErrorKind::InvalidRequest, referencesRefused(procedure));
        e.param = "references";
        return e;
    }
    run.request = requestFrom(procedure, parameters, run.options);
    run.request.model = run.service.model;
    // The prompt, the size and the fields are refused before any pixel is read.
    if (auto valid = validateFields(*run.service.caps, run.request); !valid) {
        return withGuessNote(valid.error(), run.service);
    }
    auto planned = planImageSide(run, host);
    if (!planned) {
        return planned.error();
    }
    geometry = *planned;
    run.partialsPerImage = run.request.stream ? std::max(0, run.request.partialImages) : 0;
    return run;
}

} // namespace

Error cancelledError() {
    return makeError(ErrorKind::Cancelled, "cancelled");
}

Result<PreparedRun> planRun(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
                            Host& host) {
    std::optional<ImageGeometry> geometry;
    return planWithGeometry(procedure, parameters, setup, host, geometry);
}

Result<PreparedRun> prepareRun(Procedure procedure, const RunParameters& parameters,
                               RunSetup& setup, Host& host, PhaseTimer* timings) {
    std::optional<ImageGeometry> geometry;
    auto run = planWithGeometry(procedure, parameters, setup, host, geometry);
    if (!run) {
        return run;
    }
    if (procedure == Procedure::Expand) {
        // Its requests are built tile by tile, as it runs (runExpand, PendingExpand).
        if (auto fits = checkExpandFits(*run); !fits) {
            return fits.error();
        }
        return run;
    }
    if (geometry) {
        if (auto fits = checkLayersFit(*run); !fits) {
            return fits.error();
        }
        if (auto inputs = readImageInputs(*run, *geometry, host, timings); !inputs) {
            return inputs.error();
        }
    }
    if (auto valid = validateRequest(*run->service.caps, run->request); !valid) {
        return withGuessNote(valid.error(), run->service);
    }
    run->requests = planRequests(*run->service.caps, run->request);
    return run;
}

Result<GeometryPlan> planGeometry(Procedure procedure, const ModelCaps& caps,
                                  const RunParameters& parameters, const ImageGeometry& geometry) {
    // The size is refused as prepareRun refuses it, whatever the procedure.
    if (auto offered = validateSize(caps, parameters.size); !offered) {
        return offered.error();
    }
    GeometryPlan plan;
    plan.size = parameters.size;
    if (procedure == Procedure::Edit) {
        if (auto numbers = checkEditNumbers(parameters); !numbers) {
            return numbers.error();
        }
        // Step 2 of the edit pipeline: the region sent and the size it goes at.
        const double context = parameters.context < 0 ? kDefaultContext : parameters.context;
        auto edit = planEdit(caps, parameters.size, context, geometry);
        if (!edit) {
            return edit.error();
        }
        plan.edit = *edit;
        plan.size = formatSize(edit->apiSize);
    } else if (procedure == Procedure::Expand) {
        auto tile = expandTileSize(caps, parameters.size);
        if (!tile) {
            return tile.error();
        }
        auto expand = planExpand(
            geometry.canvas, {parameters.left, parameters.top, parameters.right, parameters.bottom},
            *tile);
        if (!expand) {
            return expand.error();
        }
        plan.expand = std::move(*expand);
        plan.size = formatSize(*tile);
    } else if (procedure == Procedure::Generate) {
        // The selection's bounds (or the canvas); an unset size is the model's size nearest that
        // shape.
        plan.target = generationTarget(geometry);
        if (plan.size.empty() || (caps.freeSizes && plan.size == "auto")) {
            auto size = chooseApiSize(caps, "", {plan.target.width, plan.target.height});
            if (!size) {
                return size.error();
            }
            plan.size = formatSize(*size);
        }
    }
    return plan;
}

double upscaleFactor(Procedure procedure, const GeometryPlan& plan) {
    const auto drawn = parseSize(plan.size);
    if (procedure == Procedure::NewImage || procedure == Procedure::Expand || !drawn ||
        drawn->width <= 0 || drawn->height <= 0) {
        return 1.0;
    }
    const Rect covered = procedure == Procedure::Edit ? plan.edit.region : plan.target;
    return std::max(static_cast<double>(covered.width) / drawn->width,
                    static_cast<double>(covered.height) / drawn->height);
}

namespace {

// The answers as the run keeps and shows them. responses.cpp has made what the service said
// readable and dropped what is shaped like a key as it read the answer; the run's own key or
// token, which only the run knows and which need not look like a key, goes here, from the error
// and from every revised prompt (kept in the result's parasite, and so in a saved XCF).
Result<ImagesResult> withoutTheKey(Result<ImagesResult> r, const Service& service) {
    const std::string& secret = service.credential.secret;
    if (!r) {
        Error e = withGuessNote(r.error(), service);
        // A message may quote the service in more places than responses.cpp reads (a request
        // ID after an answer that could not be read): no control character reaches a person.
        e.message = readableText(withoutSecret(e.message, secret));
        e.requestId = serviceText(e.requestId, kMaxRequestIdChars, secret);
        return e;
    }
    for (auto& image : r->images) {
        image.revisedPrompt = withoutSecret(image.revisedPrompt, secret);
    }
    return r;
}

} // namespace

PendingSend::PendingSend(const PreparedRun& run, const RunSetup& setup, ImagesCallbacks callbacks,
                         std::function<void(Result<ImagesResult>)> done)
    : cancellable_(adoptRef(g_cancellable_new())), http_(setup.http),
      client_(http_, setup.maxInFlight) {
    client_.run(run.service.connection, run.service.credential, run.requests, cancellable_.get(),
                std::move(callbacks),
                [done = std::move(done), service = run.service](Result<ImagesResult> r) {
                    done(withoutTheKey(std::move(r), service));
                });
}

PendingSend::~PendingSend() {
    g_cancellable_cancel(cancellable_.get());
}

void PendingSend::cancel() {
    g_cancellable_cancel(cancellable_.get());
}

Result<ImagesResult> sendAndWait(const PreparedRun& run, const RunSetup& setup,
                                 GCancellable* cancellable, Host& host) {
    HostProgress shown(host, textf(_("Imagegen: waiting for %s…"), run.service.model.c_str()));
    SendProgress progress(host, run);
    HttpClient http(setup.http);
    ImagesClient client(http, setup.maxInFlight);
    std::optional<Result<ImagesResult>> result;
    const GMainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
    client.run(run.service.connection, run.service.credential, run.requests, cancellable,
               progress.callbacks(), [&](Result<ImagesResult> r) {
                   result = std::move(r);
                   g_main_loop_quit(loop.get());
               });
    // `done` may already have run, when the plan failed before anything was sent.
    if (!result) {
        g_main_loop_run(loop.get());
    }
    return withoutTheKey(std::move(*result), run.service);
}

Result<std::vector<NewLayer>> layersFromAnswers(const PreparedRun& run, const ImagesResult& answer,
                                                int64_t nowUnix, const CancelCheck& cancelled) {
    if (auto count = checkImageCount(run, answer); !count) {
        return count.error();
    }
    const RunParameters& p = run.parameters;
    const std::vector<uint8_t> editMask =
        run.procedure == Procedure::Edit
            ? featherInward(run.coverage, run.edit.held.width, run.edit.held.height,
                            p.feather < 0 ? kDefaultFeather : p.feather)
            : std::vector<uint8_t>();
    std::vector<NewLayer> layers;
    const int count = static_cast<int>(answer.images.size());
    for (int i = 0; i < count; ++i) {
        if (cancelled && cancelled()) {
            return cancelledError();
        }
        const GeneratedImage& image = answer.images[static_cast<size_t>(i)];
        ResultNotes notes;
        notes.upscaleFactor =
            upscaleFactor(run.procedure, {run.edit, run.target, run.request.size, {}});
        auto layer = layerFor(run, image, editMask, notes);
        if (!layer) {
            return layer.error();
        }
        layer->name = layerNameFor(p.prompt, i, count);
        layer->visible = i == 0;
        layer->parasite = resultParasite(p.prompt, image.revisedPrompt, run.service.model,
                                         run.request.size, run.request.quality, nowUnix, notes);
        layers.push_back(std::move(*layer));
    }
    return layers;
}

namespace {

// An expand's layers cover the new canvas. The first insert grows the canvas; the dialog may
// insert more of the same run's results afterwards, into the canvas that insert grew. A canvas of
// any other size (or of the grown size, grown by something else: another run with the picture
// elsewhere) would put the border over the picture.
Result<std::vector<int>> insertExpanded(const PreparedRun& run, const std::vector<NewLayer>& layers,
                                        const std::string& groupName, Host& host,
                                        const CancelCheck& cancelled) {
    auto geometry = host.inspect();
    if (!geometry) {
        return geometry.error();
    }
    const Size now = geometry->canvas;
    const Size grown = run.expand.canvas;
    if (run.expandCanvasGrown && now.width == grown.width && now.height == grown.height) {
        return host.insertLayers(layers, groupName, cancelled);
    }
    if (now.width != run.expand.original.width || now.height != run.expand.original.height) {
        return makeError(ErrorKind::InvalidRequest,
                         _("The image's size changed since these results were made, so they no "
                           "longer fit it; nothing was inserted. Run Generative Expand again."));
    }
    const RunParameters& p = run.parameters;
    return host.insertLayersExpanding({p.left, p.top, p.right, p.bottom}, layers, groupName,
                                      cancelled);
}

} // namespace

Result<Inserted> insertResults(const PreparedRun& run, const std::vector<NewLayer>& layers,
                               Host& host, const CancelCheck& cancelled) {
    const CancelCheck never = [] {
        return false;
    };
    const CancelCheck& check = cancelled ? cancelled : never;
    const std::string groupName = layerNameFor(run.parameters.prompt, 0, 1);
    Inserted inserted;
    if (run.procedure == Procedure::NewImage) {
        const Size canvas = layers.empty()
                                ? Size{}
                                : Size{layers.front().bounds.width, layers.front().bounds.height};
        auto image = host.createImage(canvas, layers, groupName, check);
        if (!image) {
            return image.error();
        }
        inserted.image = *image;
        return inserted;
    }
    auto ids = run.procedure == Procedure::Expand
                   ? insertExpanded(run, layers, groupName, host, check)
                   : host.insertLayers(layers, groupName, check);
    if (!ids) {
        return ids.error();
    }
    inserted.layers = std::move(*ids);
    return inserted;
}

Result<Inserted> runProcedure(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
                              Host& host, GCancellable* cancellable, CancelCheck cancelled) {
    if (!cancelled) {
        cancelled = [cancellable] {
            return g_cancellable_is_cancelled(cancellable) != FALSE;
        };
    }
    if (procedure == Procedure::Expand) {
        return runExpand(parameters, setup, host, cancellable, cancelled);
    }
    PhaseTimer timings;
    auto run = prepareRun(procedure, parameters, setup, host, &timings);
    if (!run) {
        return run.error();
    }
    if (cancelled()) {
        return cancelledError(); // nothing has been sent
    }
    auto answer = sendAndWait(*run, setup, cancellable, host);
    timings.phase("request");
    if (!answer) {
        return answer.error();
    }
    auto layers = layersFromAnswers(*run, *answer, setup.nowUnix(), cancelled);
    if (!layers) {
        return layers.error();
    }
    timings.phase("decode");
    auto inserted = insertResults(*run, *layers, host, cancelled);
    timings.phase("insert");
    timings.total();
    return inserted;
}

} // namespace imagegen
