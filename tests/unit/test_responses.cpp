// Reading answers: images responses of each flavour, every error shape of PROTOCOL.md §8, the
// SSE stream, and strict base64.
#include "core/service/responses.h"
#include "core/util/json_util.h"
#include "test_util.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

static void testBase64() {
    assertEq(decodeBase64("aGVsbG8="), "hello");
    assertEq(decodeBase64("aGVsbG8h"), "hello!");
    assertEq(decodeBase64("aGk="), "hi");
    assertEq(decodeBase64("aA=="), "h");
    assertEq(decodeBase64(""), "");
    g_assert_false(decodeBase64("aGVsbG8").has_value());    // not a multiple of 4
    g_assert_false(decodeBase64("aGV$bG8h").has_value());   // outside the alphabet
    g_assert_false(decodeBase64("aGVs\nbG8h").has_value()); // no line breaks in JSON strings
}

static void testOpenAIResponse() {
    auto r = parseImagesResponse(
        R"({"created":1713833628,"background":"opaque","output_format":"png","size":"1024x1024","quality":"high",
            "data":[{"b64_json":"aGVsbG8="},{"b64_json":"aGk="}],
            "usage":{"total_tokens":100,"input_tokens":50,"output_tokens":50,"input_tokens_details":{"text_tokens":10,"image_tokens":40}}})");
    if (!assertOk(r)) {
        return;
    }
    g_assert_cmpint(r->created, ==, 1713833628);
    if (assertSize(r->images, 2)) {
        assertEq(r->images[0].bytes, "hello");
        assertEq(r->images[1].bytes, "hi");
    }
    g_assert_true(r->usage.present);
    g_assert_cmpint(r->usage.totalTokens, ==, 100);
    g_assert_cmpint(r->usage.textTokens, ==, 10);
    g_assert_cmpint(r->usage.imageTokens, ==, 40);
    assertEq(r->quality, "high");
    assertEq(r->outputFormat, "png");
}

static void testAzureResponseWithFiltersAndRevisedPrompt() {
    // AZ-EX image_generation.yaml's shape.
    auto r = parseImagesResponse(
        R"({"created":1698116662,"data":[{"url":"https://dalleproduse.blob.core.windows.net/private/images/x.png?se=1",
            "revised_prompt":"A vivid, natural sunset over a tranquil sea.",
            "prompt_filter_results":{"sexual":{"severity":"safe","filtered":false},"violence":{"severity":"safe","filtered":false},
              "hate":{"severity":"safe","filtered":false},"self_harm":{"severity":"safe","filtered":false},
              "profanity":{"detected":false,"filtered":false},"custom_blocklists":{"filtered":false,"details":[]}},
            "content_filter_results":{"sexual":{"severity":"safe","filtered":false},"violence":{"severity":"safe","filtered":false},
              "hate":{"severity":"safe","filtered":false},"self_harm":{"severity":"safe","filtered":false}}}]})");
    if (!assertOk(r) || !assertSize(r->images, 1)) {
        return;
    }
    const GeneratedImage& image = r->images[0];
    g_assert_true(image.bytes.empty());
    assertContains(image.url, "https://dalleproduse.blob.core.windows.net/");
    assertEq(image.revisedPrompt, "A vivid, natural sunset over a tranquil sea.");
    assertContains(image.promptFilterResults,
                   "\"profanity\":{\"detected\":false,\"filtered\":false}");
    assertContains(image.contentFilterResults,
                   "\"self_harm\":{\"severity\":\"safe\",\"filtered\":false}");
    g_assert_false(r->usage.present);
}

static void testMalformedResponses() {
    assertFails(parseImagesResponse("<html>bad gateway</html>"), ErrorKind::MalformedResponse);
    assertFails(parseImagesResponse("[]"), ErrorKind::MalformedResponse);
    assertFails(parseImagesResponse(R"({"created":1})"), ErrorKind::MalformedResponse);
    assertFails(parseImagesResponse(R"({"created":1,"data":[]})"), ErrorKind::MalformedResponse);
    assertFails(parseImagesResponse(R"({"created":1,"data":[{}]})"), ErrorKind::MalformedResponse);
    assertFails(parseImagesResponse(R"({"created":1,"data":["x"]})"), ErrorKind::MalformedResponse);
    const Error e =
        assertFails(parseImagesResponse(
                        R"({"created":1,"data":[{"b64_json":"aGVsbG8="},{"b64_json":"@@@@"}]})"),
                    ErrorKind::MalformedResponse);
    assertEq(e.message, "the service sent image 2 with broken base64 data");
    assertFails(parseImagesResponse(R"({"created":1,"data":[{"b64_json":"aGVsb)"),
                ErrorKind::MalformedResponse);
}

struct ErrorShape {
    const char* name; // in the test's path
    int status;
    const char* body;
    ErrorKind kind;
    FilterStage stage;
    const char* code;
    const char* param;
    const char* messagePart;
};

static const ErrorShape kErrorShapes[] = {
    // OpenAI ErrorResponse
    {"401-invalid-api-key", 401,
     R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
     ErrorKind::Authentication, FilterStage::Unknown, "invalid_api_key", "",
     "Incorrect API key provided."},
    {"403-forbidden", 403, R"({"error":{"code":"Forbidden","message":"Access denied."}})",
     ErrorKind::Authentication, FilterStage::Unknown, "Forbidden", "", "HTTP 403"},
    // Azure unknown deployment
    {"404-deployment-not-found", 404,
     R"({"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}})",
     ErrorKind::NotFound, FilterStage::Unknown, "DeploymentNotFound", "", "deployment"},
    {"400-invalid-value", 400,
     R"({"error":{"message":"Invalid value: '999x999'. Supported values are: '1024x1024'.","type":"invalid_request_error","param":"size","code":"invalid_value"}})",
     ErrorKind::BadRequest, FilterStage::Unknown, "invalid_value", "size", "Supported values"},
    {"400-unsupported-mimetype", 400,
     R"({"error":{"message":"Invalid file 'image': unsupported mimetype ('application/octet-stream').","type":"invalid_request_error","param":"image","code":"unsupported_file_mimetype"}})",
     ErrorKind::BadRequest, FilterStage::Unknown, "unsupported_file_mimetype", "image",
     "unsupported mimetype"},
    // Azure content filter on the prompt (AZ-DOC)
    {"400-azure-filter-on-prompt", 400,
     R"({"created":1698435368,"error":{"code":"contentFilter","message":"Your task failed as a result of our safety system."}})",
     ErrorKind::ContentFilter, FilterStage::Prompt, "contentFilter", "", "refused the prompt"},
    // Azure content filter on the output (AZ-DOC)
    {"400-azure-filter-on-output", 400,
     R"({"created":1698435368,"error":{"code":"contentFilter","message":"Generated image was filtered as a result of our safety system."}})",
     ErrorKind::ContentFilter, FilterStage::Output, "contentFilter", "",
     "refused the generated image"},
    // Azure dated schema: inner_error with ResponsibleAIPolicyViolation
    {"400-azure-inner-error", 400,
     R"({"error":{"code":"content_policy_violation","message":"Your request was rejected as a result of our safety system.","param":null,"type":null,
             "inner_error":{"code":"ResponsibleAIPolicyViolation","content_filter_results":{"violence":{"filtered":true,"severity":"high"}},"revised_prompt":"x"}}})",
     ErrorKind::ContentFilter, FilterStage::Prompt, "content_policy_violation", "",
     "refused the prompt"},
    // Azure chat-era spelling: innererror / content_filter_result
    {"400-azure-innererror", 400,
     R"({"error":{"code":"BadRequest","message":"The response was filtered.","innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"medium"}}}}})",
     ErrorKind::ContentFilter, FilterStage::Prompt, "BadRequest", "", "safety system"},
    {"400-content-filter", 400,
     R"({"error":{"code":"content_filter","message":"The prompt was filtered."}})",
     ErrorKind::ContentFilter, FilterStage::Prompt, "content_filter", "", "refused the prompt"},
    // OpenAI gpt-image moderation on the output
    {"400-moderation-on-output", 400,
     R"({"error":{"message":"Your request was rejected by the safety system. safety_violations=[sexual].","type":"image_generation_user_error","param":null,"code":"moderation_blocked",
             "moderation_details":{"moderation_stage":"output","categories":["sexual"]}}})",
     ErrorKind::ContentFilter, FilterStage::Output, "moderation_blocked", "",
     "refused the generated image"},
    {"400-moderation-on-input", 400,
     R"({"error":{"message":"Your request was rejected by the safety system.","type":"image_generation_user_error","param":"","code":"moderation_blocked",
             "moderation_details":{"moderation_stage":"input","categories":["violence"]}}})",
     ErrorKind::ContentFilter, FilterStage::Prompt, "moderation_blocked", "", "refused the prompt"},
    {"429-rate-limit", 429,
     R"({"error":{"code":"429","message":"Requests to the Images API have exceeded the rate limit."}})",
     ErrorKind::RateLimited, FilterStage::Unknown, "429", "", "rate limit"},
    {"500-server-error", 500,
     R"({"error":{"message":"The server had an error.","type":"server_error","param":null,"code":null}})",
     ErrorKind::Server, FilterStage::Unknown, "", "", "internal error"},
    {"502-html", 502, "<html><body>Bad gateway</body></html>", ErrorKind::Server,
     FilterStage::Unknown, "", "", "HTTP 502"},
    {"400-not-json", 400, "not json", ErrorKind::BadRequest, FilterStage::Unknown, "", "",
     "HTTP 400"},
};

static void testErrorShape(gconstpointer data) {
    const auto& c = *static_cast<const ErrorShape*>(data);
    Error e = classifyHttpError(c.status, c.body, "req-1");
    g_assert_cmpstr(errorKindName(e.kind), ==, errorKindName(c.kind));
    g_assert_true(e.filterStage == c.stage);
    assertEq(e.code, c.code);
    assertEq(e.param, c.param);
    g_assert_cmpint(e.httpStatus, ==, c.status);
    assertContains(e.message, c.messagePart);
    assertContains(e.message, "[request req-1]");
    g_assert_true(e.message.find("<html>") == std::string::npos);
}

static void testSseParserAcrossChunks() {
    SseParser p;
    std::string stream = ": keep-alive\n\n"
                         "event: image_generation.partial_image\n"
                         "data: "
                         "{\"type\":\"image_generation.partial_image\",\"b64_json\":\"aGk=\","
                         "\"partial_image_index\":0}\n\n"
                         "event: image_generation.completed\r\n"
                         "data: {\"type\":\"image_generation.completed\",\r\n"
                         "data: \"b64_json\":\"aGVsbG8=\",\"usage\":{\"total_tokens\":7}}\r\n\r\n"
                         "data: [DONE]\n\n";
    std::vector<SseEvent> events;
    for (size_t i = 0; i < stream.size(); i += 7) { // arbitrary chunk boundaries
        for (auto& e : p.feed(std::string_view(stream).substr(i, 7))) {
            events.push_back(std::move(e));
        }
    }
    for (auto& e : p.finish()) {
        events.push_back(std::move(e));
    }
    if (!assertSize(events, 3)) {
        return;
    }
    assertEq(events[0].event, "image_generation.partial_image");
    assertEq(events[1].event, "image_generation.completed");
    assertEq(events[1].data, "{\"type\":\"image_generation.completed\",\n\"b64_json\":\"aGVsbG8=\","
                             "\"usage\":{\"total_tokens\":7}}");
    assertEq(events[2].data, "[DONE]");

    auto partial = parseStreamEvent(events[0]);
    if (assertOk(partial)) {
        g_assert_true(partial->type == StreamEventType::PartialImage);
        g_assert_cmpint(partial->partialIndex, ==, 0);
        assertEq(partial->image.bytes, "hi");
    }
    auto completed = parseStreamEvent(events[1]);
    if (assertOk(completed)) {
        g_assert_true(completed->type == StreamEventType::Completed);
        assertEq(completed->image.bytes, "hello");
        g_assert_cmpint(completed->usage.totalTokens, ==, 7);
    }
    auto done = parseStreamEvent(events[2]);
    if (assertOk(done)) {
        g_assert_true(done->type == StreamEventType::Done);
    }
}

static void testSseLastEventWithoutBlankLine() {
    SseParser p;
    g_assert_cmpuint(p.feed("event: image_edit.completed\ndata: "
                            "{\"type\":\"image_edit.completed\",\"b64_json\":\"aGk=\"}")
                         .size(),
                     ==, 0);
    auto events = p.finish();
    if (!assertSize(events, 1)) {
        return;
    }
    auto e = parseStreamEvent(events[0]);
    if (assertOk(e)) {
        g_assert_true(e->type == StreamEventType::Completed);
    }
}

static void testStreamErrors() {
    SseEvent error{
        "error",
        R"({"error":{"message":"Your request was rejected by the safety system.","type":"image_generation_user_error","code":"moderation_blocked","param":null}})"};
    const Error e = assertFails(parseStreamEvent(error), ErrorKind::ContentFilter);
    assertContains(e.message, "safety system");
    SseEvent server{
        "",
        R"({"error":{"message":"boom","type":"server_error","code":"server_error","param":null}})"};
    assertFails(parseStreamEvent(server), ErrorKind::BadRequest);
    assertFails(parseStreamEvent({"image_edit.completed", "{not json"}),
                ErrorKind::MalformedResponse);
    assertFails(parseStreamEvent({"image_edit.completed",
                                  R"({"type":"image_edit.completed","b64_json":"!!!!"})"}),
                ErrorKind::MalformedResponse);
    auto other = parseStreamEvent({"", R"({"type":"something.else"})"});
    if (assertOk(other)) {
        g_assert_true(other->type == StreamEventType::Ignored);
    }
}

static std::string nested(int levels, const char* open, const char* inner, const char* close) {
    std::string text;
    for (int i = 0; i < levels; ++i) {
        text += open;
    }
    text += inner;
    for (int i = 0; i < levels; ++i) {
        text += close;
    }
    return text;
}

// json-glib parses recursively: a hostile answer nested 76,000 levels deep overflowed the stack.
static void testDeepJsonIsRefusedBeforeParsing() {
    g_assert_cmpint(json::nestingDepth(R"({"a":"[[[[{{{{","b":[1,[2]]})"), ==, 3);
    g_assert_cmpint(json::nestingDepth(R"({"a":"\"[[[["})"), ==, 1);
    g_assert_cmpint(json::nestingDepth("]]]]]]" + nested(70, "[", "", "]")), ==, 65);
    const std::string deep = nested(76000, "[", "", "]");
    const Error e = assertFails(parseImagesResponse(deep), ErrorKind::MalformedResponse);
    assertContains(e.message, "64 levels");
    g_assert_true(parseImagesResponse(R"({"created":1,"data":[{"b64_json":"aGk=","x":)" +
                                      nested(60, "[", "", "]") + "}]}")
                      .ok());
    // An error body: classified by its status alone, as a body that cannot be read.
    const Error filtered = classifyHttpError(400, deep, "");
    g_assert_true(filtered.kind == ErrorKind::BadRequest);
    const std::string deepFilter =
        R"({"error":{"message":"x","code":"content_filter","innererror":{"content_filter_result":)" +
        nested(60000, R"({"a":)", "1", "}") + "}}}";
    g_assert_true(classifyHttpError(400, deepFilter, "").kind == ErrorKind::BadRequest);
    // json-glib reads comments and single-quoted strings, which could hide brackets from the scan.
    assertFails(parseImagesResponse(R"({"a":'"',"b":)" + nested(200, "[", "", "]") + "}"),
                ErrorKind::MalformedResponse);
    assertFails(parseImagesResponse(R"({"a":1 /* " */,"b":)" + nested(200, "[", "", "]") + "}"),
                ErrorKind::MalformedResponse);
    g_assert_true(parseImagesResponse(
                      R"({"created":1,"data":[{"b64_json":"aGk=","revised_prompt":"it's a/b"}]})")
                      .ok());
    SseEvent event;
    event.data = deep;
    assertFails(parseStreamEvent(event), ErrorKind::MalformedResponse);
}

// A rate limit says how long the service asks to wait, when it says; otherwise "a moment".
static void testRateLimitSaysTheWait() {
    const std::string body = R"({"error":{"message":"Too many requests","code":"429"}})";
    const Error told = classifyHttpError(429, body, "", 19.2);
    g_assert_true(told.kind == ErrorKind::RateLimited);
    assertContains(told.message,
                   "Too many requests. The service asks to wait about 20 seconds before trying "
                   "again.");
    const Error untold = classifyHttpError(429, body, "");
    assertContains(untold.message, "Wait a moment and try again");
    // The service's own full stop is not doubled by ours.
    const Error stopped =
        classifyHttpError(429, R"({"error":{"message":"Slow down.","code":"429"}})", "");
    assertContains(stopped.message, "Slow down. Wait a moment");
    g_assert_true(stopped.message.find("..") == std::string::npos);
    // Only a rate limit speaks of waiting.
    const Error server = classifyHttpError(500, body, "", 5.0);
    g_assert_true(server.message.find("wait") == std::string::npos);
}

// The start of a PNG (signature and header) claiming width x height, then `filler` zero bytes.
static std::string pngStart(uint32_t width, uint32_t height, size_t filler) {
    std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    for (const uint32_t v : {width, height}) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            png += static_cast<char>((v >> shift) & 0xff);
        }
    }
    return png + std::string("\x08\x06\0\0\0\0\0\0\0", 9) + std::string(filler, '\0');
}

static std::string b64(const std::string& bytes) {
    const GCharPtr text(
        g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size()));
    return text.get();
}

// The count, the declared size and each image's header are checked before any image is
// decoded: the last image's header refuses the answer as well as the first's.
static void testBoundsAreCheckedBeforeDecoding() {
    AnswerBounds bounds;
    bounds.maxImages = 2;
    bounds.maxPixels = 1024 * 1024;
    const std::string small = b64(pngStart(512, 512, 100));
    auto answer = [](const std::vector<std::string>& images, const std::string& extra = {}) {
        std::string json = R"({"created":1,)" + extra + R"("data":[)";
        for (size_t i = 0; i < images.size(); ++i) {
            json += (i > 0 ? "," : "") + std::string(R"({"b64_json":")") + images[i] + R"("})";
        }
        return json + "]}";
    };
    auto ok = parseImagesResponse(answer({small, small}), bounds);
    if (assertOk(ok) && assertSize(ok->images, 2)) {
        g_assert_cmpuint(ok->images[1].bytes.size(), ==, pngStart(512, 512, 100).size());
    }
    assertContains(assertFails(parseImagesResponse(answer({small, small, small}), bounds),
                               ErrorKind::MalformedResponse)
                       .message,
                   "the service sent 3 images where 2 were asked for");
    assertContains(
        assertFails(parseImagesResponse(answer({small}, R"("size":"4096x4096",)"), bounds),
                    ErrorKind::MalformedResponse)
            .message,
        "4096x4096");
    // The second image claims 20000x20000 behind 1 MB of bytes, past the first 64 KB checked.
    const std::string large = b64(pngStart(20000, 20000, 1U << 20));
    assertContains(assertFails(parseImagesResponse(answer({small, large}), bounds),
                               ErrorKind::MalformedResponse)
                       .message,
                   "the image claims to be 20000x20000, larger than can be opened safely");
    assertContains(assertFails(parseImagesResponse(answer({b64(std::string(64, 'x'))}), bounds),
                               ErrorKind::MalformedResponse)
                       .message,
                   "not a PNG, JPEG or WebP image");
    // Broken base64 far into an image is still found, when the whole of it is decoded.
    std::string broken = b64(pngStart(512, 512, 200'000));
    broken[broken.size() - 100] = '@';
    assertContains(
        assertFails(parseImagesResponse(answer({broken}), bounds), ErrorKind::MalformedResponse)
            .message,
        "broken base64");
    // Without bounds, the size is left to the pipeline.
    g_assert_true(parseImagesResponse(answer({small, small, large})).ok());
    // A stream's events are checked as well.
    SseEvent event;
    event.data = R"({"type":"image_generation.completed","b64_json":")" + large + R"("})";
    assertContains(
        assertFails(parseStreamEvent(event, bounds), ErrorKind::MalformedResponse).message,
        "20000x20000");
}

// Whatever number the service gives, the wait is said in words within a sane range: no
// out-of-range conversion, no 19-digit count of seconds.
static void testRateLimitWaitAtTheEdges() {
    const std::string body = R"({"error":{"message":"Too many requests","code":"429"}})";
    auto says = [&](double seconds) {
        return classifyHttpError(429, body, "", seconds).message;
    };
    const struct {
        double seconds;
        const char* said;
    } cases[] = {
        {0.0, "Wait a moment and try again."},
        {-0.0, "Wait a moment and try again."},
        {std::nan(""), "Wait a moment and try again."},
        {-5.0, "Wait a moment and try again."},
        {0.2, "wait about 1 second before"},
        {59.0, "wait about 59 seconds before"},
        {100.0, "wait about 2 minutes before"},
        {3000.0, "wait about 50 minutes before"},
        {3.0 * 3600 + 100, "wait about 3 hours before"},
        {2.0 * 86400, "wait about 2 days before"},
        {1e18, "wait a week or more before"},
        {1e308, "wait a week or more before"},
        {std::numeric_limits<double>::max(), "wait a week or more before"},
        {std::numeric_limits<double>::infinity(), "wait a week or more before"},
    };
    for (const auto& c : cases) {
        const std::string message = says(c.seconds);
        assertContains(message, c.said);
        g_assert_true(message.find('-') == std::string::npos);
        g_assert_true(message.find("000") == std::string::npos);
    }
}

// Lines end with CRLF, LF or a lone CR (the event-stream format), however the chunks fall.
static void testSseLineEnds() {
    const std::string stream = "event: a\rdata: 1\r\rdata: 2\r\n\r\ndata: 3\n\n";
    for (size_t split = 0; split <= stream.size(); ++split) {
        SseParser p;
        auto events = p.feed(stream.substr(0, split));
        for (auto& e : p.feed(stream.substr(split))) {
            events.push_back(std::move(e));
        }
        for (auto& e : p.finish()) {
            events.push_back(std::move(e));
        }
        if (!assertSize(events, 3)) {
            g_test_message("split at %zu", split);
            return;
        }
        assertEq(events[0].event, "a");
        assertEq(events[0].data, "1");
        assertEq(events[1].data, "2");
        assertEq(events[2].data, "3");
    }
}

static void testInvalidUtf8BecomesValidText() {
    auto r = parseImagesResponse(
        R"({"created":1,"data":[{"b64_json":"aGk=","revised_prompt":"a \ud83d b"}]})");
    if (assertOk(r) && assertSize(r->images, 1)) {
        g_assert_true(g_utf8_validate(r->images[0].revisedPrompt.c_str(), -1, nullptr));
    }
}

static void testSseLineAndEventAreBounded() {
    SseParser lines(1000);
    for (int i = 0; i < 100; ++i) {
        g_assert_true(lines.feed("data: " + std::string(100, 'x')).empty());
        if (lines.error()) {
            break;
        }
    }
    g_assert_true(lines.error().has_value());
    g_assert_true(lines.feed("\n\ndata: {}\n\n").empty()); // nothing after the bound
    g_assert_true(lines.finish().empty());

    SseParser events(1000);
    for (int i = 0; i < 20; ++i) {
        events.feed("data: " + std::string(100, 'x') + "\n");
    }
    g_assert_true(events.error().has_value());

    // The bound crossed on a line in the middle of one chunk: the parser stops there.
    std::string chunk;
    for (int i = 0; i < 20; ++i) {
        chunk += "data: " + std::string(100, 'x') + "\n";
    }
    SseParser inOneChunk(1000);
    g_assert_true(inOneChunk.feed(chunk + "\ndata: {}\n\n").empty());
    g_assert_true(inOneChunk.error().has_value());

    SseParser fits(1000);
    auto out = fits.feed("data: " + std::string(900, 'x') + "\n\n");
    g_assert_false(fits.error().has_value());
    g_assert_cmpuint(out.size(), ==, 1);
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/responses/base64", testBase64);
    g_test_add_func("/responses/openai", testOpenAIResponse);
    g_test_add_func("/responses/azure-filters-and-revised-prompt",
                    testAzureResponseWithFiltersAndRevisedPrompt);
    g_test_add_func("/responses/malformed", testMalformedResponses);
    for (const auto& shape : kErrorShapes) {
        g_test_add_data_func((std::string("/responses/error-shapes/") + shape.name).c_str(), &shape,
                             testErrorShape);
    }
    g_test_add_func("/responses/sse/across-chunks", testSseParserAcrossChunks);
    g_test_add_func("/responses/sse/last-event-without-blank-line",
                    testSseLastEventWithoutBlankLine);
    g_test_add_func("/responses/sse/errors", testStreamErrors);
    g_test_add_func("/responses/sse/bounded", testSseLineAndEventAreBounded);
    g_test_add_func("/responses/sse/line-ends", testSseLineEnds);
    g_test_add_func("/responses/rate-limit-says-the-wait", testRateLimitSaysTheWait);
    g_test_add_func("/responses/bounds-before-decoding", testBoundsAreCheckedBeforeDecoding);
    g_test_add_func("/responses/rate-limit-wait-at-the-edges", testRateLimitWaitAtTheEdges);
    g_test_add_func("/responses/invalid-utf-8-becomes-valid", testInvalidUtf8BecomesValidText);
    g_test_add_func("/responses/json-depth", testDeepJsonIsRefusedBeforeParsing);
    return g_test_run();
}
