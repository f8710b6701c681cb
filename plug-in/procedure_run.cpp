#include "procedure_run.h"

#include "core/connection.h"
#include "core/glib_ptr.h"
#include "core/images_client.h"
#include "core/models.h"
#include "core/pipeline.h"
#include "core/secret_store.h"
#include "host/gimp_host.h"

#include <glib-unix.h>
#include <glib.h>

#include <csignal>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace imagegen {

namespace {

// With IMAGEGEN_TIMINGS=1: one line per phase on stderr, for the benchmark and the curious.
class Timings {
  public:
    Timings()
        : enabled_(g_strcmp0(g_getenv("IMAGEGEN_TIMINGS"), "1") == 0),
          start_(g_get_monotonic_time()), last_(start_) {}
    void phase(const char* name) {
        const gint64 now = g_get_monotonic_time();
        if (enabled_) {
            std::fprintf(stderr, "imagegen-timing: %s %.1f\n", name,
                         static_cast<double>(now - last_) / 1000.0);
        }
        last_ = now;
    }
    void total() {
        if (enabled_) {
            std::fprintf(stderr, "imagegen-timing: total %.1f\n",
                         static_cast<double>(g_get_monotonic_time() - start_) / 1000.0);
        }
    }

  private:
    bool enabled_;
    gint64 start_;
    gint64 last_;
};

struct Service {
    Connection connection;
    Credential credential;
    std::string model; // the model or deployment name sent
    const ModelCaps* caps = nullptr;
    bool familyGuessed = false; // an Azure deployment taken by its name
};

Result<ModelCatalog> loadCatalog(const RunContext& ctx) {
    if (g_getenv("IMAGEGEN_DATADIR") == nullptr && !ctx.executableDir.empty()) {
        const std::string beside = ctx.executableDir + "/models.json";
        if (g_file_test(beside.c_str(), G_FILE_TEST_EXISTS)) {
            return ModelCatalog::fromFile(beside);
        }
    }
    return ModelCatalog::loadDefault();
}

int64_t nowUnix() {
    return g_get_real_time() / 1'000'000;
}

Result<Service> resolveService(const RunParameters& p, const ModelCatalog& catalog) {
    const std::string storePath = host::userDirectory() + "/imagegen/connections.ini";
    auto store = ConnectionStore::load(storePath);
    if (!store) {
        return store.error();
    }
    Service s;
    EntraTokenSource tokens;
    const EnvLookup env = processEnvironment();
    const Connection* saved = nullptr;
    if (!p.connection.empty()) {
        saved = store->find(p.connection);
        if (saved == nullptr) {
            return makeError(ErrorKind::Configuration,
                             "there is no saved connection named " + p.connection);
        }
    } else {
        saved = store->defaultConnection();
    }
    if (saved != nullptr) {
        s.connection = *saved;
        auto credential = credentialFor(s.connection, env, tokens, nowUnix());
        if (!credential) {
            return credential.error();
        }
        s.credential = *credential;
    } else {
        auto fromEnv = connectionFromEnvironment(env);
        if (!fromEnv) {
            return fromEnv.error();
        }
        s.connection = fromEnv->connection;
        s.credential = fromEnv->credential;
        if (s.credential.method == AuthMethod::EntraId && s.credential.secret.empty()) {
            auto token = tokens.token(nowUnix());
            if (!token) {
                return token.error();
            }
            s.credential.secret = *token;
        }
    }
    s.model = !p.model.empty() ? p.model : s.connection.defaultModel;
    const bool azure =
        s.connection.kind == ConnectionKind::Azure || s.connection.kind == ConnectionKind::AzureV1;
    if (s.model.empty()) {
        if (azure) {
            return makeError(ErrorKind::Configuration, "no deployment was named: give the model "
                                                       "parameter, or set AZURE_OPENAI_DEPLOYMENT");
        }
        s.model = "gpt-image-1";
    }
    const std::string recorded = s.connection.recordedModel(s.model);
    s.caps = recorded.empty() ? &catalog.familyOf(s.model) : catalog.find(recorded);
    if (s.caps == nullptr) {
        s.caps = &catalog.familyOf(recorded);
    }
    s.familyGuessed = azure && recorded.empty() && catalog.find(s.model) == nullptr;
    return s;
}

// Runs the requests on the default main context. GIMP's progress bar pulses while nothing is
// known, and moves once requests finish or streamed partial images arrive.
Result<ImagesResult> sendAll(const Service& s, const std::vector<ImageRequest>& plan,
                             int partialsPerImage, host::Progress& progress) {
    HttpClient http;
    ImagesClient client(http);
    GMainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
    std::optional<Result<ImagesResult>> result;
    GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    struct Pulse {
        host::Progress* progress;
        bool knownFraction = false;
    } pulse{&progress};
    const double steps = static_cast<double>(plan.size()) * (partialsPerImage + 1);
    int stepsDone = 0;
    ImagesCallbacks callbacks;
    callbacks.onProgress = [&](size_t finished, size_t total) {
        pulse.knownFraction = true;
        progress.set(static_cast<double>(finished) / static_cast<double>(total));
    };
    callbacks.onPartial = [&](size_t, int, const std::string&) {
        pulse.knownFraction = true;
        progress.set(++stepsDone / steps);
    };
    const guint pulseSource = g_timeout_add(
        150,
        [](gpointer p) -> gboolean {
            auto* state = static_cast<Pulse*>(p);
            if (!state->knownFraction) {
                state->progress->pulse();
            }
            return G_SOURCE_CONTINUE;
        },
        &pulse);
    // SIGINT or SIGTERM while waiting cancels every request, and the run ends as cancelled with
    // the image untouched (GIMP's own handlers would end the process without a word).
    auto cancel = [](gpointer c) -> gboolean {
        g_cancellable_cancel(G_CANCELLABLE(c));
        return G_SOURCE_CONTINUE;
    };
    const guint onInterrupt = g_unix_signal_add(SIGINT, cancel, cancellable.get());
    const guint onTerminate = g_unix_signal_add(SIGTERM, cancel, cancellable.get());
    client.run(s.connection, s.credential, plan, cancellable.get(), callbacks,
               [&](Result<ImagesResult> r) {
                   result = std::move(r);
                   g_main_loop_quit(loop.get());
               });
    if (!result) {
        g_main_loop_run(loop.get());
    }
    g_source_remove(pulseSource);
    g_source_remove(onInterrupt);
    g_source_remove(onTerminate);
    return std::move(*result);
}

Error withGuessNote(Error e, const Service& s) {
    if (s.familyGuessed &&
        (e.kind == ErrorKind::BadRequest || e.kind == ErrorKind::InvalidRequest)) {
        e.message +=
            " (The deployment " + s.model + " was taken to be " + s.caps->name +
            " from its name; if it runs another model, record that model in the connection.)";
    }
    return e;
}

} // namespace

RunOutcome runProcedure(Procedure procedure, const RunParameters& p, const RunContext& ctx) {
    RunOutcome outcome;
    Timings timings;
    auto fail = [&outcome](Error e) {
        outcome.status = std::move(e);
        return outcome;
    };
    auto catalog = loadCatalog(ctx);
    if (!catalog) {
        return fail(catalog.error());
    }
    auto service = resolveService(p, *catalog);
    if (!service) {
        return fail(service.error());
    }
    const Service& s = *service;
    auto options = parseOptions(p.options);
    if (!options) {
        return fail(options.error());
    }
    ImageRequest request = requestFrom(procedure, p, *options);
    request.model = s.model;
    if (auto valid = validateFields(*s.caps, request); !valid) {
        return fail(withGuessNote(valid.error(), s));
    }

    std::optional<ImageGeometry> geometry;
    EditPlan editPlan;
    Rect target;
    std::vector<uint8_t> coverage;
    if (procedure != Procedure::NewImage) {
        auto g = host::inspect(ctx.image, ctx.drawable);
        if (!g) {
            return fail(g.error());
        }
        geometry = *g;
    }
    if (procedure == Procedure::Edit) {
        auto plan =
            planEdit(*s.caps, request.size, p.context < 0 ? kDefaultContext : p.context, *geometry);
        if (!plan) {
            return fail(withGuessNote(plan.error(), s));
        }
        editPlan = *plan;
        request.size = formatSize(editPlan.apiSize);
        const RgbaImage pixels = host::readRegion(ctx.drawable, editPlan.region);
        coverage = geometry->selection
                       ? host::readSelection(ctx.image, editPlan.region)
                       : layerCoverage(editPlan.region, geometry->drawable, geometry->canvas);
        timings.phase("read");
        auto upload =
            prepareEdit(pixels, coverage, geometry->selection.has_value(), editPlan.apiSize);
        if (!upload) {
            return fail(upload.error());
        }
        request.images.push_back(std::move(upload->image));
        request.mask = std::move(upload->mask);
        for (size_t i = 0; i < options->references.size(); ++i) {
            auto layer = host::readLayer(options->references[i]);
            if (!layer) {
                return fail(layer.error());
            }
            auto reference = prepareReference(*layer, 2048, static_cast<int>(i + 1));
            if (!reference) {
                return fail(reference.error());
            }
            request.images.push_back(std::move(*reference));
        }
        timings.phase("encode");
    } else if (procedure == Procedure::Generate) {
        target = generationTarget(*geometry);
        if (geometry->selection) {
            coverage = host::readSelection(ctx.image, target);
        }
        if (request.size.empty() || (s.caps->freeSizes && request.size == "auto")) {
            auto size = chooseApiSize(*s.caps, "", {target.width, target.height});
            if (!size) {
                return fail(size.error());
            }
            request.size = formatSize(*size);
        }
    }
    if (auto valid = validateRequest(*s.caps, request); !valid) {
        return fail(withGuessNote(valid.error(), s));
    }

    const auto plan = planRequests(*s.caps, request);
    Result<ImagesResult> answer = makeError(ErrorKind::Cancelled, "not sent");
    {
        host::Progress progress("Imagegen: waiting for " + s.model + "…");
        answer =
            sendAll(s, plan, request.stream ? std::max(0, request.partialImages) : 0, progress);
    }
    timings.phase("request");
    if (!answer) {
        return fail(withGuessNote(answer.error(), s));
    }
    const int expected = std::max(1, request.n);
    if (static_cast<int>(answer->images.size()) != expected) {
        return fail(makeError(ErrorKind::MalformedResponse,
                              "the service sent " + std::to_string(answer->images.size()) +
                                  " image" + (answer->images.size() == 1 ? "" : "s") + " where " +
                                  std::to_string(expected) + " were asked for"));
    }

    // Everything is decoded before anything is inserted: a broken image leaves the image as it was.
    const std::vector<uint8_t> editMask =
        procedure == Procedure::Edit
            ? featherInward(coverage, editPlan.region.width, editPlan.region.height,
                            p.feather < 0 ? kDefaultFeather : p.feather)
            : std::vector<uint8_t>();
    std::vector<host::NewLayer> layers;
    const int count = static_cast<int>(answer->images.size());
    Size newCanvas;
    for (int i = 0; i < count; ++i) {
        const GeneratedImage& image = answer->images[static_cast<size_t>(i)];
        host::NewLayer layer;
        layer.name = layerNameFor(p.prompt, i, count);
        layer.visible = i == 0;
        layer.parasite = resultParasite(p.prompt, image.revisedPrompt, s.model, request.size,
                                        request.quality, nowUnix());
        if (procedure == Procedure::Edit) {
            auto pixels = resultForRegion(image.bytes, editPlan.region);
            if (!pixels) {
                return fail(pixels.error());
            }
            layer.bounds = editPlan.region;
            layer.pixels = std::move(*pixels);
            layer.mask = editMask;
        } else if (procedure == Procedure::Generate) {
            auto pixels = coverTarget(image.bytes, {target.width, target.height});
            if (!pixels) {
                return fail(pixels.error());
            }
            layer.bounds = target;
            layer.pixels = std::move(*pixels);
            layer.mask = coverage;
        } else {
            auto pixels = decodeResult(image.bytes);
            if (!pixels) {
                return fail(pixels.error());
            }
            if (i == 0) {
                newCanvas = {pixels->width, pixels->height};
            }
            layer.bounds = {0, 0, pixels->width, pixels->height};
            layer.pixels = std::move(*pixels);
        }
        layers.push_back(std::move(layer));
    }
    timings.phase("decode");
    const std::string groupName = layerNameFor(p.prompt, 0, 1);
    if (procedure == Procedure::NewImage) {
        auto image = host::createImage(newCanvas, layers, groupName, ctx.interactive);
        if (!image) {
            return fail(image.error());
        }
        outcome.image = *image;
    } else {
        auto ids = host::insertLayers(ctx.image, ctx.drawable, layers, groupName);
        if (!ids) {
            return fail(ids.error());
        }
        outcome.layers = *ids;
    }
    timings.phase("insert");
    timings.total();
    return outcome;
}

} // namespace imagegen
