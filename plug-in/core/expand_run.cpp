// Generative Expand as a run: the plan from planRun, the tiles sent one after another through
// the same path as every other run (sendAndWait), and the results inserted with the canvas grown.
#include "core/glib_ptr.h"
#include "core/i18n.h"
#include "core/run.h"
#include "core/timings.h"

#include <algorithm>

namespace imagegen {

namespace {

// What every alternative has painted so far, and its last colour match.
struct Alternatives {
    std::vector<ExpandCanvas> canvases;
    std::vector<ColorFit> fits;
};

// One tile's requests, one per alternative (each continues its own earlier tiles), with the
// pixels each mask tells the model to keep, sampled for the colour match.
Result<std::vector<KeptSamples>> tileRequests(PreparedRun& run, Rect tile,
                                              const std::vector<uint8_t>& coverage,
                                              const Alternatives& alternatives) {
    std::vector<KeptSamples> kept;
    run.requests.clear();
    for (const ExpandCanvas& canvas : alternatives.canvases) {
        auto upload = prepareEdit(canvas.pixelsUnder(tile), coverage, true, run.expand.apiSize);
        if (!upload) {
            return upload.error();
        }
        ImageRequest request = run.request;
        request.n = 1;
        request.images = {std::move(upload->image)};
        request.mask = std::move(upload->mask);
        if (auto valid = validateRequest(*run.service.caps, request); !valid) {
            return withGuessNote(valid.error(), run.service);
        }
        kept.push_back(std::move(upload->kept));
        run.requests.push_back(std::move(request));
    }
    return kept;
}

// A tile's result, at the tile's size and (unless turned off) in the picture's tone.
Result<RgbaImage> tileResult(const PreparedRun& run, const std::string& bytes,
                             const KeptSamples& kept, ColorFit& fit) {
    auto decoded = decodeResult(bytes, resultPixelLimit(*run.service.caps, run.request.size));
    if (!decoded) {
        return decoded.error();
    }
    if (run.options.matchColors) {
        fit = fitColorDrift(kept, *decoded);
        undoColorDrift(*decoded, fit);
    } else {
        fit = colorMatchNotTried(ColorMatchOutcome::TurnedOff, "turned off (match_colors false)");
    }
    const Size api = run.expand.apiSize;
    if (decoded->width != api.width || decoded->height != api.height) {
        return resize(*decoded, api.width, api.height);
    }
    return decoded;
}

// One tile for every alternative: sent, then painted into each alternative's canvas.
Status expandTile(PreparedRun& run, const RunSetup& setup, Host& host, GCancellable* cancellable,
                  Rect tile, Alternatives& alternatives) {
    const std::vector<uint8_t> coverage = alternatives.canvases.front().coverageUnder(tile);
    if (std::none_of(coverage.begin(), coverage.end(), [](uint8_t c) { return c != 0; })) {
        return Ok{}; // the tiles before it painted all of its border
    }
    auto kept = tileRequests(run, tile, coverage, alternatives);
    if (!kept) {
        return kept.error();
    }
    auto answer = sendAndWait(run, setup, cancellable, host);
    if (!answer) {
        return answer.error();
    }
    if (answer->images.size() != run.requests.size()) {
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("the service sent %zu images for %zu requests"),
                               answer->images.size(), run.requests.size()));
    }
    for (size_t i = 0; i < answer->images.size(); ++i) {
        auto result = tileResult(run, answer->images[i].bytes, (*kept)[i], alternatives.fits[i]);
        if (!result) {
            return result.error();
        }
        alternatives.canvases[i].fill(tile, *result);
    }
    return Ok{};
}

// Each alternative as one layer over the new canvas, masked to the border.
std::vector<NewLayer> expandLayers(const PreparedRun& run, const Alternatives& alternatives,
                                   int64_t nowUnix) {
    const std::vector<uint8_t> mask = alternatives.canvases.front().borderMask();
    const Size canvas = run.expand.canvas;
    const int count = static_cast<int>(alternatives.canvases.size());
    std::vector<NewLayer> layers;
    for (int i = 0; i < count; ++i) {
        const auto index = static_cast<size_t>(i);
        NewLayer layer;
        layer.name = layerNameFor(run.request.prompt, i, count);
        layer.bounds = {0, 0, canvas.width, canvas.height};
        layer.pixels = alternatives.canvases[index].borderLayer();
        layer.mask = mask;
        layer.visible = i == 0;
        ResultNotes notes;
        notes.colorMatch = alternatives.fits[index];
        layer.parasite = resultParasite(run.parameters.prompt, "", run.service.model,
                                        run.request.size, run.request.quality, nowUnix, notes);
        layers.push_back(std::move(layer));
    }
    return layers;
}

Error cancelled() {
    return makeError(ErrorKind::Cancelled, "cancelled");
}

// Refused before any pixel is read: reference layers (an expand sends none, and dropping them
// without a word would hide it), and a run that would hold more canvas copies (one per
// alternative, and its result layer and mask) than memory allows.
Status checkExpandFits(const PreparedRun& run) {
    if (!run.options.references.empty()) {
        Error e = makeError(ErrorKind::InvalidRequest,
                            _("options: references are not used by Generative Expand: remove "
                              "them"));
        e.param = "references";
        return e;
    }
    const int64_t area = int64_t{run.expand.canvas.width} * run.expand.canvas.height;
    const int64_t copies = 3 * int64_t{std::max(1, run.request.n)} + 1;
    if (area * copies > kMaxExpandHeldPixels) {
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

} // namespace

Result<Inserted> runExpand(const RunParameters& parameters, RunSetup& setup, Host& host,
                           GCancellable* cancellable, const CancelCheck& isCancelled) {
    PhaseTimer timings;
    auto run = planRun(Procedure::Expand, parameters, setup, host);
    if (!run) {
        return run.error();
    }
    const ExpandPlan& plan = run->expand;
    if (auto held = checkExpandFits(*run); !held) {
        return held.error();
    }
    const RgbaImage original = host.readRegion({0, 0, plan.original.width, plan.original.height});
    timings.phase("read");
    const auto count = static_cast<size_t>(std::max(1, run->request.n));
    Alternatives alternatives{std::vector<ExpandCanvas>(count, ExpandCanvas(plan, original)),
                              std::vector<ColorFit>(count)};
    for (const Rect& tile : plan.tiles) {
        if (isCancelled()) {
            return cancelled();
        }
        if (auto done = expandTile(*run, setup, host, cancellable, tile, alternatives); !done) {
            return done.error();
        }
    }
    timings.phase("request");
    if (isCancelled()) {
        return cancelled();
    }
    const std::vector<NewLayer> layers = expandLayers(*run, alternatives, setup.nowUnix());
    const Margins margins{parameters.left, parameters.top, parameters.right, parameters.bottom};
    auto ids = host.insertLayersExpanding(margins, layers, layerNameFor(run->request.prompt, 0, 1),
                                          isCancelled);
    timings.phase("insert");
    timings.total();
    if (!ids) {
        return ids.error();
    }
    Inserted inserted;
    inserted.layers = std::move(*ids);
    return inserted;
}

} // namespace imagegen
