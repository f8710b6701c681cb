// What a service says, as the plug-in keeps and shows it: a key it echoes back (the run's own,
// a bearer token, anything shaped like a key) never reaches a parasite, a message or a log; no
// control character or escape sequence reaches a person; a service's message is cut at a
// readable length with the request ID kept.
#include "core/pixels/codec.h"
#include "core/run/run.h"
#include "core/run/run_operation.h"
#include "core/service/responses.h"
#include "core/service/service_text.h"
#include "fake_host.h"
#include "run_fixtures.h"
#include "test_server.h"
#include "test_util.h"

#include <map>
#include <string>

using namespace imagegen;
using namespace imagegen::test;

namespace {

// Shaped like the keys of the services, and like nothing a message says otherwise.
const std::string kOpenAiKey = "sk-" + std::string(48, 'A') + "1b2C";
const std::string kProjectKey = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
const std::string kAzureKey = "0123456789abcdef0123456789ABCDEF";
const std::string kJwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl-_x";
const std::string kAzureNewKey = "7Fq2" + std::string(36, 'x') + "Zz90" + std::string(40, 'k');

struct RedactCase {
    const char* name;
    std::string text;
    std::string secret;
    std::string expected;
};

const RedactCase kRedactCases[] = {
    {"the-run-secret", "your key short-secret is wrong", "short-secret",
     "your key [redacted] is wrong"},
    {"the-run-secret-twice", "k1k1", "k1", "[redacted][redacted]"},
    {"bearer-token", "header was Bearer abc.def-123/x= ok", "", "header was Bearer [redacted] ok"},
    {"bearer-lowercase", "authorization: bearer 9f8e7d6c5b4a", "",
     "authorization: bearer [redacted]"},
    {"bearer-in-prose-kept", "Missing bearer or basic authentication in header", "",
     "Missing bearer or basic authentication in header"},
    {"openai-key", "Incorrect API key provided: " + kOpenAiKey + ".", "",
     "Incorrect API key provided: [redacted]."},
    {"project-key", "(" + kProjectKey + ")", "", "([redacted])"},
    {"azure-key", "key=" + kAzureKey, "", "key=[redacted]"},
    {"azure-new-key", kAzureNewKey + " was sent", "", "[redacted] was sent"},
    {"jwt", "token " + kJwt + " expired", "", "token [redacted] expired"},
    {"request-ids-kept",
     "req_0123456789abcdef0123456789abcdef 6f1c0e8e-4d7a-4f7e-9c1b-2a6b1d9c0e7f", "",
     "req_0123456789abcdef0123456789abcdef 6f1c0e8e-4d7a-4f7e-9c1b-2a6b1d9c0e7f"},
    {"short-sk-kept", "a desk-lamp and sk-short", "", "a desk-lamp and sk-short"},
    {"prose-kept", "A watercolour of a lighthouse at dusk, 1024x1024.", "",
     "A watercolour of a lighthouse at dusk, 1024x1024."},
};

void testRedact(gconstpointer data) {
    const auto& c = *static_cast<const RedactCase*>(data);
    assertEq(redactSecrets(c.text, c.secret), c.expected);
}

struct ReadableCase {
    const char* name;
    std::string text;
    size_t maxChars;
    std::string expected;
};

const ReadableCase kReadableCases[] = {
    {"escape-sequences", "\x1b]0;owned\x07\x1b[2Jid", std::string::npos, "␛]0;owned␇␛[2Jid"},
    {"line-breaks-and-tabs", "a\nb\r\nc\td", std::string::npos, "a b  c d"},
    {"nul-and-del", std::string("a\0b\x7f", 4), std::string::npos, "a␀b␡"},
    {"c1-controls",
     "a\xc2\x9b"
     "2Jb",
     std::string::npos, "a�2Jb"},
    {"direction-overrides",
     "abc\xe2\x80\xae"
     "txt.exe",
     std::string::npos, "abc�txt.exe"},
    {"invalid-utf-8",
     "a\xff\xfe"
     "b",
     std::string::npos, "a��b"},
    {"cut-with-ellipsis", "abcdef", 3, "abc…"},
    {"cut-between-characters", "ééééé", 2, "éé…"},
    {"not-cut-at-the-bound", "abc", 3, "abc"},
    {"unicode-kept", "un ballon rouge — 気球 🎈", std::string::npos, "un ballon rouge — 気球 🎈"},
};

void testReadable(gconstpointer data) {
    const auto& c = *static_cast<const ReadableCase*>(data);
    assertEq(readableText(c.text, c.maxChars), c.expected);
}

// A key cut in half by the length limit is still recognised: redacted first, then cut.
void testRedactedBeforeCut() {
    const std::string text = std::string(490, 'a') + " " + kOpenAiKey;
    const std::string out = serviceText(text, 500);
    g_assert_true(out.find("sk-") == std::string::npos);
}

bool holdsAnyKey(const std::string& text, const std::string& secret = {}) {
    for (const std::string& key :
         {kOpenAiKey, kProjectKey, kAzureKey, kJwt, kAzureNewKey, std::string("abc123def456")}) {
        if (text.find(key) != std::string::npos) {
            return true;
        }
    }
    return !secret.empty() && text.find(secret) != std::string::npos;
}

// Every text field of an answer, echoing keys and escape sequences.
std::string echoing() {
    return "Bearer abc123def456 " + kOpenAiKey + " " + kProjectKey + " " + kAzureKey + " " + kJwt +
           " " + kAzureNewKey + " \x1b]0;owned\x07";
}

std::string jsonString(const std::string& text) {
    JsonNode* node = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(node, text.c_str());
    const GCharPtr out(json_to_string(node, FALSE));
    json_node_free(node);
    return out.get();
}

void testAnswerRevisedPromptMadeSafe() {
    const std::string body = R"({"created":1,"data":[{"b64_json":"aGVsbG8=","revised_prompt":)" +
                             jsonString(echoing()) + "}]}";
    auto parsed = parseImagesResponse(body);
    if (!assertOk(parsed)) {
        return;
    }
    const std::string& revised = parsed->images[0].revisedPrompt;
    g_assert_false(holdsAnyKey(revised));
    g_assert_true(revised.find('\x1b') == std::string::npos);
    assertContains(revised, "Bearer [redacted]");
    assertContains(revised, "␛]0;owned␇");
}

void testStreamEventMadeSafe() {
    SseEvent event;
    event.event = "image_edit.completed";
    event.data = R"({"type":"image_edit.completed","b64_json":"aGVsbG8=","revised_prompt":)" +
                 jsonString(echoing()) + "}";
    auto parsed = parseStreamEvent(event);
    if (!assertOk(parsed)) {
        return;
    }
    g_assert_false(holdsAnyKey(parsed->image.revisedPrompt));
    event.event = "error";
    event.data = R"({"type":"error","error":{"message":)" + jsonString(echoing()) + "}}";
    const Error e = assertFails(parseStreamEvent(event), ErrorKind::BadRequest);
    g_assert_false(holdsAnyKey(e.message));
    g_assert_true(e.message.find('\x1b') == std::string::npos);
}

// x-request-id with terminal escape codes (set the window title, clear the screen) and a
// message of a megabyte: the message is cut at 500 characters with "…", the request ID kept
// after it, visible and harmless.
void testErrorMessageReadableWithItsRequestId() {
    const std::string id = "\x1b]0;pwned\x07\x1b[2Jreq-7";
    const std::string body = R"({"error":{"message":)" +
                             jsonString(echoing() + std::string(1 << 20, 'm')) +
                             R"(,"type":"invalid_request_error","param":"prompt\u001b[31m"}})";
    const Error e = classifyHttpError(400, body, id);
    g_assert_true(e.message.find('\x1b') == std::string::npos);
    g_assert_true(e.message.find('\x07') == std::string::npos);
    g_assert_false(holdsAnyKey(e.message));
    g_assert_cmpuint(g_utf8_strlen(e.message.c_str(), -1), <, 700);
    assertContains(e.message, "m… ");
    assertContains(e.message, "[request ␛]0;pwned␇␛[2Jreq-7]");
    assertEq(e.requestId, "␛]0;pwned␇␛[2Jreq-7");
}

// ---- through a run: the run's own key, which need not look like a key ----

constexpr const char* kRunKey = "run-secret-7";

std::string pngB64() {
    RgbaImage image(1024, 1024);
    auto png = encodePng(image);
    const GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(png->data()), png->size()));
    return b64.get();
}

// A run against `server` with the run's own key, kRunKey.
std::map<std::string, std::string> withRunKey(const TestServer& server) {
    return {{"OPENAI_BASE_URL", server.url("/v1")}, {"OPENAI_API_KEY", kRunKey}};
}

RunParameters editOf(const char* prompt) {
    RunParameters p;
    p.prompt = prompt;
    p.model = "gpt-image-1";
    p.size = "1024x1024";
    return p;
}

// The service echoes the key it was sent into the revised prompt: the result's parasite (saved
// with the image in an XCF) holds neither it nor anything shaped like a key.
void testRunKeepsNoEchoedKey() {
    TestServer server;
    const std::string b64 = pngB64();
    server.answerAlways([&](SoupServerMessage* msg, const ReceivedRequest& req) {
        const std::string said = req.header("authorization") + " " + echoing();
        TestServer::respond(msg, 200, "application/json",
                            R"({"created":1,"data":[{"b64_json":")" + b64 +
                                R"(","revised_prompt":)" + jsonString(said) + "}]}");
    });
    Setup s(server, withRunKey(server));
    RunSetup& setup = s.setup;
    FakeHost host(300, 200);
    auto inserted = runProcedure(Procedure::Edit, editOf("a red balloon"), setup, host, nullptr);
    if (!assertOk(inserted) || !assertSize(host.undoSteps(), 1)) {
        return;
    }
    const NewLayer& layer = host.undoSteps()[0][0];
    assertContains(layer.parasite, "revised_prompt");
    assertContains(layer.parasite, "Bearer [redacted]");
    g_assert_false(holdsAnyKey(layer.parasite, kRunKey));
    g_assert_false(holdsAnyKey(layer.name, kRunKey));
}

// An error that echoes the run's key, with escape codes in its request ID, through a whole run
// (the message Script-Fu and the dialog show).
void testRunErrorKeepsNoEchoedKey() {
    TestServer server;
    server.answerAlways([&](SoupServerMessage* msg, const ReceivedRequest& req) {
        TestServer::respond(msg, 400, "application/json",
                            R"({"error":{"message":)" +
                                jsonString("You sent " + req.header("authorization")) +
                                R"(,"type":"invalid_request_error"}})",
                            {{"x-request-id", "\x1b]0;pwned\x07req-9"}});
    });
    Setup s(server, withRunKey(server));
    RunSetup& setup = s.setup;
    FakeHost host(300, 200);
    const Error e =
        assertFails(runProcedure(Procedure::Edit, editOf("a red balloon"), setup, host, nullptr),
                    ErrorKind::BadRequest);
    g_assert_true(e.message.find(kRunKey) == std::string::npos);
    g_assert_true(e.message.find('\x1b') == std::string::npos);
    assertContains(e.message, "You sent Bearer [redacted]");
    assertContains(e.message, "req-9]");
}

// A 10 MB `user` option, and a prompt and options that the last values could not keep, are
// refused before anything is sent, naming what is too long.
void testOversizeParametersRefusedBeforeSending() {
    TestServer server;
    Setup s(server, withRunKey(server));
    RunSetup& setup = s.setup;
    FakeHost host(300, 200);
    RunParameters user = editOf("a red balloon");
    user.options.user = std::string(10 << 20, 'u');
    Error e = assertFails(runProcedure(Procedure::Edit, user, setup, host, nullptr),
                          ErrorKind::InvalidRequest);
    assertContains(e.message, "options is 10.0 MB long; it takes at most 1.0 MB");
    RunParameters together = editOf("a red balloon");
    together.prompt = std::string(100000, 'p');
    together.options.user = std::string(1000000, 'u');
    e = assertFails(runProcedure(Procedure::Edit, together, setup, host, nullptr),
                    ErrorKind::InvalidRequest);
    assertContains(e.message, "the last values of a run can keep");
    g_assert_cmpuint(server.received().size(), ==, 0);
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
}

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    for (const auto& c : kRedactCases) {
        g_test_add_data_func((std::string("/service-text/redact/") + c.name).c_str(), &c,
                             testRedact);
    }
    for (const auto& c : kReadableCases) {
        g_test_add_data_func((std::string("/service-text/readable/") + c.name).c_str(), &c,
                             testReadable);
    }
    g_test_add_func("/service-text/redacted-before-cut", testRedactedBeforeCut);
    g_test_add_func("/service-text/answer/revised-prompt", testAnswerRevisedPromptMadeSafe);
    g_test_add_func("/service-text/answer/stream-event", testStreamEventMadeSafe);
    g_test_add_func("/service-text/answer/error-message-and-request-id",
                    testErrorMessageReadableWithItsRequestId);
    g_test_add_func("/service-text/run/echoed-key-not-in-parasite", testRunKeepsNoEchoedKey);
    g_test_add_func("/service-text/run/echoed-key-not-in-error", testRunErrorKeepsNoEchoedKey);
    g_test_add_func("/service-text/run/oversize-parameters-refused-before-sending",
                    testOversizeParametersRefusedBeforeSending);
    return g_test_run();
}
