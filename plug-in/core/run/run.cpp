#include "core/run/run.h"

#include "core/run/procedures.h"
#include "core/service/service_text.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/timings.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace imagegen {

int64_t RunSetup::nowUnix() const {
    return clock ? clock() : g_get_real_time() / 1'000'000;
}

PixelSource pixelSource(const RunParameters& parameters) {
    return parameters.options.sendsVisible() ? PixelSource::Visible : PixelSource::ActiveLayer;
}

ImageGeometry asSent(ImageGeometry geometry, const RunParameters& parameters) {
    // The picture covers the whole canvas: without a selection, all of it is edited.
    if (pixelSource(parameters) == PixelSource::Visible) {
        geometry.drawable = {0, 0, geometry.canvas.width, geometry.canvas.height};
    }
    return geometry;
}

namespace {

Status addReferences(Upload& upload, const std::vector<int>& references, Host& host) {
    for (size_t i = 0; i < references.size(); ++i) {
        auto layer = host.readLayer(references[i]);
        if (!layer) {
            return layer.error();
        }
        auto reference = prepareReference(*layer, 2048, static_cast<int>(i + 1));
        if (!reference) {
            return reference.error();
        }
        upload.images.push_back(std::move(*reference));
    }
    return Ok{};
}

// Step 3: the region's pixels and mask, and the reference layers.
Status readEditInputs(RunPlan& run, Upload& sent, const ImageGeometry& geometry, Host& host,
                      PhaseTimer* timings) {
    const Rect held = run.edit.held;
    const RgbaImage pixels = host.readRegion(held, pixelSource(run.parameters));
    run.coverage = geometry.selection ? host.readSelection(held)
                                      : layerCoverage(held, geometry.drawable, geometry.canvas);
    endPhase(timings, "read");
    const bool jpegTaken =
        run.service.caps->isGptImage() && run.parameters.options.uploadFormat != "png";
    auto upload = prepareEdit(
        pixels, run.coverage, geometry.selection.has_value(), run.edit.apiSize,
        jpegTaken ? UploadFormat::JpegIfOpaque : UploadFormat::Png, run.edit.heldInApi());
    if (!upload) {
        return upload.error();
    }
    sent.images.push_back(std::move(upload->image));
    sent.mask = std::move(upload->mask);
    run.kept = std::move(upload->kept);
    auto references = addReferences(sent, run.parameters.options.references, host);
    endPhase(timings, "encode");
    return references;
}

// What the plan needs of the image: its geometry (nothing for a new image).
Result<std::optional<ImageGeometry>> planImageSide(RunPlan& run, Host& host) {
    if (run.procedure == Procedure::NewImage) {
        return std::optional<ImageGeometry>();
    }
    auto geometry = host.inspect();
    if (!geometry) {
        return geometry.error();
    }
    *geometry = asSent(*geometry, run.parameters);
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

// The pixels the plan needs: the region and its mask for an edit, the picture an expand grows,
// the selection a generation is masked to.
Status readImageInputs(PreparedRun& run, const ImageGeometry& geometry, Host& host,
                       PhaseTimer* timings) {
    RunPlan& plan = run.plan;
    if (plan.procedure == Procedure::Edit) {
        return readEditInputs(plan, run.upload, geometry, host, timings);
    }
    if (plan.procedure == Procedure::Expand) {
        run.upload.original =
            host.readRegion({0, 0, plan.expand.original.width, plan.expand.original.height},
                            pixelSource(plan.parameters));
        endPhase(timings, "read");
        return Ok{};
    }
    if (geometry.selection) {
        plan.coverage = host.readSelection(plan.target);
    }
    return Ok{};
}

// Refused before any pixel is read: a run that would hold more canvas copies (one per
// alternative, and its result layer and mask) than memory allows.
Status checkExpandFits(const RunPlan& run) {
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
Status checkLayersFit(const RunPlan& run) {
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
Result<RunPlan> planWithGeometry(Procedure procedure, const RunParameters& parameters,
                                 RunSetup& setup, Host& host,
                                 std::optional<ImageGeometry>& geometry) {
    // Parameters the last values could not keep are refused, not sent and then forgotten.
    if (auto sizes = checkParameterSizes(specOf(procedure), parameters); !sizes) {
        return sizes.error();
    }
    RunPlan run;
    run.procedure = procedure;
    run.parameters = parameters;
    ServiceSources sources{setup.catalog, &setup.connections, setup.env, setup.tokens.get(),
                           setup.nowUnix()};
    sources.deferCredential = true; // the main loop waits on no keyring or CLI
    sources.known = &setup.credentials;
    auto service = resolveService(parameters.connection, parameters.model, sources);
    if (!service) {
        return service.error();
    }
    run.service = std::move(*service);
    if (procedure != Procedure::Edit && !parameters.options.references.empty()) {
        Error e = makeError(ErrorKind::InvalidRequest, referencesRefused(procedure));
        e.param = "references";
        return e;
    }
    run.request = requestFrom(procedure, parameters);
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

Result<RunPlan> planRun(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
                        Host& host) {
    std::optional<ImageGeometry> geometry;
    return planWithGeometry(procedure, parameters, setup, host, geometry);
}

Result<PreparedRun> prepareRun(Procedure procedure, const RunParameters& parameters,
                               RunSetup& setup, Host& host, PhaseTimer* timings) {
    std::optional<ImageGeometry> geometry;
    auto plan = planWithGeometry(procedure, parameters, setup, host, geometry);
    if (!plan) {
        return plan.error();
    }
    PreparedRun run{std::move(*plan), {}};
    // Refused before any pixel is read: more copies of what the run covers than one run may hold.
    if (auto fits = procedure == Procedure::Expand ? checkExpandFits(run.plan)
                    : geometry                     ? checkLayersFit(run.plan)
                                                   : Status(Ok{});
        !fits) {
        return fits.error();
    }
    if (geometry) {
        if (auto inputs = readImageInputs(run, *geometry, host, timings); !inputs) {
            return inputs.error();
        }
    }
    if (procedure == Procedure::Expand) {
        return run; // its requests are built tile by tile, as it runs (expand_strategy.cpp)
    }
    // The request as it will go, images included, checked; the images stay in the upload.
    ImageRequest sent = run.plan.request;
    sent.images = std::move(run.upload.images);
    sent.mask = std::move(run.upload.mask);
    const Status valid = validateRequest(*run.plan.service.caps, sent);
    run.upload.images = std::move(sent.images);
    run.upload.mask = std::move(sent.mask);
    if (!valid) {
        return withGuessNote(valid.error(), run.plan.service);
    }
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
        auto edit = planEdit(caps, parameters.size, context, asSent(geometry, parameters));
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
        const Margins margins{parameters.left, parameters.top, parameters.right, parameters.bottom};
        auto expand = planExpand(geometry.canvas, margins, *tile);
        if (expand) {
            if (auto widths = checkBorderWidths(margins); !widths) {
                return widths.error();
            }
        }
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

// An expand's layers cover the new canvas. The first insert grows the canvas; the dialog may
// insert more of the same run's results afterwards, into the canvas that insert grew. A canvas of
// any other size (or of the grown size, grown by something else: another run with the picture
// elsewhere) would put the border over the picture.
Result<std::vector<int>> insertExpanded(const RunPlan& run, const std::vector<NewLayer>& layers,
                                        const std::string& groupName, Host& host,
                                        const CancelCheck& cancelled, bool canvasGrown) {
    auto geometry = host.inspect();
    if (!geometry) {
        return geometry.error();
    }
    const Size now = geometry->canvas;
    const Size grown = run.expand.canvas;
    if (canvasGrown && now.width == grown.width && now.height == grown.height) {
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

Result<Inserted> insertResults(const RunPlan& run, const std::vector<NewLayer>& layers, Host& host,
                               const CancelCheck& cancelled, bool expandCanvasGrown) {
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
                   ? insertExpanded(run, layers, groupName, host, check, expandCanvasGrown)
                   : host.insertLayers(layers, groupName, check);
    if (!ids) {
        return ids.error();
    }
    inserted.layers = std::move(*ids);
    return inserted;
}

} // namespace imagegen
