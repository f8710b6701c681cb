// "Test connection" against a real SoupServer on loopback: what goes on the wire for each kind
// of connection, how each answer is classified, an unreachable port, requests that cannot be
// built, and the callback's contract (from the main loop, never after the client has gone).
#include "core/service/connection_check.h"
#include "http_helpers.h"
#include "test_server.h"
#include "test_util.h"

#include <memory>
#include <string>

using namespace imagegen;
using namespace imagegen::test;

// A marker no message may ever contain.
static const char* const kKey = "sk-imagegen-MARKER-5e2c81d4";

static HttpOptions noRetries() {
    HttpOptions o = quickOptions();
    o.maxRetries = 0;
    return o;
}

static Connection connectionTo(const TestServer& server, ConnectionKind kind,
                               AuthMethod auth = AuthMethod::BearerKey) {
    Connection c;
    c.name = "test";
    c.kind = kind;
    c.auth = auth;
    c.endpoint = kind == ConnectionKind::OpenAI || kind == ConnectionKind::Compatible
                     ? server.url("/v1")
                     : server.url("");
    return c;
}

// Runs the test and waits for its one callback; `calledInside` tells whether it ran inside the
// call, which it must never do.
struct Outcome {
    ConnectionTestResult result;
    bool calledInside = false;
    int calls = 0;
};

static Outcome run(HttpClient& http, const Connection& c, const Credential& credential,
                   const std::string& model, GCancellable* cancellable = nullptr) {
    Outcome out;
    bool returned = false;
    bool finished = false;
    testConnection(http, c, credential, model, cancellable, [&](ConnectionTestResult r) {
        out.result = std::move(r);
        out.calledInside = !returned;
        ++out.calls;
        finished = true;
    });
    returned = true;
    iterateUntil(finished);
    drainMainContext(); // a second call would come now
    return out;
}

static void assertNoKey(const std::string& message) {
    if (message.find(kKey) != std::string::npos) {
        fail(IMAGEGEN_TEST_HERE, "the message shows the key: " + message);
    }
}

struct AnswerCase {
    const char* name; // the test's path
    int status;
    const char* body;
    ConnectionVerdict verdict;
    const char* mentions; // a part of the message
};

static const char* const kEmptyPrompt =
    R"({"error":{"message":"Invalid 'prompt': empty string.","type":"invalid_request_error",)"
    R"("param":"prompt","code":"empty_string"}})";

static const AnswerCase kAnswers[] = {
    {"400-works", 400, kEmptyPrompt, ConnectionVerdict::Works,
     "Connected: the service answered and accepted the key."},
    {"400-html-works", 400, "<html>Bad Request</html>", ConnectionVerdict::Works, "Connected"},
    {"400-model-not-found", 400,
     R"({"error":{"message":"Invalid value for 'model' = gpt-image-x.","param":"model"}})",
     ConnectionVerdict::NotFound, "does not know the model “gpt-image-x” (400)"},
    // OpenAI's 401 quotes part of the key: nothing the service says about it is shown.
    {"401-bad-key", 401,
     R"({"error":{"message":"Incorrect API key provided: sk-imagegen-MARKER-5e2c81d4.",)"
     R"("code":"invalid_api_key"}})",
     ConnectionVerdict::BadCredential, "The key was refused (401): check the key."},
    {"403-forbidden", 403,
     R"({"error":{"message":"Your organization must be verified to use the model."}})",
     ConnectionVerdict::Forbidden,
     "may not use this model (403): check its permissions. The "
     "service said: Your organization must be verified"},
    {"404-not-found", 404,
     R"js({"error":{"message":"Invalid URL (POST /v1/images/generations)"}})js",
     ConnectionVerdict::NotFound,
     "does not know the model “gpt-image-x”, or the endpoint is wrong"},
    // Whatever the service echoes, the key is never shown.
    {"404-echoes-key", 404, R"({"error":{"message":"no model for sk-imagegen-MARKER-5e2c81d4"}})",
     ConnectionVerdict::NotFound, "no model for [redacted]"},
    {"429-rate-limited", 429, R"({"error":{"message":"Rate limit reached"}})",
     ConnectionVerdict::Unexpected, "limiting requests"},
    {"500-server-error", 500, R"({"error":{"message":"The server had an error"}})",
     ConnectionVerdict::Unexpected, "internal error (500)"},
    {"200-drew-anyway", 200, kOkBody, ConnectionVerdict::Unexpected, "empty prompt (200)"},
    {"302-redirect", 302, "", ConnectionVerdict::Unexpected, "redirects elsewhere (302)"},
    {"418-other", 418, "", ConnectionVerdict::Unexpected, "answered (418)"},
};

static void testAnswer(gconstpointer data) {
    const auto& c = *static_cast<const AnswerCase*>(data);
    TestServer server;
    server.answerAlways(status(c.status, {}, c.body));
    HttpClient http(noRetries());
    const Outcome out = run(http, connectionTo(server, ConnectionKind::OpenAI),
                            {AuthMethod::BearerKey, kKey}, "gpt-image-x");
    g_assert_cmpint(out.calls, ==, 1);
    g_assert_false(out.calledInside);
    g_assert_cmpint(static_cast<int>(out.result.verdict), ==, static_cast<int>(c.verdict));
    g_assert_cmpint(out.result.httpStatus, ==, c.status);
    assertContains(out.result.message, c.mentions);
    assertNoKey(out.result.message);
    g_assert_cmpuint(server.received().size(), ==, 1);
}

struct WireCase {
    const char* name; // the test's path
    ConnectionKind kind;
    AuthMethod auth;
    const char* model;
    const char* path;
    const char* apiVersion; // in the query, or nullptr for none
    const char* body;
    const char* authHeader; // its lower-case name
    const char* authValue;
    const char* otherAuthHeader; // must be absent
};

static const WireCase kWire[] = {
    {"openai", ConnectionKind::OpenAI, AuthMethod::BearerKey, "gpt-image-1",
     "/v1/images/generations", nullptr, R"({"model":"gpt-image-1","prompt":""})", "authorization",
     "Bearer sk-imagegen-MARKER-5e2c81d4", "api-key"},
    {"compatible", ConnectionKind::Compatible, AuthMethod::BearerKey, "local-model",
     "/v1/images/generations", nullptr, R"({"model":"local-model","prompt":""})", "authorization",
     "Bearer sk-imagegen-MARKER-5e2c81d4", "api-key"},
    // The deployment is in the URL, so the body does not name it.
    {"azure-deployments", ConnectionKind::Azure, AuthMethod::ApiKeyHeader, "my images",
     "/openai/deployments/my images/images/generations", "api-version=2025-04-01-preview",
     R"({"prompt":""})", "api-key", "sk-imagegen-MARKER-5e2c81d4", "authorization"},
    {"azure-v1", ConnectionKind::AzureV1, AuthMethod::ApiKeyHeader, "prod-gpt-image-1",
     "/openai/v1/images/generations", nullptr, R"({"model":"prod-gpt-image-1","prompt":""})",
     "api-key", "sk-imagegen-MARKER-5e2c81d4", "authorization"},
    {"azure-entra-id", ConnectionKind::Azure, AuthMethod::EntraId, "img",
     "/openai/deployments/img/images/generations", "api-version=2025-04-01-preview",
     R"({"prompt":""})", "authorization", "Bearer sk-imagegen-MARKER-5e2c81d4", "api-key"},
};

static void testWire(gconstpointer data) {
    const auto& c = *static_cast<const WireCase*>(data);
    TestServer server;
    server.answerAlways(status(400, {}, kEmptyPrompt));
    HttpClient http(noRetries());
    const Outcome out = run(http, connectionTo(server, c.kind, c.auth), {c.auth, kKey}, c.model);
    g_assert_cmpint(static_cast<int>(out.result.verdict), ==,
                    static_cast<int>(ConnectionVerdict::Works));
    if (!assertSize(server.received(), 1)) {
        return;
    }
    const ReceivedRequest& got = server.received()[0];
    assertEq(got.method, "POST");
    assertEq(got.path, c.path);
    assertEq(got.query, c.apiVersion != nullptr ? c.apiVersion : "");
    assertEq(got.body, c.body);
    assertEq(got.header("content-type"), "application/json");
    assertEq(got.header(c.authHeader), c.authValue);
    assertEq(got.header(c.otherAuthHeader), "<absent>");
}

static void testAzureDeploymentNotFound() {
    TestServer server;
    server.answerAlways(status(
        404, {},
        R"({"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}})"));
    HttpClient http(noRetries());
    const Outcome out =
        run(http, connectionTo(server, ConnectionKind::Azure, AuthMethod::ApiKeyHeader),
            {AuthMethod::ApiKeyHeader, kKey}, "x");
    g_assert_cmpint(static_cast<int>(out.result.verdict), ==,
                    static_cast<int>(ConnectionVerdict::NotFound));
    assertContains(out.result.message, "The deployment “x” was not found (404): check its name.");
}

static void testAzureBadKey() {
    TestServer server;
    server.answerAlways(status(401, {}, R"({"error":{"code":"401","message":"Access denied"}})"));
    HttpClient http(noRetries());
    const Outcome out =
        run(http, connectionTo(server, ConnectionKind::AzureV1, AuthMethod::ApiKeyHeader),
            {AuthMethod::ApiKeyHeader, kKey}, "x");
    g_assert_cmpint(static_cast<int>(out.result.verdict), ==,
                    static_cast<int>(ConnectionVerdict::BadCredential));
    assertContains(out.result.message, "belongs to the resource of this endpoint");
}

// No key: nothing that looks like one is sent, and a 401 says that none is set.
static void testNoKey() {
    TestServer server;
    server.answerAlways(status(401));
    HttpClient http(noRetries());
    const Outcome out = run(http, connectionTo(server, ConnectionKind::OpenAI), {}, "gpt-image-1");
    g_assert_cmpint(static_cast<int>(out.result.verdict), ==,
                    static_cast<int>(ConnectionVerdict::BadCredential));
    assertContains(out.result.message, "none is set");
    if (assertSize(server.received(), 1)) {
        assertEq(server.received()[0].header("authorization"), "<absent>");
        assertEq(server.received()[0].header("api-key"), "<absent>");
    }
}

static void testUnreachable() {
    int port = 0;
    {
        TestServer gone;
        port = gone.port();
    }
    Connection c;
    c.kind = ConnectionKind::OpenAI;
    c.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1";
    HttpClient http(noRetries());
    const Outcome out = run(http, c, {AuthMethod::BearerKey, kKey}, "gpt-image-1");
    g_assert_false(out.calledInside);
    g_assert_cmpint(static_cast<int>(out.result.verdict), ==,
                    static_cast<int>(ConnectionVerdict::Unreachable));
    g_assert_cmpint(out.result.httpStatus, ==, 0);
    assertContains(out.result.message, "connection refused");
    // A complete sentence that names where it tried: the host and the port.
    assertContains(out.result.message, "127.0.0.1");
    assertContains(out.result.message, "port " + std::to_string(port));
    g_assert_true(out.result.message.ends_with("."));
    g_assert_true(g_ascii_isupper(out.result.message[0]));
    assertNoKey(out.result.message);
}

// Whatever the failure, the message is a sentence: a capital first, a full stop last, so that
// the dialog can put "Tested with …" after it.
static void testFailureIsSentence() {
    TestServer server;
    server.answerAlways(status(500, {}, R"({"error":{"message":"the server is busy"}})"));
    HttpClient http(noRetries());
    const Outcome out =
        run(http, connectionTo(server, ConnectionKind::OpenAI), {AuthMethod::BearerKey, kKey}, "m");
    g_assert_true(out.result.message.ends_with("."));
    g_assert_true(g_ascii_isupper(out.result.message[0]));
}

struct UnsendableCase {
    const char* name; // the test's path
    ConnectionKind kind;
    const char* endpoint;
    const char* model;
    ConnectionVerdict verdict;
    const char* mentions;
};

static const UnsendableCase kUnsendable[] = {
    {"azure-without-deployment", ConnectionKind::Azure, "https://r.openai.azure.com", "",
     ConnectionVerdict::NotFound, "No deployment was given"},
    {"no-endpoint", ConnectionKind::Compatible, "", "m", ConnectionVerdict::Unreachable,
     "has no endpoint"},
    {"plain-http-elsewhere", ConnectionKind::Compatible, "http://example.com/v1", "m",
     ConnectionVerdict::Unreachable, "http"},
};

// Refused before anything is sent, and still answered from the main loop.
static void testUnsendable(gconstpointer data) {
    const auto& c = *static_cast<const UnsendableCase*>(data);
    Connection connection;
    connection.name = "broken";
    connection.kind = c.kind;
    connection.endpoint = c.endpoint;
    HttpClient http(noRetries());
    const Outcome out = run(http, connection, {AuthMethod::BearerKey, kKey}, c.model);
    g_assert_cmpint(out.calls, ==, 1);
    g_assert_false(out.calledInside);
    g_assert_cmpint(static_cast<int>(out.result.verdict), ==, static_cast<int>(c.verdict));
    assertContains(out.result.message, c.mentions);
    g_assert_cmpint(http.attemptsStarted(), ==, 0);
}

// Destroying the client drops the callback, whether the request was sent or never could be.
static void testClientGoneDropsCallback() {
    TestServer server;
    server.holdEvery();
    Connection unsendable;
    unsendable.kind = ConnectionKind::Azure;
    unsendable.endpoint = "https://r.openai.azure.com";
    bool called = false;
    {
        auto http = std::make_unique<HttpClient>(noRetries());
        testConnection(*http, connectionTo(server, ConnectionKind::OpenAI),
                       {AuthMethod::BearerKey, kKey}, "gpt-image-1", nullptr,
                       [&](const ConnectionTestResult&) { called = true; });
        server.waitForRequest();
        // Its answer waits for the main loop, which runs only after the client has gone.
        testConnection(*http, unsendable, {AuthMethod::BearerKey, kKey}, "", nullptr,
                       [&](const ConnectionTestResult&) { called = true; });
    }
    drainMainContext();
    g_assert_false(called);
}

static void testCancelled() {
    TestServer server;
    server.holdEvery();
    HttpClient http(noRetries());
    auto cancellable = adoptRef(g_cancellable_new());
    const SourceId cancel = cancelAfter(50, cancellable.get());
    const Outcome out = run(http, connectionTo(server, ConnectionKind::OpenAI),
                            {AuthMethod::BearerKey, kKey}, "gpt-image-1", cancellable.get());
    g_assert_cmpint(static_cast<int>(out.result.verdict), ==,
                    static_cast<int>(ConnectionVerdict::Unexpected));
    assertEq(out.result.message, "The test was cancelled.");
    // Cancelled before a request that could not be built is answered: the cancel is reported.
    auto early = adoptRef(g_cancellable_new());
    g_cancellable_cancel(early.get());
    Connection unsendable;
    unsendable.kind = ConnectionKind::Azure;
    unsendable.endpoint = "https://r.openai.azure.com";
    assertEq(run(http, unsendable, {AuthMethod::BearerKey, kKey}, "", early.get()).result.message,
             "The test was cancelled.");
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    for (const auto& c : kAnswers) {
        g_test_add_data_func((std::string("/connection-test/answer/") + c.name).c_str(), &c,
                             testAnswer);
    }
    for (const auto& c : kWire) {
        g_test_add_data_func((std::string("/connection-test/wire/") + c.name).c_str(), &c,
                             testWire);
    }
    g_test_add_func("/connection-test/azure/deployment-not-found", testAzureDeploymentNotFound);
    g_test_add_func("/connection-test/azure/bad-key", testAzureBadKey);
    g_test_add_func("/connection-test/no-key", testNoKey);
    g_test_add_func("/connection-test/unreachable", testUnreachable);
    g_test_add_func("/connection-test/failure-is-a-sentence", testFailureIsSentence);
    for (const auto& c : kUnsendable) {
        g_test_add_data_func((std::string("/connection-test/unsendable/") + c.name).c_str(), &c,
                             testUnsendable);
    }
    g_test_add_func("/connection-test/client-gone-drops-callback", testClientGoneDropsCallback);
    g_test_add_func("/connection-test/cancelled", testCancelled);
    return g_test_run();
}
