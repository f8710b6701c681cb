// The bytes on the wire for every model and every kind of endpoint: the URL, the headers, the
// JSON byte for byte, the multipart part by part (read back with libsoup's own parser).
#include "core/service/request_encoding.h"
#include "core/util/glib_ptr.h"
#include "test_util.h"

#include <libsoup/soup.h>

#include <memory>
#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

struct Endpoint {
    const char* name; // in the tests' paths
    ConnectionKind kind;
    const char* endpoint;
    const char* apiVersion;
    Credential credential;
    const char* generationsUrl; // for deployment/model "dep"
    const char* editsUrl;
    const char* authName;
    const char* authValue;
};

static const Endpoint kEndpoints[] = {
    {"azure",
     ConnectionKind::Azure,
     "https://res.openai.azure.com",
     "2025-04-01-preview",
     {AuthMethod::ApiKeyHeader, "azkey"},
     "https://res.openai.azure.com/openai/deployments/dep/images/"
     "generations?api-version=2025-04-01-preview",
     "https://res.openai.azure.com/openai/deployments/dep/images/"
     "edits?api-version=2025-04-01-preview",
     "api-key",
     "azkey"},
    {"azure-v1",
     ConnectionKind::AzureV1,
     "https://res.openai.azure.com",
     "",
     {AuthMethod::EntraId, "aadtoken"},
     "https://res.openai.azure.com/openai/v1/images/generations",
     "https://res.openai.azure.com/openai/v1/images/edits",
     "Authorization",
     "Bearer aadtoken"},
    {"openai",
     ConnectionKind::OpenAI,
     "",
     "",
     {AuthMethod::BearerKey, "sk-test"},
     "https://api.openai.com/v1/images/generations",
     "https://api.openai.com/v1/images/edits",
     "Authorization",
     "Bearer sk-test"},
    {"compatible",
     ConnectionKind::Compatible,
     "http://127.0.0.1:8000/v1",
     "",
     {AuthMethod::BearerKey, "local"},
     "http://127.0.0.1:8000/v1/images/generations",
     "http://127.0.0.1:8000/v1/images/edits",
     "Authorization",
     "Bearer local"},
};

struct ModelCase {
    const char* model;
    void (*fill)(ImageRequest&);
    const char* json; // the body after `"model":"dep",` (or `{` on Azure's deployments path)
};

static const ModelCase kGenerations[] = {
    {"gpt-image-1",
     [](ImageRequest& r) {
         r.n = 2;
         r.size = "1536x1024";
         r.quality = "high";
         r.background = "transparent";
         r.outputFormat = "png";
         r.moderation = "low";
     },
     R"("prompt":"a \"red\" fox","n":2,"size":"1536x1024","quality":"high","background":"transparent","output_format":"png","moderation":"low"})"},
    {"gpt-image-1-mini",
     [](ImageRequest& r) {
         r.outputFormat = "jpeg";
         r.outputCompression = 80;
         r.stream = true;
         r.partialImages = 2;
     },
     R"("prompt":"a \"red\" fox","output_format":"jpeg","output_compression":80,"stream":true,"partial_images":2})"},
    {"gpt-image-1.5", [](ImageRequest& r) { r.quality = "low"; },
     R"("prompt":"a \"red\" fox","quality":"low"})"},
    {"gpt-image-2", [](ImageRequest& r) { r.size = "1536x864"; },
     R"("prompt":"a \"red\" fox","size":"1536x864"})"},
    {"dall-e-3",
     [](ImageRequest& r) {
         r.size = "1792x1024";
         r.quality = "hd";
         r.style = "natural";
         r.responseFormat = "url";
     },
     R"("prompt":"a \"red\" fox","size":"1792x1024","quality":"hd","style":"natural","response_format":"url"})"},
    {"dall-e-2",
     [](ImageRequest& r) {
         r.n = 3;
         r.size = "512x512";
         r.responseFormat = "b64_json";
         r.user = "u1";
     },
     R"("prompt":"a \"red\" fox","n":3,"size":"512x512","response_format":"b64_json","user":"u1"})"},
};

static Connection connectionFor(const Endpoint& e) {
    Connection c;
    c.name = "t";
    c.kind = e.kind;
    c.endpoint = e.endpoint;
    c.apiVersion = e.apiVersion;
    c.auth = e.credential.method;
    return c;
}

static std::string headerValue(const HttpRequest& r, const char* name) {
    for (const auto& [k, v] : r.headers) {
        if (g_ascii_strcasecmp(k.c_str(), name) == 0) {
            return v;
        }
    }
    return "<absent>";
}

struct GenerationCase {
    const Endpoint* endpoint;
    const ModelCase* model;
};

static void testGenerations(gconstpointer data) {
    const Endpoint& endpoint = *static_cast<const GenerationCase*>(data)->endpoint;
    const ModelCase& m = *static_cast<const GenerationCase*>(data)->model;
    ImageRequest r;
    r.model = "dep";
    r.prompt = "a \"red\" fox";
    m.fill(r);
    assertOk(validateRequest(model(m.model), r));
    auto http = buildImagesRequest(connectionFor(endpoint), endpoint.credential, r);
    if (!assertOk(http)) {
        return;
    }
    assertEq(http->method, "POST");
    assertEq(http->url, endpoint.generationsUrl);
    assertEq(http->contentType, "application/json");
    assertEq(headerValue(*http, endpoint.authName), endpoint.authValue);
    assertEq(headerValue(*http, "Accept"), r.stream ? "text/event-stream" : "application/json");
    const std::string expected =
        (endpoint.kind == ConnectionKind::Azure ? std::string("{")
                                                : std::string(R"({"model":"dep",)")) +
        m.json;
    assertEq(http->body, expected);
    // Only one credential header, never both.
    g_assert_cmpuint(http->headers.size(), ==, 2);
}

struct Part {
    std::string name;
    std::string filename; // empty for a text field
    std::string contentType;
    std::string body;
};

using SoupMessageHeadersPtr =
    std::unique_ptr<SoupMessageHeaders, GFreeWith<soup_message_headers_unref>>;
using SoupMultipartPtr = std::unique_ptr<SoupMultipart, GFreeWith<soup_multipart_free>>;
using GHashTablePtr = std::unique_ptr<GHashTable, GFreeWith<g_hash_table_destroy>>;

// Reads a multipart body back with libsoup's parser, the way a server would. A body it cannot
// read fails the test and gives the parts read so far.
static std::vector<Part> parseMultipart(const HttpRequest& http) {
    SoupMessageHeadersPtr headers(soup_message_headers_new(SOUP_MESSAGE_HEADERS_MULTIPART));
    soup_message_headers_replace(headers.get(), "Content-Type", http.contentType.c_str());
    GBytesPtr body(g_bytes_new(http.body.data(), http.body.size()));
    SoupMultipartPtr multipart(soup_multipart_new_from_message(headers.get(), body.get()));
    std::vector<Part> parts;
    g_assert_nonnull(multipart);
    if (!multipart) {
        return parts;
    }
    for (int i = 0; i < soup_multipart_get_length(multipart.get()); ++i) {
        SoupMessageHeaders* ph = nullptr; // owned by the multipart
        GBytes* pb = nullptr;
        const bool got = soup_multipart_get_part(multipart.get(), i, &ph, &pb) != FALSE;
        g_assert_true(got);
        GCharPtr disposition;
        GHashTablePtr params;
        const bool hasDisposition = got && soup_message_headers_get_content_disposition(
                                               ph, outPtr(disposition), outPtr(params)) != FALSE;
        g_assert_true(hasDisposition);
        if (!hasDisposition) {
            return parts;
        }
        Part p;
        const auto* name = static_cast<const char*>(g_hash_table_lookup(params.get(), "name"));
        p.name = name != nullptr ? name : "";
        const auto* filename =
            static_cast<const char*>(g_hash_table_lookup(params.get(), "filename"));
        p.filename = filename != nullptr ? filename : "";
        const char* type = soup_message_headers_get_content_type(ph, nullptr);
        p.contentType = type != nullptr ? type : "";
        gsize size = 0;
        const auto* data = static_cast<const char*>(g_bytes_get_data(pb, &size));
        p.body.assign(data != nullptr ? data : "", size);
        parts.push_back(std::move(p));
    }
    return parts;
}

static InputImage fakePng(const char* content, const char* filename) {
    InputImage image;
    image.bytes = std::string("\x89PNG\r\n\x1a\n", 8) + content;
    image.filename = filename;
    image.width = 1024;
    image.height = 1024;
    return image;
}

// Part `i` of `parts`, checked field by field; failures name the caller's line.
static void assertPart(const std::vector<Part>& parts, size_t i, const char* name,
                       const char* filename, const char* type, const std::string& body,
                       const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                       const char* func = __builtin_FUNCTION()) {
    if (i >= parts.size()) {
        fail(file, line, func,
             "no part " + std::to_string(i) + " (\"" + name + "\"): the body has " +
                 std::to_string(parts.size()) + " parts");
        return;
    }
    const Part& p = parts[i];
    const std::string which = "part " + std::to_string(i);
    assertEqual(p.name, name, (which + " name").c_str(), file, line, func);
    assertEqual(p.filename, filename, (which + " filename").c_str(), file, line, func);
    assertEqual(p.contentType, type, (which + " content type").c_str(), file, line, func);
    assertEqual(p.body, body, (which + " body").c_str(), file, line, func);
}

static const char* const kEditingModels[] = {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5",
                                             "gpt-image-2", "dall-e-2"};

struct EditCase {
    const Endpoint* endpoint;
    const char* model;
};

static void testEdits(gconstpointer data) {
    const Endpoint& endpoint = *static_cast<const EditCase*>(data)->endpoint;
    const char* modelName = static_cast<const EditCase*>(data)->model;
    ImageRequest r;
    r.operation = Operation::Edit;
    r.model = "dep";
    r.prompt = "replace the sky";
    r.n = 2;
    r.size = "1024x1024";
    r.images = {fakePng("first", "image.png")};
    r.mask = fakePng("mask", "mask.png");
    const bool gpt = model(modelName).isGptImage();
    if (gpt) {
        r.quality = "medium";
        r.stream = true;
        r.partialImages = 1;
    } else {
        r.images[0].width = r.mask->width = 512;
        r.images[0].height = r.mask->height = 512;
        r.size = "512x512";
        r.responseFormat = "b64_json";
    }
    assertOk(validateRequest(model(modelName), r));
    auto http = buildImagesRequest(connectionFor(endpoint), endpoint.credential, r, "BOUNDARY42");
    if (!assertOk(http)) {
        return;
    }
    assertEq(http->url, endpoint.editsUrl);
    assertEq(http->contentType, "multipart/form-data; boundary=BOUNDARY42");
    assertEq(headerValue(*http, endpoint.authName), endpoint.authValue);
    auto parts = parseMultipart(*http);
    size_t i = 0;
    if (endpoint.kind != ConnectionKind::Azure) {
        assertPart(parts, i++, "model", "", "", "dep");
    }
    assertPart(parts, i++, "prompt", "", "", "replace the sky");
    assertPart(parts, i++, "n", "", "", "2");
    assertPart(parts, i++, "size", "", "", gpt ? "1024x1024" : "512x512");
    if (gpt) {
        assertPart(parts, i++, "quality", "", "", "medium");
        assertPart(parts, i++, "stream", "", "", "true");
        assertPart(parts, i++, "partial_images", "", "", "1");
    } else {
        assertPart(parts, i++, "response_format", "", "", "b64_json");
    }
    assertPart(parts, i++, "image", "image.png", "image/png", r.images[0].bytes);
    assertPart(parts, i++, "mask", "mask.png", "image/png", r.mask->bytes);
    g_assert_cmpuint(parts.size(), ==, i);
}

static void testSeveralImagesGoAsImageArray() {
    ImageRequest r;
    r.operation = Operation::Edit;
    r.model = "gpt-image-1";
    r.prompt = "p";
    r.images = {fakePng("a", "a.png"), fakePng("b", "b.jpg"), fakePng("c", "c.webp")};
    r.images[1].mimeType = "image/jpeg";
    r.images[2].mimeType = "image/webp";
    r.inputFidelity = "high";
    r.background = "opaque";
    Connection c;
    c.kind = ConnectionKind::OpenAI;
    auto http = buildImagesRequest(c, {AuthMethod::BearerKey, "k"}, r, "B");
    if (!assertOk(http)) {
        return;
    }
    auto parts = parseMultipart(*http);
    g_assert_cmpuint(parts.size(), ==, 7);
    assertPart(parts, 0, "model", "", "", "gpt-image-1");
    assertPart(parts, 1, "prompt", "", "", "p");
    assertPart(parts, 2, "background", "", "", "opaque");
    assertPart(parts, 3, "input_fidelity", "", "", "high");
    assertPart(parts, 4, "image[]", "a.png", "image/png", r.images[0].bytes);
    assertPart(parts, 5, "image[]", "b.jpg", "image/jpeg", r.images[1].bytes);
    assertPart(parts, 6, "image[]", "c.webp", "image/webp", r.images[2].bytes);
}

static void testMultipartBytesExactly() {
    ImageRequest r;
    r.operation = Operation::Edit;
    r.model = "gpt-image-1";
    r.prompt = "p";
    r.images = {fakePng("IMG", "image.png")};
    r.mask = fakePng("MSK", "mask.png");
    Multipart m = encodeEditMultipart(r, "gpt-image-1", "XyZ");
    const std::string png = std::string("\x89PNG\r\n\x1a\n", 8);
    const std::string expected =
        "--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-image-1\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\np\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"image.png\"\r\n"
        "Content-Type: image/png\r\n\r\n" +
        png +
        "IMG\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"mask\"; filename=\"mask.png\"\r\n"
        "Content-Type: image/png\r\n\r\n" +
        png +
        "MSK\r\n"
        "--XyZ--\r\n";
    g_assert_true(m.body == expected);
    assertEq(m.contentType, "multipart/form-data; boundary=XyZ");
}

static void testJsonEscapingAndUnicode() {
    ImageRequest r;
    r.prompt = "ein Fuchs \xc3\xa4 \\ \"q\"\n";
    assertEq(encodeGenerationJson(r, ""), "{\"prompt\":\"ein Fuchs \xc3\xa4 \\\\ \\\"q\\\"\\n\"}");
}

static void testRandomBoundariesDiffer() {
    const std::string a = randomBoundary();
    const std::string b = randomBoundary();
    g_assert_true(a != b);
    g_assert_cmpuint(a.size(), >=, 30);
}

static void testNoKeyNoRequest() {
    ImageRequest r;
    r.model = "dep";
    r.prompt = "p";
    Connection c;
    c.name = "work";
    c.kind = ConnectionKind::OpenAI;
    const Error e = assertFails(buildImagesRequest(c, {AuthMethod::BearerKey, ""}, r),
                                ErrorKind::Configuration);
    assertContains(e.message, "no API key");
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    // Every model on every kind of endpoint, each its own test: the cases live until the run ends.
    std::vector<GenerationCase> generations;
    std::vector<EditCase> edits;
    for (const auto& endpoint : kEndpoints) {
        for (const auto& m : kGenerations) {
            generations.push_back({&endpoint, &m});
        }
        for (const char* m : kEditingModels) {
            edits.push_back({&endpoint, m});
        }
    }
    for (const auto& c : generations) {
        g_test_add_data_func(
            (std::string("/encoding/generations/") + c.endpoint->name + "/" + c.model->model)
                .c_str(),
            &c, testGenerations);
    }
    for (const auto& c : edits) {
        g_test_add_data_func(
            (std::string("/encoding/edits/") + c.endpoint->name + "/" + c.model).c_str(), &c,
            testEdits);
    }
    g_test_add_func("/encoding/edits/several-images-as-image-array",
                    testSeveralImagesGoAsImageArray);
    g_test_add_func("/encoding/edits/multipart-bytes-exactly", testMultipartBytesExactly);
    g_test_add_func("/encoding/json/escaping-and-unicode", testJsonEscapingAndUnicode);
    g_test_add_func("/encoding/boundaries-differ", testRandomBoundariesDiffer);
    g_test_add_func("/encoding/no-key-no-request", testNoKeyNoRequest);
    return g_test_run();
}
