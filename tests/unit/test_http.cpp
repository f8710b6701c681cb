// The HTTP client against a real SoupServer on loopback: bodies and headers on the wire, the
// retry policy with every retry header, timeouts, network errors and cancellation.
#include "core/service/http_client.h"
#include "core/service/retry_policy.h"
#include "http_helpers.h"
#include "test_server.h"
#include "test_util.h"

#include <gio/gio.h>

#include <cmath>

#include <map>
#include <string>

using namespace imagegen;
using namespace imagegen::test;

static void testPostsBodyAndHeaders() {
    TestServer server;
    server.answerAlways([](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, 200, "application/json", kOkBody, {{"x-request-id", "req-9"}});
    });
    HttpClient client(quickOptions());
    auto r = sendAndWait(client, post(server));
    if (assertOk(r)) {
        g_assert_cmpint(r->status, ==, 200);
        assertEq(r->body, kOkBody);
        assertEq(r->requestId(), "req-9");
        assertEq(r->header("Content-Type"), "application/json");
    }
    if (!assertSize(server.received(), 1)) {
        return;
    }
    const ReceivedRequest& got = server.received()[0];
    assertEq(got.method, "POST");
    assertEq(got.path, "/v1/images/generations");
    assertEq(got.body, R"({"prompt":"p"})");
    assertEq(got.header("authorization"), "Bearer secret-key");
    assertEq(got.header("content-type"), "application/json");
    assertContains(got.header("user-agent"), "imagegen-gimp/");
}

struct RetryHeaders {
    const char* name; // in the test's path
    std::map<std::string, std::string> headers;
};

static const RetryHeaders kRetryHeaders[] = {
    {"retry-after-ms", {{"retry-after-ms", "20"}}},
    {"x-ms-retry-after-ms", {{"x-ms-retry-after-ms", "20"}}},
    {"retry-after", {{"Retry-After", "0"}}},
    {"ms-wins-over-seconds", {{"retry-after-ms", "15.5"}, {"Retry-After", "100"}}},
};

static void testRetriesWithRetryHeader(gconstpointer data) {
    const auto& headers = static_cast<const RetryHeaders*>(data)->headers;
    TestServer server;
    server.answer({status(429, headers), ok()});
    HttpClient client(quickOptions());
    auto r = sendAndWait(client, post(server));
    if (assertOk(r)) {
        g_assert_cmpint(r->status, ==, 200);
    }
    if (assertSize(server.received(), 2)) {
        // The retry sends the same body again.
        assertEq(server.received()[1].body, server.received()[0].body);
    }
}

static const int kRetriedStatuses[] = {408, 409, 429, 500, 502, 503};

static void testRetriedStatus(gconstpointer data) {
    const int code = *static_cast<const int*>(data);
    TestServer server;
    server.answer(
        {status(code, {{"retry-after-ms", "1"}}), status(code, {{"retry-after-ms", "1"}}), ok()});
    HttpClient client(quickOptions());
    auto r = sendAndWait(client, post(server));
    if (assertOk(r)) {
        g_assert_cmpint(r->status, ==, 200);
    }
    g_assert_cmpuint(server.received().size(), ==, 3);
}

static void testGivesUpAfterTwoRetries() {
    TestServer server;
    server.answerAlways(status(500, {{"retry-after-ms", "1"}}));
    HttpClient client(quickOptions());
    auto r = sendAndWait(client, post(server));
    if (assertOk(r)) {
        g_assert_cmpint(r->status, ==, 500);
    }
    g_assert_cmpuint(server.received().size(), ==, 3);
    g_assert_cmpint(client.attemptsStarted(), ==, 3);
}

static const int kNeverRetriedStatuses[] = {400, 401, 403, 404, 422};

static void testNeverRetriesClientError(gconstpointer data) {
    const int code = *static_cast<const int*>(data);
    const char* filter =
        R"({"error":{"code":"contentFilter","message":"Your task failed as a result of our safety system."}})";
    TestServer server;
    server.answerAlways(status(code, {{"retry-after-ms", "1"}}, filter));
    HttpClient client(quickOptions());
    auto r = sendAndWait(client, post(server));
    if (assertOk(r)) {
        g_assert_cmpint(r->status, ==, code);
        assertEq(r->body, filter);
    }
    g_assert_cmpuint(server.received().size(), ==, 1);
}

static void testShouldRetryHeaderWins() {
    TestServer noRetry;
    noRetry.answerAlways(status(503, {{"x-should-retry", "false"}}));
    HttpClient client(quickOptions());
    auto first = sendAndWait(client, post(noRetry));
    if (assertOk(first)) {
        g_assert_cmpint(first->status, ==, 503);
    }
    g_assert_cmpuint(noRetry.received().size(), ==, 1);

    TestServer retry;
    retry.answer({status(400, {{"x-should-retry", "true"}, {"retry-after-ms", "1"}}), ok()});
    auto second = sendAndWait(client, post(retry));
    if (assertOk(second)) {
        g_assert_cmpint(second->status, ==, 200);
    }
    g_assert_cmpuint(retry.received().size(), ==, 2);
}

static HttpResponse responseWith(int code, std::vector<Header> headers) {
    HttpResponse r;
    r.status = code;
    r.headers = std::move(headers);
    return r;
}

static void testRetryDelayRules() {
    HttpOptions o;
    const int64_t now = 1'700'000'000;
    auto delay = [&](int code, std::vector<Header> h, int k = 0, double random = 0.0) {
        return retryDelaySeconds(responseWith(code, std::move(h)), k, o, random, now);
    };
    // The delay, or -1 (which no check expects) when there is none.
    auto seconds = [&](int code, std::vector<Header> h, int k = 0) {
        return delay(code, std::move(h), k).value_or(-1.0);
    };
    g_assert_cmpfloat(seconds(429, {{"retry-after-ms", "1500"}}), ==, 1.5);
    g_assert_cmpfloat(seconds(429, {{"x-ms-retry-after-ms", "250"}}), ==, 0.25);
    g_assert_cmpfloat(seconds(429, {{"Retry-After", "2"}}), ==, 2.0);
    g_assert_cmpfloat(seconds(429, {{"retry-after", "2.5"}}), ==, 2.5);
    // An HTTP date five seconds ahead; one in the past means now.
    const GDateTimePtr ahead(g_date_time_new_from_unix_utc(now + 5));
    const GCharPtr aheadText(soup_date_time_to_string(ahead.get(), SOUP_DATE_HTTP));
    g_assert_cmpfloat(seconds(503, {{"Retry-After", aheadText.get()}}), ==, 5.0);
    g_assert_cmpfloat(seconds(503, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}), ==, 0.0);
    // Past 60 s the server's delay is not honoured: our backoff instead.
    g_assert_cmpfloat(seconds(429, {{"Retry-After", "120"}}, 0), ==, 0.5);
    g_assert_cmpfloat(seconds(429, {{"retry-after-ms", "60000"}}), ==, 60.0);
    // Unreadable header: our backoff.
    g_assert_cmpfloat(seconds(429, {{"Retry-After", "soon"}}, 1), ==, 1.0);
    g_assert_false(delay(400, {{"retry-after-ms", "5"}}).has_value());
    g_assert_false(delay(404, {}).has_value());
    g_assert_true(delay(408, {}).has_value());
    g_assert_true(delay(409, {}).has_value());

    g_assert_cmpfloat(backoffSeconds(0, 0.0), ==, 0.5);
    g_assert_cmpfloat(backoffSeconds(1, 0.0), ==, 1.0);
    g_assert_cmpfloat(backoffSeconds(2, 0.0), ==, 2.0);
    g_assert_cmpfloat(backoffSeconds(4, 0.0), ==, 8.0);
    g_assert_cmpfloat(backoffSeconds(9, 0.0), ==, 8.0);
    g_assert_cmpfloat(backoffSeconds(0, 1.0), ==, 0.375); // at most 25 % jitter
}

// Retry-After and its variants are clamped before any conversion: nonsense is no delay (our
// backoff), a huge or far-off one is at most a week, never a wrapped-around number.
static void testServerDelayAtTheEdges() {
    const int64_t now = 1'700'000'000;
    auto delay = [&](const char* name, const char* value) {
        return serverDelaySeconds(responseWith(429, {{name, value}}), now);
    };
    constexpr double kWeek = 7 * 24 * 3600.0;
    for (const char* name : {"Retry-After", "retry-after-ms", "x-ms-retry-after-ms"}) {
        g_test_message("%s", name);
        g_assert_cmpfloat(delay(name, "0").value_or(-1), ==, 0.0);
        const auto negativeZero = delay(name, "-0");
        g_assert_true(negativeZero.has_value());
        g_assert_cmpfloat(negativeZero.value_or(-1), ==, 0.0);
        g_assert_false(std::signbit(negativeZero.value_or(-1)));
        g_assert_false(delay(name, "nan").has_value());
        g_assert_false(delay(name, "-5").has_value());
        g_assert_cmpfloat(delay(name, "1e308").value_or(-1), ==, kWeek);
        g_assert_cmpfloat(delay(name, "1e400").value_or(-1), ==, kWeek);
        g_assert_cmpfloat(delay(name, "inf").value_or(-1), ==, kWeek);
        g_assert_cmpfloat(delay(name, "1.7976931348623157e308").value_or(-1), ==, kWeek);
        g_assert_cmpfloat(delay(name, "18446744073709551616").value_or(-1), ==, kWeek);
    }
    g_assert_cmpfloat(delay("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT").value_or(-1), ==,
                      kWeek);
    // A clamped delay is still past what is honoured: our backoff, not a week's wait.
    HttpOptions o;
    g_assert_cmpfloat(
        retryDelaySeconds(responseWith(429, {{"Retry-After", "1e308"}}), 0, o, 0.0, now)
            .value_or(-1),
        ==, 0.5);
}

static void testNetworkErrorIsRetriedThenReported() {
    // A port that was just free: nothing listens.
    int port = 0;
    {
        TestServer gone;
        port = gone.port();
    }
    HttpRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/images/generations";
    r.contentType = "application/json";
    r.headers = {{"Authorization", "Bearer do-not-leak"}};
    HttpOptions o = quickOptions();
    HttpClient client(o);
    auto result = sendAndWait(client, r);
    const Error e = assertFails(result, ErrorKind::Network);
    assertContains(e.message, "127.0.0.1");
    g_assert_true(e.message.find("do-not-leak") == std::string::npos);
    g_assert_cmpint(client.attemptsStarted(), ==, 3);
}

static void testWholeRequestTimeout() {
    TestServer server;
    server.holdEvery();
    HttpOptions o = quickOptions();
    o.totalTimeoutMs = 200;
    o.maxRetries = 1;
    HttpClient client(o);
    const Error e = assertFails(sendAndWait(client, post(server)), ErrorKind::Timeout);
    assertContains(e.message, "did not answer");
    g_assert_cmpuint(server.received().size(), ==, 2); // a timeout is retried, as in the SDKs
}

// An answer that begins and then stalls fails after the idle timeout, as a network error that
// is retried (here with a 1 s timeout instead of 60 s).
static void testIdleAnswerTimesOut() {
    TestServer server;
    server.answerAlways(stallAfter(200, "application/json", R"({"created":1,"data":[)"));
    HttpOptions o = quickOptions();
    o.idleTimeoutMs = 1000;
    o.maxRetries = 2;
    HttpClient client(o);
    const Error e = assertFails(sendAndWait(client, post(server)), ErrorKind::Network);
    assertContains(e.message, "The service at 127.0.0.1 sent nothing for 1 s");
    g_assert_cmpint(client.attemptsStarted(), ==, 3);
    g_assert_cmpuint(server.received().size(), ==, 3);
}

// An open event stream may be quiet for longer (partial images take a while): its own timeout
// applies, and what was handed over is not asked for again.
static void testIdleEventStreamHasItsOwnTimeout() {
    TestServer server;
    server.answerAlways(stallAfter(200, "text/event-stream", ": keep-alive\n\n"));
    HttpOptions o = quickOptions();
    o.idleTimeoutMs = 1000;
    o.streamIdleTimeoutMs = 2000;
    HttpClient client(o);
    bool done = false;
    Result<HttpResponse> result = makeError(ErrorKind::Network, "not run");
    client.send(
        post(server), nullptr,
        [&](Result<HttpResponse> r) {
            result = std::move(r);
            done = true;
        },
        [](const HttpResponse&, std::string_view) {});
    iterateUntil(done);
    const Error e = assertFails(result, ErrorKind::Network);
    assertContains(e.message, "sent nothing for 2 s");
    g_assert_cmpint(client.attemptsStarted(), ==, 1);
}

// A TCP listener that accepts and then says nothing: the TLS handshake never completes.
static void testConnectTimeout() {
    GRef<GSocketListener> listener = adoptRef(g_socket_listener_new());
    GRef<GInetAddress> loopback = adoptRef(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
    GRef<GSocketAddress> address = adoptRef(g_inet_socket_address_new(loopback.get(), 0));
    GRef<GSocketAddress> bound;
    GSocketAddress* effective = nullptr;
    GErrorPtr error;
    g_assert_true(g_socket_listener_add_address(listener.get(), address.get(), G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, nullptr, &effective,
                                                outPtr(error)));
    bound = adoptRef(effective);
    const int port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound.get()));
    HttpRequest r;
    r.url = "https://127.0.0.1:" + std::to_string(port) + "/v1/images/generations";
    r.contentType = "application/json";
    HttpOptions o = quickOptions();
    o.connectTimeoutMs = 300;
    o.maxRetries = 0;
    HttpClient client(o);
    const Error e = assertFails(sendAndWait(client, r), ErrorKind::Timeout);
    assertContains(e.message,
                   "Could not connect to 127.0.0.1 (port " + std::to_string(port) + ") within");
}

static void testCancelWhileWaitingForAnswer() {
    TestServer server;
    server.holdEvery();
    HttpClient client(quickOptions());
    GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    const SourceId cancel = cancelAfter(100, cancellable.get());
    assertFails(sendAndWait(client, post(server), cancellable.get()), ErrorKind::Cancelled);
    g_assert_cmpuint(server.received().size(), ==, 1);
}

static void testCancelBetweenRetries() {
    TestServer server;
    server.answerAlways(status(429, {{"retry-after-ms", "30000"}}));
    HttpClient client(quickOptions());
    GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    const SourceId cancel = cancelAfter(100, cancellable.get());
    assertFails(sendAndWait(client, post(server), cancellable.get()), ErrorKind::Cancelled);
    g_assert_cmpuint(server.received().size(), ==, 1);
}

static void testAlreadyCancelledSendsNothing() {
    TestServer server;
    server.answerAlways(ok());
    HttpClient client(quickOptions());
    GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    g_cancellable_cancel(cancellable.get());
    assertFails(sendAndWait(client, post(server), cancellable.get()), ErrorKind::Cancelled);
    g_assert_cmpuint(server.received().size(), ==, 0);
}

static void testChunksOfAStreamedAnswer() {
    TestServer server;
    const std::string body(300 * 1024, 'z');
    server.answerAlways([&body](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, 200, "text/event-stream", body);
    });
    HttpClient client(quickOptions());
    std::string collected;
    int chunks = 0;
    std::string contentType;
    bool done = false;
    Result<HttpResponse> result = makeError(ErrorKind::Network, "not run");
    client.send(
        post(server), nullptr,
        [&](Result<HttpResponse> r) {
            result = std::move(r);
            done = true;
        },
        [&](const HttpResponse& head, std::string_view chunk) {
            contentType = head.header("content-type");
            collected.append(chunk);
            ++chunks;
        });
    iterateUntil(done);
    if (assertOk(result)) {
        g_assert_true(result->body.empty());
    }
    g_assert_true(collected == body);
    g_assert_cmpint(chunks, >=, 2);
    assertEq(contentType, "text/event-stream");
}

static void testAnswerLongerThanItsLimitIsRefused() {
    TestServer server;
    server.answerAlways([](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, 200, "application/json", std::string(3U << 20, ' '));
    });
    HttpClient client(quickOptions());
    HttpRequest request = post(server);
    request.maxBodyBytes = 1U << 20;
    const Error e = assertFails(sendAndWait(client, request), ErrorKind::MalformedResponse);
    assertContains(e.message, "more than 1.0 MB");
    g_assert_cmpint(client.attemptsStarted(), ==, 1); // the same server would send the same
}

static void testErrorBodyIsKeptOnlyUpToItsLimit() {
    TestServer server;
    server.answerAlways([](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, 400, "application/json", std::string(3U << 20, 'x'));
    });
    HttpOptions options = quickOptions();
    options.maxErrorBodyBytes = 1000;
    HttpClient client(options);
    auto r = sendAndWait(client, post(server));
    if (assertOk(r)) {
        g_assert_cmpint(r->status, ==, 400);
        g_assert_cmpuint(r->body.size(), <=, 1000 + 64 * 1024); // at most one read past it
    }
}

// An error body is bounded in decoded bytes: a small gzip body that decodes to far more is read
// no further than the bound, on each try, instead of being drained.
static void testGzipErrorBodyIsReadOnlyUpToItsLimit(gconstpointer data) {
    const int code = *static_cast<const int*>(data);
    const std::string body =
        gzipped(R"({"error":{"message":"x"}})" + std::string(size_t{64} << 20, ' '));
    g_assert_cmpuint(body.size(), <, 200'000);
    TestServer server;
    server.answerAlways([&body, code](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, code, "application/json", body,
                            std::map<std::string, std::string>{{"Content-Encoding", "gzip"}});
    });
    HttpOptions options = quickOptions();
    options.maxErrorBodyBytes = 1000;
    HttpClient client(options);
    auto r = sendAndWait(client, post(server));
    if (assertOk(r)) {
        g_assert_cmpint(r->status, ==, code);
        g_assert_cmpuint(r->body.size(), <=, 1000);
        assertContains(r->body, R"({"error")");
    }
    const int attempts = client.attemptsStarted();
    g_assert_cmpint(attempts, ==, code >= 500 ? 3 : 1);
    // Each try reads at most one buffer (64 KiB) past the bound.
    g_assert_cmpuint(client.bodyBytesRead(), <=, static_cast<size_t>(attempts) * (1000 + 65536));
}

// `done` never runs inside send(), even for a request that fails before it starts.
static void testDoneNeverRunsInsideSend() {
    HttpClient client(quickOptions());
    HttpRequest request;
    request.url = "not a url";
    bool done = false;
    Result<HttpResponse> result = makeError(ErrorKind::Network, "not run");
    client.send(request, nullptr, [&](Result<HttpResponse> r) {
        result = std::move(r);
        done = true;
    });
    g_assert_false(done);
    iterateUntil(done);
    assertFails(result, ErrorKind::Configuration);
}

// The dialog may close with a request in flight: destroying the client cancels it, and its
// callback (which may point into the closed dialog) never runs.
static void testDestroyingTheClientDropsItsCallbacks() {
    TestServer server;
    server.holdEvery();
    bool called = false;
    bool chunkCalled = false;
    {
        HttpClient client(quickOptions());
        client.send(
            post(server), nullptr, [&](const Result<HttpResponse>&) { called = true; },
            [&](const HttpResponse&, std::string_view) { chunkCalled = true; });
        server.waitForRequest();
        g_assert_cmpint(client.inFlight(), ==, 1);
    }
    // Let every pending callback of the cancelled request come back.
    drainMainContext();
    g_assert_false(called);
    g_assert_false(chunkCalled);
}

static void testDestroyingTheClientBetweenRetries() {
    TestServer server;
    server.answerAlways(status(503));
    bool called = false;
    {
        HttpOptions options = quickOptions();
        HttpClient client(options);
        client.send(post(server), nullptr, [&](const Result<HttpResponse>&) { called = true; });
        server.waitForRequest();
    }
    drainMainContext();
    g_assert_false(called);
}

// The debug log shows requests and answers, and never a credential.
static void testDebugLogRedactsCredentials() {
    TestServer server;
    server.answerAlways([](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, 200, "application/json", kOkBody);
    });
    std::string log;
    HttpOptions options = quickOptions();
    options.debugLog = [&log](const std::string& line) {
        log += line + "\n";
    };
    HttpClient client(options);
    HttpRequest request = post(server);
    request.headers.emplace_back("api-key", "azure-secret-key");
    if (!assertOk(sendAndWait(client, request))) {
        return;
    }
    assertContains(log, "> POST /v1/images/generations");
    assertContains(log, "> Authorization: [redacted]");
    assertContains(log, "> api-key: [redacted]");
    assertContains(log, "< HTTP/1.1 200");
    g_assert_true(log.find("secret-key") == std::string::npos);
    assertEq(redactHeaderLine("X-Api-Key: k"), "X-Api-Key: [redacted]");
    assertEq(redactHeaderLine("Content-Type: text/plain"), "Content-Type: text/plain");
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/http/posts-body-and-headers", testPostsBodyAndHeaders);
    for (const auto& h : kRetryHeaders) {
        g_test_add_data_func((std::string("/http/retry/header/") + h.name).c_str(), &h,
                             testRetriesWithRetryHeader);
    }
    for (const int& code : kRetriedStatuses) {
        g_test_add_data_func(("/http/retry/status/" + std::to_string(code)).c_str(), &code,
                             testRetriedStatus);
    }
    g_test_add_func("/http/retry/gives-up-after-two", testGivesUpAfterTwoRetries);
    for (const int& code : kNeverRetriedStatuses) {
        g_test_add_data_func(("/http/retry/never/" + std::to_string(code)).c_str(), &code,
                             testNeverRetriesClientError);
    }
    g_test_add_func("/http/retry/should-retry-header", testShouldRetryHeaderWins);
    g_test_add_func("/http/retry/delay-rules", testRetryDelayRules);
    g_test_add_func("/http/retry/delay-at-the-edges", testServerDelayAtTheEdges);
    g_test_add_func("/http/network-error", testNetworkErrorIsRetriedThenReported);
    g_test_add_func("/http/timeout/whole-request", testWholeRequestTimeout);
    g_test_add_func("/http/timeout/connect", testConnectTimeout);
    g_test_add_func("/http/timeout/idle", testIdleAnswerTimesOut);
    g_test_add_func("/http/timeout/idle-event-stream", testIdleEventStreamHasItsOwnTimeout);
    g_test_add_func("/http/cancel/while-waiting", testCancelWhileWaitingForAnswer);
    g_test_add_func("/http/cancel/between-retries", testCancelBetweenRetries);
    g_test_add_func("/http/cancel/already-cancelled", testAlreadyCancelledSendsNothing);
    g_test_add_func("/http/streamed-chunks", testChunksOfAStreamedAnswer);
    g_test_add_func("/http/limit/answer", testAnswerLongerThanItsLimitIsRefused);
    g_test_add_func("/http/debug-log-redacts-credentials", testDebugLogRedactsCredentials);
    g_test_add_func("/http/limit/error-body", testErrorBodyIsKeptOnlyUpToItsLimit);
    static const int kGzipErrorStatuses[] = {400, 500};
    for (const int& code : kGzipErrorStatuses) {
        g_test_add_data_func(("/http/limit/gzip-error-body/" + std::to_string(code)).c_str(), &code,
                             testGzipErrorBodyIsReadOnlyUpToItsLimit);
    }
    g_test_add_func("/http/contract/done-never-inside-send", testDoneNeverRunsInsideSend);
    g_test_add_func("/http/contract/client-destroyed-in-flight",
                    testDestroyingTheClientDropsItsCallbacks);
    g_test_add_func("/http/contract/client-destroyed-between-retries",
                    testDestroyingTheClientBetweenRetries);
    return g_test_run();
}
