#include "core/service/http_client.h"

#include "core/service/retry_policy.h"
#include "core/util/i18n.h"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>

namespace imagegen {

std::string HttpResponse::header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
        if (g_ascii_strcasecmp(k.c_str(), name.c_str()) == 0) {
            return v;
        }
    }
    return {};
}

std::string HttpResponse::requestId() const {
    std::string id = header("apim-request-id");
    return id.empty() ? header("x-request-id") : id;
}

// What the client's operations share with it. The client holds it while it lives; each
// operation holds it until it ends, so nothing an operation uses is freed under it.
struct HttpClient::Shared {
    HttpOptions options;
    GRef<SoupSession> session;
    GRef<GCancellable> closing = adoptRef(g_cancellable_new()); // cancelled by ~HttpClient
    int attemptsStarted = 0;
    size_t bodyBytesRead = 0;
    int inFlight = 0;

    [[nodiscard]] bool closed() const { return g_cancellable_is_cancelled(closing.get()) != FALSE; }
};

namespace {

// One request and its retries. It owns itself: it is deleted once it has ended, after running
// `done` unless the client has gone.
class HttpOperation {
  public:
    HttpOperation(std::shared_ptr<HttpClient::Shared> client, const HttpRequest& request,
                  GCancellable* outer, HttpClient::Done done, HttpClient::Chunk chunk)
        : client_(std::move(client)), method_(request.method), url_(request.url),
          headers_(request.headers), contentType_(request.contentType), caFile_(request.caFile),
          followRedirects_(request.followRedirects),
          body_(bytesFromString(std::string(request.body))),
          maxBodyBytes_(request.maxBodyBytes != 0 ? request.maxBodyBytes
                                                  : client_->options.maxBodyBytes),
          outer_(outer != nullptr ? addRef(outer) : adoptRef(g_cancellable_new())),
          done_(std::move(done)), chunk_(std::move(chunk)) {
        ++client_->inFlight;
    }

    HttpOperation(const HttpOperation&) = delete;
    HttpOperation& operator=(const HttpOperation&) = delete;
    HttpOperation(HttpOperation&&) = delete;
    HttpOperation& operator=(HttpOperation&&) = delete;
    ~HttpOperation() { --client_->inFlight; }

    void start() {
        cancelHandler_ =
            g_cancellable_connect(outer_.get(), G_CALLBACK(onOuterCancelled), this, nullptr);
        closingHandler_ = g_cancellable_connect(client_->closing.get(),
                                                G_CALLBACK(onOuterCancelled), this, nullptr);
        if (g_cancellable_is_cancelled(outer_.get()) || client_->closed()) {
            return; // onOuterCancelled has already scheduled the end
        }
        startAttempt();
    }

  private:
    std::shared_ptr<HttpClient::Shared> client_;
    std::string method_;
    std::string url_;
    std::vector<Header> headers_;
    std::string contentType_;
    std::string caFile_;
    bool followRedirects_;
    GBytesPtr body_;
    size_t maxBodyBytes_;
    GRef<GCancellable> outer_;
    gulong cancelHandler_ = 0;
    gulong closingHandler_ = 0;
    std::optional<Error> endLater_; // the end of an operation that failed before it could start
    GRef<GCancellable> attempt_;
    GRef<SoupMessage> message_;
    GRef<GInputStream> stream_;
    SourceId connectTimer_;
    SourceId totalTimer_;
    SourceId retryTimer_;
    SourceId idleTimer_;
    SourceId cancelIdle_;
    bool timedOut_ = false;
    bool connectTimedOut_ = false;
    bool idleTimedOut_ = false;
    int idleTimeoutMs_ = 0; // the one that ran out
    bool chunksDelivered_ = false;
    size_t bytesReceived_ = 0;
    int retries_ = 0;
    HttpResponse response_;
    HttpClient::Done done_;
    HttpClient::Chunk chunk_;

    [[nodiscard]] bool deliversChunks() const {
        return chunk_ && response_.status >= 200 && response_.status < 300;
    }

    std::string host() const {
        const GUriPtr uri(g_uri_parse(url_.c_str(), G_URI_FLAGS_NONE, nullptr));
        return uri && g_uri_get_host(uri.get()) != nullptr ? g_uri_get_host(uri.get()) : url_;
    }

    // The port a connection goes to, named in messages: a server on the right host but another
    // port is a common mistake, and "127.0.0.1" alone does not show it.
    int port() const {
        const GUriPtr uri(g_uri_parse(url_.c_str(), G_URI_FLAGS_NONE, nullptr));
        if (!uri) {
            return 0;
        }
        if (g_uri_get_port(uri.get()) > 0) {
            return g_uri_get_port(uri.get());
        }
        return g_ascii_strcasecmp(g_uri_get_scheme(uri.get()), "http") == 0 ? 80 : 443;
    }

    void endAttempt() {
        connectTimer_.reset();
        totalTimer_.reset();
        idleTimer_.reset();
        if (message_) {
            g_signal_handlers_disconnect_by_data(message_.get(), this);
        }
        stream_.reset();
        message_.reset();
        attempt_.reset();
    }

    void startAttempt() {
        ++client_->attemptsStarted;
        response_ = {};
        bytesReceived_ = 0;
        timedOut_ = false;
        connectTimedOut_ = false;
        idleTimedOut_ = false;
        SoupMessage* msg = soup_message_new(method_.c_str(), url_.c_str());
        if (msg == nullptr) {
            endFromIdle(makeError(ErrorKind::Configuration,
                                  textf(_("the URL %s is not valid"), url_.c_str())));
            return;
        }
        message_ = adoptRef(msg);
        attempt_ = adoptRef(g_cancellable_new());
        SoupMessageHeaders* h = soup_message_get_request_headers(msg);
        for (const auto& [name, value] : headers_) {
            soup_message_headers_replace(h, name.c_str(), value.c_str());
        }
        if (!contentType_.empty() || g_bytes_get_size(body_.get()) > 0) {
            soup_message_set_request_body_from_bytes(
                msg, contentType_.empty() ? nullptr : contentType_.c_str(), body_.get());
        }
        if (!followRedirects_) {
            soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
        }
        if (!caFile_.empty()) {
            g_signal_connect(msg, "accept-certificate", G_CALLBACK(onAcceptCertificate), this);
        }
        // Once the request headers are written the connection is up; a reused connection has no
        // network events, so this is the one signal that always comes.
        g_signal_connect_swapped(msg, "wrote-headers", G_CALLBACK(onConnected), this);
        connectTimer_.reset(g_timeout_add(static_cast<guint>(client_->options.connectTimeoutMs),
                                          onConnectTimeout, this));
        totalTimer_.reset(g_timeout_add(static_cast<guint>(client_->options.totalTimeoutMs),
                                        onTotalTimeout, this));
        soup_session_send_async(client_->session.get(), msg, G_PRIORITY_DEFAULT, attempt_.get(),
                                onSent, this);
    }

    // libsoup asks only about a certificate the system's store refused: it is accepted exactly
    // when the connection's CA file vouches for it, for this host. Verification is never off.
    static gboolean onAcceptCertificate(SoupMessage* /*msg*/, GTlsCertificate* peer,
                                        GTlsCertificateFlags /*errors*/, gpointer data) {
        auto* self = static_cast<HttpOperation*>(data);
        GErrorPtr error;
        const GRef<GTlsDatabase> trusted =
            adoptRef(g_tls_file_database_new(self->caFile_.c_str(), outPtr(error)));
        const GUriPtr uri(g_uri_parse(self->url_.c_str(), G_URI_FLAGS_NONE, nullptr));
        if (!trusted || !uri) {
            return FALSE;
        }
        const GRef<GSocketConnectable> identity =
            adoptRef(g_network_address_new(g_uri_get_host(uri.get()), 0));
        const GTlsCertificateFlags problems = g_tls_database_verify_chain(
            trusted.get(), peer, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity.get(),
            nullptr, G_TLS_DATABASE_VERIFY_NONE, nullptr, nullptr);
        return problems == 0 ? TRUE : FALSE;
    }

    static void onConnected(HttpOperation* self) { self->connectTimer_.reset(); }

    static gboolean onConnectTimeout(gpointer data) {
        auto* self = static_cast<HttpOperation*>(data);
        self->connectTimer_.forget();
        self->timedOut_ = true;
        self->connectTimedOut_ = true;
        g_cancellable_cancel(self->attempt_.get());
        return G_SOURCE_REMOVE;
    }

    static gboolean onTotalTimeout(gpointer data) {
        auto* self = static_cast<HttpOperation*>(data);
        self->totalTimer_.forget();
        self->timedOut_ = true;
        g_cancellable_cancel(self->attempt_.get());
        return G_SOURCE_REMOVE;
    }

    // (Re)starts the idle timer: the answer has begun, or a piece of it came. An event stream may
    // be quiet for longer than a plain answer: the model is still painting.
    void armIdleTimer() {
        const HttpOptions& o = client_->options;
        const bool eventStream =
            response_.header("content-type").find("text/event-stream") != std::string::npos;
        idleTimeoutMs_ = std::max(1, eventStream ? o.streamIdleTimeoutMs : o.idleTimeoutMs);
        idleTimer_.reset(g_timeout_add(static_cast<guint>(idleTimeoutMs_), onIdleTimeout, this));
    }

    static gboolean onIdleTimeout(gpointer data) {
        auto* self = static_cast<HttpOperation*>(data);
        self->idleTimer_.forget();
        self->idleTimedOut_ = true;
        g_cancellable_cancel(self->attempt_.get());
        return G_SOURCE_REMOVE;
    }

    static void onOuterCancelled(GCancellable* /*outer*/, gpointer data) {
        auto* self = static_cast<HttpOperation*>(data);
        if (self->attempt_) {
            g_cancellable_cancel(self->attempt_.get()); // the pending callback ends the operation
            return;
        }
        // Waiting between tries (or not started): end from an idle, as g_cancellable_disconnect
        // may not be called from inside this handler.
        self->retryTimer_.reset();
        self->endFromIdle(makeError(ErrorKind::Cancelled, "cancelled"));
    }

    // Ends the operation from the main loop: `done` never runs inside send() or inside a
    // cancellable's handler.
    void endFromIdle(Error e) {
        if (cancelIdle_) {
            return;
        }
        endLater_ = std::move(e);
        cancelIdle_.reset(g_idle_add(
            [](gpointer p) -> gboolean {
                auto* op = static_cast<HttpOperation*>(p);
                op->cancelIdle_.forget();
                op->finish(std::move(*op->endLater_));
                return G_SOURCE_REMOVE;
            },
            this));
    }

    static void onSent(GObject* source, GAsyncResult* result, gpointer data) {
        auto* self = static_cast<HttpOperation*>(data);
        try {
            GErrorPtr error;
            GInputStream* stream =
                soup_session_send_finish(SOUP_SESSION(source), result, outPtr(error));
            if (stream == nullptr) {
                self->attemptFailed(error.get());
                return;
            }
            self->stream_ = adoptRef(stream);
            self->connectTimer_.reset();
            self->response_.status =
                static_cast<int>(soup_message_get_status(self->message_.get()));
            soup_message_headers_foreach(
                soup_message_get_response_headers(self->message_.get()),
                [](const char* name, const char* value, gpointer p) {
                    static_cast<HttpResponse*>(p)->headers.emplace_back(name, value);
                },
                &self->response_);
            self->armIdleTimer();
            self->reserveBody();
            self->readNext();
        } catch (const std::exception& e) {
            self->finish(makeError(ErrorKind::Network, e.what()));
        }
    }

    // A body of known length is kept in one allocation of that length, not grown by doubling
    // (which may hold three times the body for a moment). A gzip body's length says nothing of
    // what it decodes to: it grows as it comes.
    void reserveBody() {
        if (deliversChunks() || response_.status < 200 || response_.status >= 300 ||
            !response_.header("content-encoding").empty()) {
            return;
        }
        const std::string length = response_.header("content-length");
        const guint64 bytes = length.empty() ? 0 : g_ascii_strtoull(length.c_str(), nullptr, 10);
        if (bytes > 0 && bytes <= maxBodyBytes_) {
            response_.body.reserve(static_cast<size_t>(bytes));
        }
    }

    void readNext() {
        g_input_stream_read_bytes_async(stream_.get(), 64 * 1024, G_PRIORITY_DEFAULT,
                                        attempt_.get(), onRead, this);
    }

    static void onRead(GObject* source, GAsyncResult* result, gpointer data) {
        auto* self = static_cast<HttpOperation*>(data);
        try {
            GErrorPtr error;
            GBytesPtr bytes(
                g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, outPtr(error)));
            if (!bytes) {
                self->attemptFailed(error.get());
                return;
            }
            gsize size = 0;
            const auto* p = static_cast<const char*>(g_bytes_get_data(bytes.get(), &size));
            if (size == 0) {
                if (self->cutShort()) {
                    self->attemptFailed(nullptr, _("the connection closed before the whole answer "
                                                   "arrived"));
                    return;
                }
                self->attemptComplete();
                return;
            }
            self->bytesReceived_ += size;
            self->client_->bodyBytesRead += size;
            if (self->bytesReceived_ > self->maxBodyBytes_ && self->response_.status < 300) {
                self->refuseLongAnswer();
                return;
            }
            if (self->client_->closed()) {
                self->finish(makeError(ErrorKind::Cancelled, "cancelled"));
                return;
            }
            self->armIdleTimer();
            if (self->deliversChunks()) {
                self->chunksDelivered_ = true;
                self->chunk_(self->response_, std::string_view(p, size));
            } else if (self->response_.status < 300) {
                self->response_.body.append(p, size);
            } else if (self->keepErrorBody(std::string_view(p, size))) {
                // Enough of an error body to classify it: the rest, however long it decodes
                // (2 MB of gzip can hold 2 GB), is not read. The connection is closed with the
                // stream, not drained.
                self->attemptComplete();
                return;
            }
            self->readNext();
        } catch (const std::exception& e) {
            self->finish(makeError(ErrorKind::Network, e.what()));
        }
    }

    // Keeps an error body up to its bound; true once the bound is reached.
    bool keepErrorBody(std::string_view piece) {
        const size_t bound = client_->options.maxErrorBodyBytes;
        std::string& body = response_.body;
        body.append(piece.substr(0, bound - std::min(bound, body.size())));
        return body.size() >= bound;
    }

    // No retry: the same server would send the same.
    void refuseLongAnswer() {
        g_cancellable_cancel(attempt_.get());
        finish(makeError(ErrorKind::MalformedResponse,
                         textf(_("the service sent more than %s, more than the images asked for "
                                 "can take"),
                               megabytes(maxBodyBytes_).c_str())));
    }

    // A body shorter than its Content-Length: the connection closed early. (With a
    // Content-Encoding the length counts the encoded bytes, so it cannot be compared.)
    [[nodiscard]] bool cutShort() const {
        const std::string length = response_.header("content-length");
        if (length.empty() || !response_.header("content-encoding").empty()) {
            return false;
        }
        return bytesReceived_ < g_ascii_strtoull(length.c_str(), nullptr, 10);
    }

    void attemptComplete() {
        endAttempt();
        if (response_.status >= 200 && response_.status < 300) {
            finish(std::move(response_));
            return;
        }
        const HttpOptions& o = client_->options;
        const double random = o.random ? o.random() : g_random_double();
        auto delay = retries_ < o.maxRetries ? retryDelaySeconds(response_, retries_, o, random,
                                                                 g_get_real_time() / 1'000'000)
                                             : std::nullopt;
        if (!delay) {
            finish(std::move(response_));
            return;
        }
        scheduleRetry(*delay);
    }

    void attemptFailed(const GError* error, const char* what = nullptr) {
        const bool outerCancelled =
            g_cancellable_is_cancelled(outer_.get()) != FALSE || client_->closed();
        const bool timedOut = timedOut_;
        const bool connectTimedOut = connectTimedOut_;
        const bool idleTimedOut = idleTimedOut_;
        const std::string detail =
            error != nullptr ? error->message : (what != nullptr ? what : _("unknown error"));
        endAttempt();
        if (outerCancelled) {
            finish(makeError(ErrorKind::Cancelled, "cancelled"));
            return;
        }
        Error e;
        if (idleTimedOut) {
            // A stalled connection: another one may well do better, so it is retried.
            e.kind = ErrorKind::Network;
            e.message = textf(_("The service at %s sent nothing for %d s in the middle of its "
                                "answer: the connection may have stalled"),
                              host().c_str(), std::max(1, idleTimeoutMs_ / 1000));
        } else if (timedOut) {
            e.kind = ErrorKind::Timeout;
            e.message =
                connectTimedOut
                    ? textf(_("Could not connect to %s (port %d) within %d s."), host().c_str(),
                            port(), static_cast<int>(client_->options.connectTimeoutMs / 1000))
                    : textf(_("The service at %s did not answer within %d s"), host().c_str(),
                            static_cast<int>(client_->options.totalTimeoutMs / 1000));
        } else if (error != nullptr && error->domain == G_TLS_ERROR) {
            // The same certificate would come again: no retry.
            finish(makeError(ErrorKind::Network,
                             textf(_("The certificate of %s is not trusted (%s). If the server "
                                     "uses its own certificate authority, name its CA file in "
                                     "the connection."),
                                   host().c_str(), detail.c_str())));
            return;
        } else if (error != nullptr &&
                   g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
            // GIO's own words repeat the host and leave out the port.
            e.kind = ErrorKind::Network;
            e.message = textf(_("Nothing accepts connections at %s, port %d (connection refused): "
                                "check the endpoint, and that the server is running."),
                              host().c_str(), port());
        } else {
            e.kind = ErrorKind::Network;
            std::string said = detail;
            if (!said.empty() && said.back() == '.') {
                said.pop_back(); // the message puts its own full stop
            }
            e.message = textf(_("Could not reach the service at %s (port %d): %s."), host().c_str(),
                              port(), said.c_str());
        }
        if (chunksDelivered_ || retries_ >= client_->options.maxRetries) {
            finish(std::move(e));
            return;
        }
        const HttpOptions& o = client_->options;
        scheduleRetry(backoffSeconds(retries_, o.random ? o.random() : g_random_double()));
    }

    void scheduleRetry(double seconds) {
        ++retries_;
        retryTimer_.reset(g_timeout_add(
            static_cast<guint>(std::lround(seconds * 1000.0)),
            [](gpointer p) -> gboolean {
                auto* self = static_cast<HttpOperation*>(p);
                self->retryTimer_.forget();
                self->startAttempt();
                return G_SOURCE_REMOVE;
            },
            this));
    }

    void finish(Result<HttpResponse> result) {
        endAttempt();
        retryTimer_.reset();
        cancelIdle_.reset();
        g_cancellable_disconnect(outer_.get(), cancelHandler_);
        g_cancellable_disconnect(client_->closing.get(), closingHandler_);
        HttpClient::Done done = std::move(done_);
        const bool clientGone = client_->closed();
        delete this;
        if (clientGone) {
            return; // its owner may have gone with it
        }
        try {
            done(std::move(result));
        } catch (...) {
            g_warning("imagegen: an HTTP completion handler threw");
        }
    }
};

} // namespace

std::string redactHeaderLine(std::string_view line) {
    static constexpr std::string_view kSecretHeaders[] = {
        "authorization", "proxy-authorization", "api-key", "x-api-key", "cookie", "set-cookie"};
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        return std::string(line);
    }
    const GCharPtr name(g_ascii_strdown(line.data(), static_cast<gssize>(colon)));
    for (const std::string_view secret : kSecretHeaders) {
        if (secret == name.get()) {
            return std::string(line.substr(0, colon)) + ": [redacted]";
        }
    }
    return std::string(line);
}

namespace {

void attachDebugLog(SoupSession* session, const HttpOptions& options) {
    auto* log = new std::function<void(const std::string&)>(options.debugLog);
    if (!*log) {
        *log = [](const std::string& line) {
            std::fprintf(stderr, "imagegen-http: %s\n", line.c_str());
        };
    }
    const GRef<SoupLogger> logger = adoptRef(soup_logger_new(SOUP_LOGGER_LOG_HEADERS));
    soup_logger_set_printer(
        logger.get(),
        [](SoupLogger* /*logger*/, SoupLoggerLogLevel /*level*/, char direction, const char* data,
           gpointer user) {
            try {
                const std::string line = std::string(1, direction) + " " + redactHeaderLine(data);
                (*static_cast<std::function<void(const std::string&)>*>(user))(line);
            } catch (...) {
                // a log line lost; no exception may cross into libsoup
            }
        },
        log, [](gpointer p) { delete static_cast<std::function<void(const std::string&)>*>(p); });
    soup_session_add_feature(session, SOUP_SESSION_FEATURE(logger.get()));
}

} // namespace

HttpClient::HttpClient(HttpOptions options) : shared_(std::make_shared<Shared>()) {
    shared_->options = std::move(options);
    // timeout 0: a generation may take minutes before its first byte; our own timers bound it.
    const int perHost = std::max(1, shared_->options.maxConnectionsPerHost);
    shared_->session = adoptRef(soup_session_new_with_options(
        "timeout", 0U, "user-agent", "imagegen-gimp/" IMAGEGEN_VERSION, "max-conns-per-host",
        perHost, "max-conns", perHost + 4, nullptr));
    if (shared_->options.debugLog || g_strcmp0(g_getenv("IMAGEGEN_DEBUG"), "1") == 0) {
        attachDebugLog(shared_->session.get(), shared_->options);
    }
}

HttpClient::~HttpClient() {
    g_cancellable_cancel(shared_->closing.get());
}

const HttpOptions& HttpClient::options() const {
    return shared_->options;
}
int HttpClient::attemptsStarted() const {
    return shared_->attemptsStarted;
}
size_t HttpClient::bodyBytesRead() const {
    return shared_->bodyBytesRead;
}
int HttpClient::inFlight() const {
    return shared_->inFlight;
}
GCancellable* HttpClient::closing() const {
    return shared_->closing.get();
}

void HttpClient::send(const HttpRequest& request, GCancellable* cancellable, Done done,
                      Chunk onChunk) {
    auto* op =
        new HttpOperation(shared_, request, cancellable, std::move(done), std::move(onChunk));
    op->start();
}

} // namespace imagegen
