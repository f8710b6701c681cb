#include "core/service/images_client.h"

#include "core/pixels/codec.h"
#include "core/service/models.h"
#include "core/service/request_encoding.h"
#include "core/service/retry_policy.h"
#include "core/util/i18n.h"

#include <memory>
#include <optional>
#include <utility>

namespace imagegen {

namespace {

// What one streamed or plain request has gathered so far.
struct RequestState {
    explicit RequestState(size_t maxEventBytes) : parser(maxEventBytes) {}
    SseParser parser;
    bool eventStream = false;
    std::string body; // a 2xx answer that came as JSON despite stream=true
    std::vector<GeneratedImage> completed;
    Usage usage;
    std::optional<Error> streamError;
};

bool isHtml(const HttpResponse& r) {
    return r.header("content-type").find("text/html") != std::string::npos;
}

class Batch : public std::enable_shared_from_this<Batch> {
  public:
    // What Batch needs of each planned request besides its HTTP request.
    struct Limits {
        bool streamed = false;
        size_t oneImageBytes = 0;    // one event of a stream, or one downloaded image
        size_t plainAnswerBytes = 0; // an answer that is not an event stream
        AnswerBounds bounds;
    };

    Batch(HttpClient& http, size_t maxInFlight, std::vector<HttpRequest> requests,
          std::vector<Limits> limits, GCancellable* outer, ImagesCallbacks callbacks,
          ImagesClient::Done done)
        : http_(http), maxInFlight_(maxInFlight), requests_(std::move(requests)),
          limits_(std::move(limits)), inner_(adoptRef(g_cancellable_new())),
          outer_(outer != nullptr ? addRef(outer) : GRef<GCancellable>()),
          images_(requests_.size()), callbacks_(std::move(callbacks)), done_(std::move(done)) {}

    // A Batch ends without end() when its HttpClient goes first (its callbacks are dropped): the
    // caller's cancellable must not keep a handler that points at our inner cancellable.
    ~Batch() { disconnectOuter(); }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    Batch(Batch&&) = delete;
    Batch& operator=(Batch&&) = delete;

    void start(guint deadlineMs) {
        // One bound for the whole run, retries and waits included: each attempt has its own
        // timeout, but a run of several requests and retries must end too.
        deadline_.reset(g_timeout_add(deadlineMs, &Batch::onDeadline, this));
        deadlineMs_ = deadlineMs;
        if (outer_) {
            outerHandler_ = g_cancellable_connect(
                outer_.get(), G_CALLBACK(+[](GCancellable* /*c*/, gpointer inner) {
                    g_cancellable_cancel(G_CANCELLABLE(inner));
                }),
                inner_.get(), nullptr);
        }
        pump();
    }

  private:
    static gboolean onDeadline(gpointer data) {
        auto* self = static_cast<Batch*>(data);
        self->deadline_.forget();
        const guint minutes = self->deadlineMs_ / 60000;
        const std::string limit =
            minutes >= 1
                ? textf(g_dngettext(GETTEXT_PACKAGE, "%u minute", "%u minutes", minutes), minutes)
                : textf(_("%u ms"), self->deadlineMs_);
        self->fail(makeError(ErrorKind::Timeout,
                             textf(_("The service did not finish within %s, the limit for one "
                                     "run: it may be overloaded. Try again later, or ask for "
                                     "fewer images."),
                                   limit.c_str())));
        return G_SOURCE_REMOVE;
    }

    HttpClient& http_;
    size_t maxInFlight_;
    std::vector<HttpRequest> requests_;
    std::vector<Limits> limits_;
    SourceId deadline_;
    guint deadlineMs_ = 0;
    GRef<GCancellable> inner_;
    GRef<GCancellable> outer_;
    gulong outerHandler_ = 0;
    size_t next_ = 0;
    size_t inFlight_ = 0;
    size_t finished_ = 0;
    std::vector<std::vector<GeneratedImage>> images_;
    Usage usage_;
    std::optional<Error> firstError_;
    ImagesCallbacks callbacks_;
    ImagesClient::Done done_;
    bool ended_ = false;

    void disconnectOuter() {
        if (outer_ && outerHandler_ != 0) {
            g_cancellable_disconnect(outer_.get(), std::exchange(outerHandler_, 0));
        }
    }

    void pump() {
        while (!firstError_ && inFlight_ < maxInFlight_ && next_ < requests_.size()) {
            startOne(next_++);
        }
        if (inFlight_ == 0 && (firstError_ || finished_ == requests_.size())) {
            end();
        }
    }

    void fail(Error e) {
        if (!firstError_) {
            firstError_ = std::move(e);
        }
        g_cancellable_cancel(inner_.get()); // stops every request still under way
    }

    void startOne(size_t index) {
        ++inFlight_;
        auto self = shared_from_this();
        auto state = std::make_shared<RequestState>(limits_[index].oneImageBytes);
        HttpClient::Chunk onChunk;
        if (limits_[index].streamed) {
            onChunk = [self, state, index](const HttpResponse& head, std::string_view chunk) {
                self->takeChunk(index, *state, head, chunk);
            };
        }
        http_.send(
            requests_[index], inner_.get(),
            [self, state, index](Result<HttpResponse> r) {
                self->requestDone(index, *state, std::move(r));
            },
            std::move(onChunk));
    }

    void takeChunk(size_t index, RequestState& state, const HttpResponse& head,
                   std::string_view chunk) {
        if (state.body.empty() && state.completed.empty() && !state.eventStream) {
            state.eventStream =
                head.header("content-type").find("text/event-stream") != std::string::npos;
        }
        if (!state.eventStream) {
            if (state.streamError) {
                return;
            }
            // A plain answer to a stream request: the stream's allowance for partial images
            // (the HTTP request's bound) does not apply to it.
            const size_t limit = limits_[index].plainAnswerBytes;
            if (state.body.size() + chunk.size() > limit) {
                std::string().swap(state.body);
                state.streamError =
                    makeError(ErrorKind::MalformedResponse,
                              textf(_("the service sent more than %s, more than the images "
                                      "asked for can take"),
                                    megabytes(limit).c_str()));
                fail(*state.streamError);
                return;
            }
            state.body.append(chunk);
            return;
        }
        for (const auto& event : state.parser.feed(chunk)) {
            takeEvent(index, state, event);
        }
        if (state.parser.error() && !state.streamError) {
            state.streamError = *state.parser.error();
            fail(*state.streamError); // the first error is the one reported, not "cancelled"
        }
    }

    void takeEvent(size_t index, RequestState& state, const SseEvent& event) {
        if (state.streamError) {
            return;
        }
        auto parsed = parseStreamEvent(event, limits_[index].bounds);
        if (!parsed) {
            state.streamError = parsed.error();
            fail(*state.streamError); // the first error is the one reported, not "cancelled"
            return;
        }
        if (parsed->type == StreamEventType::PartialImage && callbacks_.onPartial) {
            callbacks_.onPartial(index, parsed->partialIndex, parsed->image.bytes);
        } else if (parsed->type == StreamEventType::Completed) {
            addUsage(state.usage, parsed->usage);
            state.completed.push_back(std::move(parsed->image));
        }
    }

    void requestDone(size_t index, RequestState& state, Result<HttpResponse> r) {
        --inFlight_;
        if (state.streamError) {
            fail(*state.streamError);
            pump();
            return;
        }
        if (!r) {
            fail(r.error());
            pump();
            return;
        }
        HttpResponse& response = *r;
        if (response.status < 200 || response.status >= 300) {
            fail(classifyHttpError(response.status, response.body, response.requestId(),
                                   serverDelaySeconds(response, g_get_real_time() / 1'000'000)));
            pump();
            return;
        }
        if (isHtml(response)) {
            fail(makeError(
                ErrorKind::MalformedResponse,
                _("the service answered with a web page instead of images: check the endpoint")));
            pump();
            return;
        }
        std::vector<GeneratedImage> images;
        if (limits_[index].streamed && state.eventStream) {
            for (const auto& event : state.parser.finish()) {
                takeEvent(index, state, event);
            }
            if (state.streamError) {
                fail(*state.streamError);
                pump();
                return;
            }
            if (state.completed.empty()) {
                fail(makeError(ErrorKind::MalformedResponse,
                               _("the service's stream ended before the image was complete")));
                pump();
                return;
            }
            images = std::move(state.completed);
            addUsage(usage_, state.usage);
        } else {
            // Moved in: parseImagesResponse frees the text once it has its tree.
            auto parsed =
                parseImagesResponse(std::move(limits_[index].streamed ? state.body : response.body),
                                    limits_[index].bounds);
            if (!parsed) {
                Error e = parsed.error();
                if (!response.requestId().empty()) {
                    e.message += textf(_(" [request %s]"), response.requestId().c_str());
                }
                fail(std::move(e));
                pump();
                return;
            }
            images = std::move(parsed->images);
            addUsage(usage_, parsed->usage);
        }
        ++inFlight_; // still busy while any URL is downloaded
        download(index, std::make_shared<std::vector<GeneratedImage>>(std::move(images)), 0);
    }

    // dall-e answers with URLs when asked: fetch them, without our credentials.
    void download(size_t index, const std::shared_ptr<std::vector<GeneratedImage>>& images,
                  size_t k) {
        while (k < images->size() && (*images)[k].url.empty()) {
            ++k;
        }
        if (k == images->size()) {
            --inFlight_;
            images_[index] = std::move(*images);
            ++finished_;
            if (callbacks_.onProgress) {
                callbacks_.onProgress(finished_, requests_.size());
            }
            pump();
            return;
        }
        const std::string url = (*images)[k].url;
        if (auto ok = checkEndpoint(url); !ok) {
            --inFlight_;
            fail(makeError(
                ErrorKind::MalformedResponse,
                textf(_("the service gave an image URL that is not https: %s"), url.c_str())));
            pump();
            return;
        }
        fetch(index, images, k, url, 0);
    }

    // One GET of a download. Redirects are followed here, not by libsoup, so that each one is
    // checked as the first URL was: https only (plain http only to this computer). Storage that
    // sent the image over plain http to another host could have it changed on the way.
    void fetch(size_t index, const std::shared_ptr<std::vector<GeneratedImage>>& images, size_t k,
               const std::string& url, int redirects) {
        HttpRequest get;
        get.method = "GET";
        get.url = url;
        get.maxBodyBytes = limits_[index].oneImageBytes;
        get.followRedirects = false; // this request carries no credential, but see above
        auto self = shared_from_this();
        http_.send(
            get, inner_.get(), [self, index, images, k, url, redirects](Result<HttpResponse> r) {
                if (r && isRedirect(r->status) && !r->header("location").empty()) {
                    auto next = redirectTarget(url, r->header("location"), redirects);
                    if (next) {
                        self->fetch(index, images, k, *next, redirects + 1);
                        return;
                    }
                    r = next.error();
                }
                if (!r || r->status != 200) {
                    --self->inFlight_;
                    self->fail(
                        !r ? r.error()
                           : makeError(ErrorKind::MalformedResponse,
                                       textf(_("the image could not be downloaded from the service "
                                               "(HTTP %d)"),
                                             r->status)));
                    self->pump();
                    return;
                }
                (*images)[k].bytes = std::move(r->body);
                (*images)[k].url.clear();
                self->download(index, images, k + 1);
            });
    }

    static bool isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    // As many redirects as a browser follows before it gives up.
    static constexpr int kMaxRedirects = 10;

    static Result<std::string> redirectTarget(const std::string& from, const std::string& location,
                                              int redirectsSoFar) {
        if (redirectsSoFar >= kMaxRedirects) {
            return makeError(
                ErrorKind::MalformedResponse,
                textf(_("the image download was redirected more than %d times"), kMaxRedirects));
        }
        GErrorPtr error;
        const GCharPtr resolved(g_uri_resolve_relative(from.c_str(), location.c_str(),
                                                       G_URI_FLAGS_NONE, outPtr(error)));
        if (!resolved) {
            return makeError(ErrorKind::MalformedResponse,
                             textf(_("the image download was redirected to an address that is "
                                     "not valid: %s"),
                                   location.c_str()));
        }
        if (auto ok = checkEndpoint(resolved.get()); !ok) {
            return makeError(ErrorKind::MalformedResponse,
                             textf(_("the image download was redirected to an address that is not "
                                     "https: %s"),
                                   resolved.get()));
        }
        return std::string(resolved.get());
    }

    void end() {
        if (ended_) {
            return;
        }
        ended_ = true;
        deadline_.reset();
        disconnectOuter();
        ImagesClient::Done done = std::move(done_);
        if (outer_ && g_cancellable_is_cancelled(outer_.get())) {
            done(makeError(ErrorKind::Cancelled, "cancelled"));
            return;
        }
        if (firstError_) {
            done(*firstError_);
            return;
        }
        ImagesResult result;
        for (auto& list : images_) {
            for (auto& image : list) {
                result.images.push_back(std::move(image));
            }
        }
        result.usage = usage_;
        result.requestsSent = static_cast<int>(requests_.size());
        done(std::move(result));
    }
};

} // namespace

namespace {
// Room for the JSON around the images of an answer or an event (revised prompt, usage, filters).
constexpr size_t kJsonAroundBytes = size_t{1} << 20;
} // namespace

// The size an answer is bounded by: the one asked for, else the model's largest.
static Size boundingSize(const ImageRequest& request) {
    return parseSize(request.size)
        .value_or(parseSize(request.largestSize).value_or(Size{4096, 4096}));
}

size_t imageLimitBytes(const ImageRequest& request) {
    const Size size = boundingSize(request);
    const size_t png = static_cast<size_t>(size.height) * (1 + static_cast<size_t>(size.width) * 4);
    const size_t slack = (png / 100) + (size_t{64} << 10); // zlib's stored blocks, PNG's chunks
    return (png + slack) / 3 * 4 + 4;
}

size_t answerLimitBytes(const ImageRequest& request, bool eventStream) {
    const size_t images = static_cast<size_t>(std::max(1, request.n));
    const size_t perImage = request.stream && eventStream
                                ? static_cast<size_t>(std::max(0, request.partialImages)) + 1
                                : 1;
    return images * perImage * imageLimitBytes(request) + kJsonAroundBytes;
}

AnswerBounds answerBounds(const ImageRequest& request) {
    const Size size = boundingSize(request);
    AnswerBounds bounds;
    bounds.maxImages = static_cast<size_t>(std::max(1, request.n));
    bounds.maxPixels = resultPixelBound(int64_t{size.width} * size.height);
    return bounds;
}

namespace {

// Ends a run that could not start from the main loop, as every other end comes, unless the
// HttpClient went first.
void endFromIdle(const HttpClient& http, ImagesClient::Done done, Error error) {
    struct Later {
        GRef<GCancellable> clientGone;
        ImagesClient::Done done;
        Error error;
    };
    auto* later = new Later{addRef(http.closing()), std::move(done), std::move(error)};
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer p) -> gboolean {
            auto* l = static_cast<Later*>(p);
            if (g_cancellable_is_cancelled(l->clientGone.get()) == FALSE) {
                try {
                    l->done(l->error);
                } catch (...) {
                    g_warning("imagegen: a run's completion handler threw");
                }
            }
            return G_SOURCE_REMOVE;
        },
        later, [](gpointer p) { delete static_cast<Later*>(p); });
}

} // namespace

void ImagesClient::run(const Connection& connection, const Credential& credential,
                       std::vector<ImageRequest> plan, GCancellable* cancellable,
                       ImagesCallbacks callbacks, Done given) {
    // Whatever the service says goes to a person: a key it echoes back is never shown.
    Done done = [given = std::move(given), secret = credential.secret](Result<ImagesResult> r) {
        if (!r) {
            Error e = r.error();
            e.message = withoutSecret(std::move(e.message), secret);
            given(std::move(e));
            return;
        }
        given(std::move(r));
    };
    std::vector<HttpRequest> requests;
    std::vector<Batch::Limits> limits;
    for (auto& request : plan) {
        auto http = buildImagesRequest(connection, credential, request);
        if (!http) {
            endFromIdle(http_, std::move(done), http.error());
            return;
        }
        // The encoded images now live in the body alone: an upload is held once.
        request.images = {};
        request.mask.reset();
        http->maxBodyBytes = answerLimitBytes(request);
        requests.push_back(std::move(*http));
        Batch::Limits l;
        l.streamed = request.stream;
        // One event of a stream, or one downloaded image, may hold one image.
        l.oneImageBytes = imageLimitBytes(request) + kJsonAroundBytes;
        l.plainAnswerBytes = answerLimitBytes(request, false);
        l.bounds = answerBounds(request);
        limits.push_back(l);
    }
    if (requests.empty()) {
        endFromIdle(http_, std::move(done),
                    makeError(ErrorKind::InvalidRequest, "nothing to send"));
        return;
    }
    auto batch =
        std::make_shared<Batch>(http_, maxInFlight_, std::move(requests), std::move(limits),
                                cancellable, std::move(callbacks), std::move(done));
    batch->start(deadlineMs_);
}

} // namespace imagegen
