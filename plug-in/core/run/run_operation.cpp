#include "core/run/run_operation.h"

#include "core/run/run_strategy.h"
#include "core/service/service_text.h"
#include "core/util/i18n.h"
#include "core/util/timings.h"

#include <exception>

namespace imagegen {

namespace {

// The answers as the run keeps and shows them. responses.cpp has made what the service said
// readable and dropped what is shaped like a key as it read the answer; the run's own key or
// token, which only the run knows and which need not look like a key, goes here, from the error
// and from every revised prompt (kept in the result's parasite, and so in a saved XCF).
Result<ImagesResult> withoutTheKey(Result<ImagesResult> r, const Service& service,
                                   const std::string& secret) {
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

RunOperation::RunOperation(PreparedRun run, RunSetup& setup, RunEvents events, Done done,
                           GCancellable* outer, CancelCheck cancelled, PhaseTimer* timings)
    : plan_(std::make_shared<const RunPlan>(std::move(run.plan))),
      strategy_(strategyFor(*plan_, std::move(run.upload))), setup_(setup),
      credential_(plan_->service.credential), events_(std::move(events)), done_(std::move(done)),
      cancellable_(adoptRef(g_cancellable_new())),
      outer_(outer != nullptr ? addRef(outer) : GRef<GCancellable>()),
      cancelled_(std::move(cancelled)), timings_(timings) {
    if (outer_) {
        outerHandler_ = g_cancellable_connect(outer_.get(),
                                              G_CALLBACK(+[](GCancellable* /*c*/, gpointer inner) {
                                                  g_cancellable_cancel(G_CANCELLABLE(inner));
                                              }),
                                              cancellable_.get(), nullptr);
    }
    if (plan_->service.credentialPending) {
        lookUpCredential();
    } else {
        scheduleStep();
    }
}

// The keyring or the Azure CLI, on a worker: the main loop goes on (the dialog redraws, Cancel
// works) and the first step runs when the credential is there. A cancel ends the lookup at once,
// with nothing sent.
void RunOperation::lookUpCredential() {
    const Connection& connection = plan_->service.connection;
    lookup_ = std::make_unique<CredentialLookup>(
        credentialQuery(connection, setup_.env, setup_.tokens, setup_.nowUnix()),
        cancellable_.get(), [this](Result<Credential> found) {
            if (!found) {
                finish(found.error());
                return;
            }
            credential_ = *found;
            if (plan_->service.connection.auth != AuthMethod::EntraId) {
                setup_.credentials.keep(plan_->service.connection.name, *found);
            }
            scheduleStep();
        });
}

RunOperation::~RunOperation() {
    if (outer_ && outerHandler_ != 0) {
        g_cancellable_disconnect(outer_.get(), outerHandler_);
    }
    g_cancellable_cancel(cancellable_.get());
}

void RunOperation::cancel() {
    g_cancellable_cancel(cancellable_.get()); // the request's answer, or the next step, ends it
}

size_t RunOperation::stepsDone() const {
    return strategy_->done();
}

size_t RunOperation::stepCount() const {
    return strategy_->count();
}

bool RunOperation::isCancelled() const {
    return g_cancellable_is_cancelled(cancellable_.get()) != FALSE || (cancelled_ && cancelled_());
}

// Every step runs from its own idle callback, never inside an ImagesClient's callback, so the
// finished step's clients can go and `done` may destroy this object.
void RunOperation::scheduleStep() {
    // On the thread-default context, as the requests are, and at the requests' own priority: an
    // idle's low one would wait behind every redraw of a dialog that animates while it runs.
    const GSourcePtr idle(g_idle_source_new());
    g_source_set_priority(idle.get(), G_PRIORITY_DEFAULT);
    g_source_set_callback(
        idle.get(),
        +[](gpointer self) -> gboolean {
            auto* operation = static_cast<RunOperation*>(self);
            operation->step_.forget();
            // A step decodes and allocates whole canvases: no exception may cross into GLib.
            try {
                operation->step();
            } catch (const std::exception& e) {
                operation->finish(
                    makeError(ErrorKind::Image, textf(_("internal error: %s"), e.what())));
            }
            return G_SOURCE_REMOVE;
        },
        this, nullptr);
    step_.reset(g_source_attach(idle.get(), g_main_context_get_thread_default()));
}

void RunOperation::step() {
    client_.reset();
    http_.reset();
    if (answer_) {
        Result<ImagesResult> answer = std::move(*answer_);
        answer_.reset();
        if (!answer) {
            finish(answer.error());
            return;
        }
        addUsage(usage_, answer->usage);
        if (auto taken = strategy_->take(std::move(*answer)); !taken) {
            finish(taken.error());
            return;
        }
    }
    if (isCancelled()) {
        finish(cancelledError());
        return;
    }
    auto requests = strategy_->next();
    if (!requests) {
        finish(requests.error());
        return;
    }
    // A run of several steps (Expand's tiles) counts steps; one of a single step, its requests.
    if (strategy_->count() > 1 && events_.onProgress) {
        events_.onProgress(strategy_->done(), strategy_->count());
    }
    if (!requests->empty()) {
        send(std::move(*requests));
        return;
    }
    endPhase(timings_, "request");
    auto layers = strategy_->layers(setup_.nowUnix(), [this] { return isCancelled(); });
    if (!layers) {
        finish(layers.error());
        return;
    }
    endPhase(timings_, "decode");
    finish(RunOutcome{std::move(*layers), usage_});
}

void RunOperation::send(std::vector<ImageRequest> requests) {
    ImagesCallbacks callbacks;
    callbacks.onPartial = events_.onPartial;
    if (strategy_->count() == 1) {
        callbacks.onProgress = events_.onProgress;
    }
    http_ = std::make_unique<HttpClient>(setup_.http);
    client_ = std::make_unique<ImagesClient>(*http_, setup_.maxInFlight);
    client_->run(plan_->service.connection, credential_, std::move(requests), cancellable_.get(),
                 std::move(callbacks), [this](Result<ImagesResult> answer) {
                     answer_ = withoutTheKey(std::move(answer), plan_->service, credential_.secret);
                     scheduleStep();
                 });
}

void RunOperation::finish(Result<RunOutcome> result) {
    if (!done_) {
        return;
    }
    // `done` may destroy this object: nothing of it is touched afterwards.
    const Done done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
}

namespace {

// Progress while a call waits: GIMP's bar pulses until something is known, then moves with the
// steps, the requests and the streamed partial images.
class WaitProgress {
  public:
    WaitProgress(Host& host, const RunPlan& plan)
        : host_(host), partialsPerStep_(plan.partialsPerImage + 1) {
        pulse_.reset(g_timeout_add(150, &WaitProgress::onPulse, this));
    }

    RunEvents events() {
        RunEvents e;
        e.onProgress = [this](size_t done, size_t total) {
            known_ = true;
            done_ = done;
            total_ = total;
            partials_ = 0;
            host_.progressSet(static_cast<double>(done) / static_cast<double>(total));
        };
        e.onPartial = [this](size_t /*request*/, int /*index*/, const std::string& /*bytes*/) {
            known_ = true;
            ++partials_;
            const double within = std::min(1.0, static_cast<double>(partials_) / partialsPerStep_);
            host_.progressSet((static_cast<double>(done_) + within) /
                              static_cast<double>(std::max<size_t>(1, total_)));
        };
        return e;
    }

  private:
    static gboolean onPulse(gpointer data) {
        auto* self = static_cast<WaitProgress*>(data);
        if (!self->known_) {
            self->host_.progressPulse();
        }
        return G_SOURCE_CONTINUE;
    }

    Host& host_;
    int partialsPerStep_;
    size_t done_ = 0;
    size_t total_ = 1;
    int partials_ = 0;
    bool known_ = false;
    SourceId pulse_;
};

} // namespace

Result<Inserted> runProcedure(Procedure procedure, const RunParameters& parameters, RunSetup& setup,
                              Host& host, GCancellable* cancellable, CancelCheck cancelled) {
    if (!cancelled) {
        cancelled = [cancellable] {
            return cancellable != nullptr && g_cancellable_is_cancelled(cancellable) != FALSE;
        };
    }
    PhaseTimer timings;
    auto prepared = prepareRun(procedure, parameters, setup, host, &timings);
    if (!prepared) {
        return prepared.error();
    }
    if (cancelled()) {
        return cancelledError(); // nothing has been sent
    }
    std::optional<Result<RunOutcome>> outcome;
    std::shared_ptr<const RunPlan> plan;
    {
        const HostProgress shown(
            host, textf(_("Imagegen: waiting for %s…"), prepared->plan.service.model.c_str()));
        WaitProgress progress(host, prepared->plan);
        const GMainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
        const RunOperation operation(
            std::move(*prepared), setup, progress.events(),
            [&](Result<RunOutcome> r) {
                outcome = std::move(r);
                g_main_loop_quit(loop.get());
            },
            cancellable, cancelled, &timings);
        plan = operation.sharedPlan();
        g_main_loop_run(loop.get());
    }
    if (!*outcome) {
        return outcome->error();
    }
    auto inserted = insertResults(*plan, (*outcome)->layers, host, cancelled);
    timings.phase("insert");
    timings.total();
    return inserted;
}

} // namespace imagegen
