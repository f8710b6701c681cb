// Each procedure's run through the core, with an image editor in memory (FakeHost) and a
// service on a loopback SoupServer: what is sent, what is inserted and as how many undo steps,
// every refusal before anything is sent, and service errors that leave the image untouched.
#include "core/pixels/codec.h"
#include "core/run/run.h"
#include "core/run/run_operation.h"
#include "core/util/json_util.h"
#include "fake_host.h"
#include "run_fixtures.h"
#include "support/fixtures.h"
#include "test_server.h"
#include "test_util.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/resource.h>

using namespace imagegen;
using namespace imagegen::test;

namespace {

constexpr RgbaPixel kRed = {255, 0, 0, 255};

// An answer of `count` images of `size`, every pixel `colour`.
std::string imagesAnswer(Size size, int count, RgbaPixel colour = kRed) {
    RgbaImage image(size.width, size.height);
    for (int y = 0; y < size.height; ++y) {
        for (int x = 0; x < size.width; ++x) {
            std::copy(colour.begin(), colour.end(), image.at(x, y));
        }
    }
    auto png = encodePng(image);
    const GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(png->data()), png->size()));
    std::string data;
    for (int i = 0; i < count; ++i) {
        data += std::string(i > 0 ? "," : "") + R"({"b64_json":")" + b64.get() +
                R"(","revised_prompt":"revised"})";
    }
    return R"({"created":1,"data":[)" + data + "]}";
}

// A service that answers every request with `count` red images of the size it was asked for.
void answerImages(TestServer& server, int count) {
    server.answerAlways([count](SoupServerMessage* msg, const ReceivedRequest& req) {
        TestServer::respond(msg, 200, "application/json", imagesAnswer(sizeAsked(req), count));
    });
}

RunParameters editParameters(const char* prompt = "a red balloon") {
    RunParameters p;
    p.prompt = prompt;
    p.model = "gpt-image-1";
    return p;
}

Result<Inserted> run(Procedure procedure, const RunParameters& p, Setup& s, FakeHost& host,
                     GCancellable* cancellable = nullptr) {
    return runProcedure(procedure, p, s.setup, host, cancellable);
}

void assertUntouched(const FakeHost& host, const RgbaImage& before) {
    g_assert_true(host.layer().pixels == before.pixels);
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
    g_assert_cmpint(host.progressOpen(), ==, 0);
}

void testEditInsertsOneMaskedLayerAsOneUndoStep() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    host.select({100, 60, 80, 40});
    const RgbaImage before = host.layer();
    auto inserted = run(Procedure::Edit, editParameters(), s, host);
    if (!assertOk(inserted)) {
        return;
    }
    g_assert_true(host.layer().pixels == before.pixels); // the source is never written to
    g_assert_cmpuint(host.undoSteps().size(), ==, 1);
    g_assert_cmpuint(inserted->layers.size(), ==, 1);
    const NewLayer& layer = host.undoSteps()[0][0];
    // The selection grown by 15 % of its larger side, widened to 3:2 (1536x1024).
    const Rect r = layer.bounds;
    g_assert_cmpint(std::abs(r.width * 2 - r.height * 3), <=, 3); // rounded to whole pixels
    g_assert_true(r.x <= 100 && r.y <= 60 && r.right() >= 180 && r.bottom() >= 100);
    // Inside the selection the mask shows the result; outside it hides it.
    auto maskAt = [&](int cx, int cy) {
        return layer.mask[static_cast<size_t>(cy - r.y) * r.width + (cx - r.x)];
    };
    g_assert_cmpint(maskAt(140, 80), ==, 255);
    g_assert_cmpint(maskAt(r.x, r.y), ==, 0);
    g_assert_cmpint(layer.pixels.at(40, 20)[0], ==, 255);
    assertContains(layer.parasite, "\"prompt\":\"a red balloon\"");
    assertContains(layer.parasite, "\"revised_prompt\":\"revised\"");
    assertContains(layer.parasite, "\"time\":1800000000");
    g_assert_cmpstr(layer.name.c_str(), ==, "a red balloon");
    g_assert_true(layer.visible);
    // One request, to the edits endpoint, with the key only in its header.
    g_assert_cmpuint(server.received().size(), ==, 1);
    const ReceivedRequest& req = server.received()[0];
    assertEq(req.path, "/v1/images/edits");
    assertEq(req.header("authorization"), "Bearer sk-run-test");
    g_assert_true(req.body.find("sk-run-test") == std::string::npos);
    assertContains(req.body, "name=\"mask\"");
    assertContains(req.body, "1536x1024");
    g_assert_cmpint(host.progressStarts(), ==, 1);
    g_assert_cmpint(host.progressOpen(), ==, 0);
}

void testEditWithoutSelectionSendsNoMask() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(256, 256);
    auto inserted = run(Procedure::Edit, editParameters(), s, host);
    if (!assertOk(inserted)) {
        return;
    }
    g_assert_cmpuint(server.received().size(), ==, 1);
    g_assert_true(server.received()[0].body.find("name=\"mask\"") == std::string::npos);
    const NewLayer& layer = host.undoSteps().at(0).at(0);
    g_assert_true(layer.bounds == (Rect{0, 0, 256, 256}));
    g_assert_true(
        std::all_of(layer.mask.begin(), layer.mask.end(), [](uint8_t v) { return v == 255; }));
}

void testGenerateSeveralGoIntoOneGroupAsOneStep() {
    TestServer server;
    answerImages(server, 3);
    Setup s(server);
    FakeHost host(400, 300);
    host.select({50, 50, 200, 100});
    RunParameters p = editParameters("three kites");
    p.n = 3;
    auto inserted = run(Procedure::Generate, p, s, host);
    if (!assertOk(inserted)) {
        return;
    }
    g_assert_cmpuint(inserted->layers.size(), ==, 3);
    g_assert_cmpuint(host.undoSteps().size(), ==, 1);
    g_assert_cmpuint(host.groupNames().size(), ==, 1);
    assertEq(host.groupNames()[0], "three kites");
    const auto& layers = host.undoSteps()[0];
    g_assert_true(layers[0].visible && !layers[1].visible && !layers[2].visible);
    g_assert_true(layers[0].bounds == (Rect{50, 50, 200, 100})); // covers the selection
    assertEq(server.received()[0].path, "/v1/images/generations");
    assertContains(server.received()[0].body, "\"n\":3");
    assertContains(server.received()[0].body, "\"size\":\"1536x1024\"");
}

void testDallE3SendsOneRequestPerImage() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(64, 64);
    RunParameters p = editParameters("a fox");
    p.model = "dall-e-3";
    p.n = 2;
    auto inserted = run(Procedure::Generate, p, s, host);
    if (!assertOk(inserted)) {
        return;
    }
    g_assert_cmpuint(server.received().size(), ==, 2);
    g_assert_cmpuint(inserted->layers.size(), ==, 2);
    g_assert_true(server.received()[0].body.find("\"n\"") == std::string::npos);
}

void testNewImageTakesTheResultsSize() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(1, 1);
    RunParameters p = editParameters("a castle");
    p.size = "1024x1536";
    auto inserted = run(Procedure::NewImage, p, s, host);
    if (!assertOk(inserted)) {
        return;
    }
    g_assert_cmpint(inserted->image, >, 0);
    g_assert_true(host.createdCanvas() == (Size{1024, 1536}));
    g_assert_cmpint(host.pixelReads(), ==, 0);
}

// A refusal before anything is sent: what is changed from a valid edit, and the error.
struct Refusal {
    const char* name;
    ErrorKind kind;
    const char* says;
    bool readsPixels; // refused after reading pixels (the encoded request), or before
    void (*change)(RunParameters&, Setup&, FakeHost&);
    Procedure procedure = Procedure::Edit;
};

const Refusal kRefusals[] = {
    // Context and feather at the edges of their range (issue: numbers that cannot wrap).
    {"context-nan", ErrorKind::InvalidRequest, "context must be a number", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.context = std::nan("");
     }},
    {"context-infinite", ErrorKind::InvalidRequest, "context must be a number", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.context = HUGE_VAL;
     }},
    {"feather-nan", ErrorKind::InvalidRequest, "feather nan is out of range", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.feather = std::nan("");
     }},
    {"feather-1e308", ErrorKind::InvalidRequest, "use 0 to 10000 pixels", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.feather = 1e308;
     }},
    {"many-alternatives-of-a-vast-canvas", ErrorKind::InvalidRequest,
     "needs more memory than one run may take", false,
     [](RunParameters& p, Setup&, FakeHost& host) {
         // Refused before any pixel is read: the canvas is never allocated.
         host.pretendCanvas({60000, 40000});
         p.n = 10;
     },
     Procedure::Generate},
    {"empty-prompt", ErrorKind::InvalidRequest, "prompt", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.prompt.clear();
     }},
    {"prompt-too-long", ErrorKind::InvalidRequest, "4000", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.model = "dall-e-3";
         p.prompt.assign(4001, 'a');
     }},
    {"size-not-offered", ErrorKind::InvalidRequest, "999x999", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.size = "999x999";
     }},
    {"quality-not-offered", ErrorKind::InvalidRequest, "quality", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.quality = "ultra";
     }},
    {"too-many-images", ErrorKind::InvalidRequest, "n", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.n = 11;
     }},
    {"unknown-connection", ErrorKind::Configuration, "no saved connection named studio", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.connection = "studio";
     }},
    {"no-connection", ErrorKind::Configuration, "OPENAI_API_KEY", false,
     [](RunParameters&, Setup& s, FakeHost&) {
         s.env = {{"HOME", "/nowhere"}};
     }},
    {"azure-without-deployment", ErrorKind::Configuration, "deployment", false,
     [](RunParameters& p, Setup& s, FakeHost&) {
         p.model.clear();
         s.env = {{"AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com"},
                  {"AZURE_OPENAI_API_KEY", "k"}};
     }},
    {"layer-mask-active", ErrorKind::InvalidRequest, "layer mask", false,
     [](RunParameters&, Setup&, FakeHost& h) {
         h.refuseWith("A layer mask is active.");
     }},
    {"missing-reference", ErrorKind::InvalidRequest, "references names 7", true,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.options = optionsOf(R"({"references":[7]})");
     }},
    // An option where it does not apply is refused, never dropped without a word.
    {"moderation-on-an-edit", ErrorKind::InvalidRequest, "moderation applies only to generations",
     false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.options = optionsOf(R"({"moderation":"low"})");
     }},
    {"references-on-a-generation", ErrorKind::InvalidRequest,
     "references are not used by Generate Layer", false,
     [](RunParameters& p, Setup&, FakeHost&) { p.options = optionsOf(R"({"references":[7]})"); },
     Procedure::Generate},
    {"input-fidelity-on-a-generation", ErrorKind::InvalidRequest,
     "input_fidelity applies only to edits", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.options = optionsOf(R"({"input_fidelity":"high"})");
     },
     Procedure::Generate},
    {"references-on-a-new-image", ErrorKind::InvalidRequest,
     "references are not used by Generate Image", false,
     [](RunParameters& p, Setup&, FakeHost&) { p.options = optionsOf(R"({"references":[7]})"); },
     Procedure::NewImage},
};

void testRefusedBeforeSending(gconstpointer data) {
    const auto* refusal = static_cast<const Refusal*>(data);
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    host.select({100, 60, 80, 40});
    const RgbaImage before = host.layer();
    RunParameters p = editParameters();
    refusal->change(p, s, host);
    const Error e = assertFails(run(refusal->procedure, p, s, host), refusal->kind);
    assertContains(e.message, refusal->says);
    g_assert_cmpuint(server.received().size(), ==, 0);
    g_assert_cmpint(host.progressStarts(), ==, 0);
    if (!refusal->readsPixels) {
        g_assert_cmpint(host.pixelReads(), ==, 0);
    }
    assertUntouched(host, before);
}

// A service error: the answer, and the kind of error the run ends with.
struct ServiceFailure {
    const char* name;
    int status;
    const char* body;
    ErrorKind kind;
    const char* says;
};

const ServiceFailure kServiceFailures[] = {
    {"content-filter", 400,
     R"({"error":{"message":"Your request was rejected by the safety system.","type":"invalid_request_error","code":"content_policy_violation"}})",
     ErrorKind::ContentFilter, "safety"},
    {"unauthorised", 401,
     R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}})",
     ErrorKind::Authentication, "API key"},
    {"server-error", 500, R"({"error":{"message":"boom","type":"server_error"}})",
     ErrorKind::Server, "500"},
    {"not-json", 200, "<html>gateway</html>", ErrorKind::MalformedResponse, ""},
    {"broken-image", 200, R"({"created":1,"data":[{"b64_json":"aGVsbG8="}]})",
     ErrorKind::MalformedResponse, ""},
    {"too-few-images", 200, R"({"created":1,"data":[]})", ErrorKind::MalformedResponse,
     "holds no image"},
};

void testServiceErrorLeavesTheImage(gconstpointer data) {
    const auto* failure = static_cast<const ServiceFailure*>(data);
    TestServer server;
    server.answerAlways([failure](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, failure->status, "application/json", failure->body);
    });
    Setup s(server);
    FakeHost host(300, 200);
    host.select({100, 60, 80, 40});
    const RgbaImage before = host.layer();
    const Error e = assertFails(run(Procedure::Edit, editParameters(), s, host), failure->kind);
    assertContains(e.message, failure->says);
    g_assert_true(e.message.find("sk-run-test") == std::string::npos);
    g_assert_cmpuint(server.received().size(), ==, 1);
    assertUntouched(host, before);
}

// An answer far larger than the size asked for is refused before its pixels are allocated.
void testResultFarLargerThanAskedIsRefused() {
    TestServer server;
    const std::string png = pngHeaderClaiming(6000, 6000);
    const GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(png.data()), png.size()));
    server.answerAlways([&](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, 200, "application/json",
                            std::string(R"({"created":1,"data":[{"b64_json":")") + b64.get() +
                                "\"}]}");
    });
    Setup s(server);
    FakeHost host(300, 200);
    const RgbaImage before = host.layer();
    const Error e =
        assertFails(run(Procedure::Edit, editParameters(), s, host), ErrorKind::MalformedResponse);
    assertContains(e.message, "6000x6000");
    assertUntouched(host, before);
    g_assert_cmpint(resultPixelLimit(model("gpt-image-1"), "1536x1024"), ==, 4 * 1536 * 1024);
    g_assert_cmpint(resultPixelLimit(model("gpt-image-1"), ""), ==, 4 * 1536 * 1024);
    g_assert_cmpint(resultPixelLimit(model("gpt-image-2"), "auto"), ==, 4 * 3840 * 2160);
}

// Memory follows the target, not the answer: the cases of a thin answer, a thin layer and an
// answer taller than GIMP's images, each run in a subprocess whose address space is limited
// (RLIMIT_AS: what it had at start, plus 768 MB), so that work bounded by the answer's shape
// (a 1x4096 answer scaled whole to cover 1024x1024 asks 17 GB; a 262144x1 layer widened to
// 3:2 asks 183 GB) ends in std::bad_alloc and fails the case. Under the sanitizers ASan's
// allocator refuses such sizes itself, and the limit is left off (ASan reserves terabytes of
// shadow memory).
struct MemoryCase {
    const char* name;
    void (*body)();
};

void limitAddressSpace() {
#if !defined(__SANITIZE_ADDRESS__)
    gchar* text = nullptr;
    g_file_get_contents("/proc/self/status", &text, nullptr, nullptr);
    const GCharPtr status(text);
    long sizeKb = 0;
    if (const char* at = status ? std::strstr(status.get(), "VmSize:") : nullptr) {
        sizeKb = std::strtol(at + 7, nullptr, 10);
    }
    const rlim_t limit = (static_cast<rlim_t>(sizeKb) * 1024) + (rlim_t{768} << 20);
    const struct rlimit r { limit, limit };
    g_assert_cmpint(setrlimit(RLIMIT_AS, &r), ==, 0);
#endif
}

void testWithinMemory(gconstpointer data) {
    const auto* c = static_cast<const MemoryCase*>(data);
    if (!g_test_subprocess()) {
        g_test_trap_subprocess(nullptr, 0,
                               static_cast<GTestSubprocessFlags>(G_TEST_SUBPROCESS_INHERIT_STDOUT |
                                                                 G_TEST_SUBPROCESS_INHERIT_STDERR));
        g_test_trap_assert_passed();
        return;
    }
    limitAddressSpace();
    c->body();
}

// A service that answers every request with one image of `size`, whatever was asked.
void answerImageOfSize(TestServer& server, Size size) {
    server.answerAlways([size](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, 200, "application/json", imagesAnswer(size, 1));
    });
}

// A thin answer covers the target from its middle, all of it the answer's colour.
void generateFromThinAnswer(Size answer) {
    TestServer server;
    answerImageOfSize(server, answer);
    Setup s(server);
    FakeHost host(1024, 1024);
    auto inserted = run(Procedure::Generate, editParameters(), s, host);
    if (!assertOk(inserted)) {
        return;
    }
    const NewLayer& layer = host.undoSteps().at(0).at(0);
    g_assert_true(layer.bounds == (Rect{0, 0, 1024, 1024}));
    for (const int at : {0, 511, 1023}) {
        g_assert_cmpint(layer.pixels.at(at, at)[0], ==, 255);
        g_assert_cmpint(layer.pixels.at(at, at)[3], ==, 255);
    }
}

// A layer far wider than the API's 3:2, with no selection: the region widened to 3:2 reaches far
// past the canvas, and only its part on the canvas is read, sent at its place in the image, and
// inserted, as a layer the size of the canvas.
void editThinLayer(Size canvas) {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(canvas.width, canvas.height);
    const RgbaImage before = host.layer();
    auto inserted = run(Procedure::Edit, editParameters(), s, host);
    if (!assertOk(inserted)) {
        return;
    }
    g_assert_true(host.layer().pixels == before.pixels);
    const NewLayer& layer = host.undoSteps().at(0).at(0);
    g_assert_true(layer.bounds == (Rect{0, 0, canvas.width, canvas.height}));
    g_assert_cmpint(layer.pixels.at(canvas.width / 2, canvas.height / 2)[0], ==, 255);
    // What went up: the 1536x1024 image, the strip opaque across its middle, transparent (to
    // paint) above and below it.
    const ReceivedRequest& req = server.received().at(0);
    assertContains(req.body, "1536x1024");
    const std::string head = "Content-Type: image/png\r\n\r\n";
    const size_t at = req.body.find(head);
    if (at == std::string::npos) {
        fail(IMAGEGEN_TEST_HERE, "the image did not go up as PNG");
        return;
    }
    auto sent = decodeImage(std::string_view(req.body).substr(at + head.size()));
    if (!assertOk(sent)) {
        return;
    }
    g_assert_cmpint(sent->width, ==, 1536);
    g_assert_cmpint(sent->at(768, 0)[3], ==, 0);
    g_assert_cmpint(sent->at(768, 512)[3], ==, 255);
    g_assert_cmpint(sent->at(768, 1023)[3], ==, 0);
}

// An answer taller than GIMP's images (524288 pixels a side) but within the pixel limit: refused
// before it is decoded, and no image is made.
void newImageTooTall() {
    TestServer server;
    answerImageOfSize(server, {1, 600000});
    Setup s(server);
    FakeHost host(64, 64);
    RunParameters p = editParameters();
    p.size = "1024x1024";
    const Error e = assertFails(run(Procedure::NewImage, p, s, host), ErrorKind::MalformedResponse);
    assertContains(e.message, "1x600000 pixels, larger than GIMP can hold (524288 pixels a side)");
    g_assert_false(host.createdCanvas().has_value());
}

const MemoryCase kMemoryCases[] = {
    {"generate/answer-1x489",
     [] {
         generateFromThinAnswer({1, 489});
     }},
    {"generate/answer-1x4096",
     [] {
         generateFromThinAnswer({1, 4096});
     }},
    {"generate/answer-4096x1",
     [] {
         generateFromThinAnswer({4096, 1});
     }},
    {"edit/layer-20000x100",
     [] {
         editThinLayer({20000, 100});
     }},
    {"edit/layer-262144x1",
     [] {
         editThinLayer({262144, 1});
     }},
    {"new-image/answer-1x600000", newImageTooTall},
};

void testCancelWhileWaitingInsertsNothing() {
    TestServer server;
    const GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    SourceId timer;
    // The request arrives and is never answered; the user cancels while waiting.
    server.answerAlways([&](SoupServerMessage* msg, const ReceivedRequest&) {
        server.hold(msg);
        timer = cancelAfter(10, cancellable.get());
    });
    Setup s(server);
    FakeHost host(300, 200);
    const RgbaImage before = host.layer();
    assertFails(run(Procedure::Edit, editParameters(), s, host, cancellable.get()),
                ErrorKind::Cancelled);
    g_assert_cmpuint(server.received().size(), ==, 1);
    assertUntouched(host, before);
}

// Cancel at every stage of a run: the image stays as it was, with no undo step.
void testCancelBeforeSending() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    const RgbaImage before = host.layer();
    const GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    g_cancellable_cancel(cancellable.get());
    assertFails(run(Procedure::Edit, editParameters(), s, host, cancellable.get()),
                ErrorKind::Cancelled);
    g_assert_cmpuint(server.received().size(), ==, 0);
    assertUntouched(host, before);
}

// A peer that accepts the connection and never reads: the upload of a large edit cannot finish.
class SilentServer {
  public:
    SilentServer() : service_(adoptRef(g_socket_service_new())) {
        port_ = g_socket_listener_add_any_inet_port(G_SOCKET_LISTENER(service_.get()), nullptr,
                                                    nullptr);
        g_signal_connect(service_.get(), "incoming", G_CALLBACK(onIncoming), this);
        g_socket_service_start(service_.get());
    }
    ~SilentServer() { g_socket_service_stop(service_.get()); }
    SilentServer(const SilentServer&) = delete;
    SilentServer& operator=(const SilentServer&) = delete;
    SilentServer(SilentServer&&) = delete;
    SilentServer& operator=(SilentServer&&) = delete;

    [[nodiscard]] std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::function<void()> onConnection;

  private:
    static gboolean onIncoming(GSocketService* /*service*/, GSocketConnection* connection,
                               GObject* /*source*/, gpointer data) {
        auto* self = static_cast<SilentServer*>(data);
        self->held_.push_back(addRef(connection));
        if (self->onConnection) {
            self->onConnection();
        }
        return TRUE;
    }
    GRef<GSocketService> service_;
    guint16 port_ = 0;
    std::vector<GRef<GSocketConnection>> held_;
};

void testCancelDuringUpload() {
    SilentServer server;
    const GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    SourceId timer;
    server.onConnection = [&] {
        timer = cancelAfter(200, cancellable.get());
    };
    TestServer unused;
    Setup s(unused, {{"OPENAI_BASE_URL", server.url("/v1")}, {"OPENAI_API_KEY", "sk-run-test"}});
    FakeHost host(3000, 2000);
    host.fillWithNoise(); // about 20 MB of PNG: more than the socket's buffers take
    const RgbaImage before = host.layer();
    RunParameters p = editParameters();
    p.model = "gpt-image-2"; // free sizes: the region goes up at its own size
    assertFails(run(Procedure::Edit, p, s, host, cancellable.get()), ErrorKind::Cancelled);
    assertUntouched(host, before);
}

void testCancelWhileStreaming() {
    TestServer server;
    server.answerAlways([](SoupServerMessage* msg, const ReceivedRequest&) {
        RgbaImage tiny(4, 4);
        const auto png = encodePng(tiny);
        const GCharPtr b64(
            g_base64_encode(reinterpret_cast<const guchar*>(png->data()), png->size()));
        const std::string partial =
            std::string(R"({"type":"image_edit.partial_image","b64_json":")") + b64.get() +
            R"(","partial_image_index":0})";
        const std::string completed =
            std::string(R"({"type":"image_edit.completed","b64_json":")") + b64.get() + "\"}";
        TestServer::respond(msg, 200, "text/event-stream",
                            "event: image_edit.partial_image\ndata: " + partial +
                                "\n\nevent: image_edit.completed\ndata: " + completed + "\n\n");
    });
    Setup s(server);
    FakeHost host(300, 200);
    const RgbaImage before = host.layer();
    const GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    host.onProgress = [&] {
        g_cancellable_cancel(cancellable.get());
    }; // at the partial image
    RunParameters p = editParameters();
    p.options = optionsOf(R"({"stream":true,"partial_images":1})");
    assertFails(run(Procedure::Edit, p, s, host, cancellable.get()), ErrorKind::Cancelled);
    assertUntouched(host, before);
}

// A cancel seen at a step that does not wait on the main loop: how many layers the host has
// made when it comes.
struct LateCancel {
    const char* name;
    bool (*cancelled)(const TestServer& server, const FakeHost& host);
    int layersMade;
};

const LateCancel kLateCancels[] = {
    // Once the answer is in: at the first check while decoding.
    {"while-decoding",
     [](const TestServer& server, const FakeHost&) { return !server.received().empty(); }, 0},
    // Once the first of two layers is made.
    {"while-making-layers",
     [](const TestServer&, const FakeHost& host) { return host.layersMade() >= 1; }, 1},
};

void testLateCancel(gconstpointer data) {
    const auto* late = static_cast<const LateCancel*>(data);
    TestServer server;
    answerImages(server, 2);
    Setup s(server);
    FakeHost host(300, 200);
    const RgbaImage before = host.layer();
    RunParameters p = editParameters();
    p.n = 2;
    auto inserted = runProcedure(Procedure::Edit, p, s.setup, host, nullptr,
                                 [&] { return late->cancelled(server, host); });
    assertFails(inserted, ErrorKind::Cancelled);
    g_assert_cmpint(host.layersMade(), ==, late->layersMade);
    assertUntouched(host, before);
}

// What a RunOperation reported: how often `done` ran, the progress, and the last result.
struct OperationRecord {
    int done = 0;
    bool finished = false;
    std::vector<std::pair<size_t, size_t>> progress;
    std::optional<Result<RunOutcome>> result;

    RunEvents events() {
        RunEvents e;
        e.onProgress = [this](size_t finished, size_t all) {
            progress.emplace_back(finished, all);
        };
        return e;
    }
    RunOperation::Done onDone() {
        return [this](Result<RunOutcome> r) {
            ++done;
            finished = true;
            result = std::move(r);
        };
    }
};

// The dialog's path: prepare, send, make layers, and insert only later.
void testStepsCanBeTakenApart() {
    TestServer server;
    answerImages(server, 2);
    Setup s(server);
    FakeHost host(300, 200);
    RunParameters p = editParameters();
    p.n = 2;
    auto prepared = prepareRun(Procedure::Edit, p, s.setup, host);
    if (!assertOk(prepared)) {
        return;
    }
    g_assert_cmpuint(prepared->upload.images.size(), ==, 1);
    g_assert_cmpuint(server.received().size(), ==, 0);
    OperationRecord record;
    const RunOperation operation(std::move(*prepared), s.setup, record.events(), record.onDone());
    iterateUntil(record.finished);
    if (!assertOk(*record.result)) {
        return;
    }
    const std::vector<NewLayer>& layers = (*record.result)->layers;
    g_assert_cmpuint(layers.size(), ==, 2);
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
    auto inserted = insertResults(operation.plan(), {layers.at(1)}, host);
    if (!assertOk(inserted)) {
        return;
    }
    g_assert_cmpuint(host.undoSteps().size(), ==, 1);
    g_assert_cmpuint(host.undoSteps()[0].size(), ==, 1);
}

// The parts of an edit request the service reads: the image sent and the mask, decoded.
struct SentEdit {
    std::optional<RgbaImage> image;
    std::optional<RgbaImage> mask;
};

SentEdit readSentEdit(const ReceivedRequest& req) {
    using MultipartPtr = std::unique_ptr<SoupMultipart, GFreeWith<soup_multipart_free>>;
    using HeadersPtr = std::unique_ptr<SoupMessageHeaders, GFreeWith<soup_message_headers_unref>>;
    const HeadersPtr headers(soup_message_headers_new(SOUP_MESSAGE_HEADERS_MULTIPART));
    soup_message_headers_replace(headers.get(), "Content-Type", req.header("content-type").c_str());
    const GBytesPtr body(g_bytes_new(req.body.data(), req.body.size()));
    const MultipartPtr multipart(soup_multipart_new_from_message(headers.get(), body.get()));
    SentEdit sent;
    for (int i = 0; multipart && i < soup_multipart_get_length(multipart.get()); ++i) {
        SoupMessageHeaders* partHeaders = nullptr; // owned by the multipart
        GBytes* partBody = nullptr;
        soup_multipart_get_part(multipart.get(), i, &partHeaders, &partBody);
        const std::string disposition =
            soup_message_headers_get_one(partHeaders, "Content-Disposition");
        gsize size = 0;
        const auto* data = static_cast<const char*>(g_bytes_get_data(partBody, &size));
        auto decoded = decodeImage(std::string_view(data, size));
        if (!decoded) {
            continue;
        }
        if (disposition.find("name=\"mask\"") != std::string::npos) {
            sent.mask = std::move(*decoded);
        } else if (!sent.image) {
            sent.image = std::move(*decoded);
        }
    }
    return sent;
}

// The pixels an edit sends: the active layer (scripts, by default), or the picture as the user sees
// it ("visible", the dialog's default). After an Insert GIMP makes the result layer active, and it
// is transparent outside its region: the picture is what is worth sending then.
void testEditSendsTheSourceAsked(gconstpointer data) {
    const std::string source = static_cast<const char*>(data);
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(256, 256, {0, 0, 0, 0}); // the active layer: transparent here
    RgbaImage picture(256, 256);
    for (size_t i = 0; i < picture.pixels.size(); i += 4) {
        picture.pixels[i] = 200;
        picture.pixels[i + 3] = 255;
    }
    host.setPicture(picture);
    host.select({64, 64, 128, 128});
    RunParameters p = editParameters();
    p.options.source = source;
    if (!assertOk(run(Procedure::Edit, p, s, host)) || !assertSize(server.received(), 1)) {
        return;
    }
    const SentEdit sent = readSentEdit(server.received()[0]);
    g_assert_true(sent.image.has_value());
    const bool visible = source == "visible";
    const uint8_t* middle = sent.image->at(sent.image->width / 2, sent.image->height / 2);
    g_assert_cmpint(middle[3], ==, visible ? 255 : 0);
    if (visible) {
        g_assert_cmpint(std::abs(middle[0] - 200), <=, 3); // sent as JPEG: opaque
    }
    g_assert_true(host.sources() == std::vector<PixelSource>{visible ? PixelSource::Visible
                                                                     : PixelSource::ActiveLayer});
    g_assert_true(host.layer().pixels == RgbaImage(256, 256).pixels); // never written to
    g_assert_cmpuint(host.undoSteps().size(), ==, 1);
}

constexpr std::array<double, 3> kDriftGain = {1.1, 0.95, 1.05};
constexpr std::array<double, 3> kDriftOffset = {-8, 5, 3};
constexpr RgbaPixel kFill = {90, 160, 200, 255};

uint8_t drifted(size_t c, uint8_t v, bool wave) {
    double out = (v * kDriftGain[c]) + kDriftOffset[c];
    if (wave) {
        out += 24.0 * std::sin(2.0 * G_PI * v / 64.0);
    }
    return static_cast<uint8_t>(std::clamp(std::lround(out), 0L, 255L));
}

// A service whose model drifts in tone: the image sent comes back through kDriftGain and
// kDriftOffset (and a wave no gain and offset can follow, with `wave`), the area the mask frees
// painted kFill under the same drift.
void answerDrifted(TestServer& server, bool wave) {
    server.answerAlways([wave](SoupServerMessage* msg, const ReceivedRequest& req) {
        const SentEdit sent = readSentEdit(req);
        if (!sent.image || !sent.mask) {
            TestServer::respond(msg, 400, "application/json", R"({"error":{"message":"no mask"}})");
            return;
        }
        RgbaImage out = *sent.image;
        for (size_t i = 0; i < out.pixels.size(); i += 4) {
            const bool edit = sent.mask->pixels[i + 3] == 0;
            for (size_t c = 0; c < 3; ++c) {
                out.pixels[i + c] = drifted(c, edit ? kFill[c] : out.pixels[i + c], wave);
            }
            out.pixels[i + 3] = 255;
        }
        auto png = encodePng(out);
        const GCharPtr b64(
            g_base64_encode(reinterpret_cast<const guchar*>(png->data()), png->size()));
        TestServer::respond(msg, 200, "application/json",
                            std::string(R"({"created":1,"data":[{"b64_json":")") + b64.get() +
                                "\"}]}");
    });
}

struct DriftCase {
    const char* name;
    bool wave;
    const char* options;
    bool matched;         // the fill comes back to kFill
    const char* parasite; // what the parasite's colour match says
};

const DriftCase kDriftCases[] = {
    {"matched", false, "", true, R"("color_match":{"outcome":"applied")"},
    {"off", false, R"({"match_colors":false})", false,
     R"x("color_match":{"outcome":"off","reason":"turned off (match_colors false)"})x"},
    {"wave-declined", true, "", false, R"("outcome":"declined","reason":"poor fit: only )"},
};

// An edit through a drifting model: the colour match brings the new content back to the tone it
// was drawn in, unless turned off or the fit is poor; the parasite says which, with its figures.
void testEditColourMatch(gconstpointer data) {
    const auto* c = static_cast<const DriftCase*>(data);
    TestServer server;
    answerDrifted(server, c->wave);
    Setup s(server);
    FakeHost host(300, 200);
    host.fillWithNoise();
    host.select({100, 60, 80, 40});
    RunParameters p = editParameters();
    p.options = optionsOf(c->options);
    if (!assertOk(run(Procedure::Edit, p, s, host)) || !assertSize(host.undoSteps(), 1)) {
        return;
    }
    const NewLayer& layer = host.undoSteps()[0][0];
    const uint8_t* inside = layer.pixels.at(140 - layer.bounds.x, 80 - layer.bounds.y);
    for (size_t k = 0; k < 3; ++k) {
        const int expected = c->matched ? kFill[k] : drifted(k, kFill[k], c->wave);
        g_assert_cmpint(std::abs(inside[k] - expected), <=, 1);
    }
    assertContains(layer.parasite, c->parasite);
    auto parasite = json::parseObject(layer.parasite);
    if (!assertOk(parasite)) {
        return;
    }
    // The region (the selection and its context, 104x69) from the 1536x1024 the model drew.
    g_assert_cmpfloat_with_epsilon(json::number(parasite->root(), "upscale_factor").value_or(0),
                                   104.0 / 1536, 1e-4);
    JsonObject* match = json::object(parasite->root(), "color_match");
    JsonArray* gain = json::array(match, "gain");
    JsonArray* offset = json::array(match, "offset");
    if (c->matched && gain != nullptr && offset != nullptr) {
        for (guint k = 0; k < 3; ++k) {
            g_assert_cmpfloat_with_epsilon(json_array_get_double_element(gain, k), kDriftGain[k],
                                           0.002);
            g_assert_cmpfloat_with_epsilon(json_array_get_double_element(offset, k),
                                           kDriftOffset[k], 0.2);
        }
    } else {
        g_assert_true(!c->matched);
    }
}

// What the dialog shows before a run: the region or target, the size, and the enlargement.
struct GeometryCase {
    const char* name;
    Procedure procedure;
    const char* model = "gpt-image-1";
    const char* size = ""; // the size asked for: empty for the model's choice
    double context = -1;   // -1: the default context
    Size canvas;
    std::optional<Rect> selection = std::nullopt; // none: no selection
    Rect covered;                                 // edit: the region sent; generate: the target
    const char* expectedSize;                     // the size sent
    double factor;                                // the enlargement, to 0.01
};

const GeometryCase kGeometryCases[] = {
    // A 3000x2000 selection sent at 1536x1024 with no context: its own bounds, enlarged 1.95x.
    {.name = "edit/large-selection",
     .procedure = Procedure::Edit,
     .size = "1536x1024",
     .context = 0,
     .canvas = {4000, 3000},
     .selection = Rect{500, 500, 3000, 2000},
     .covered = {500, 500, 3000, 2000},
     .expectedSize = "1536x1024",
     .factor = 3000.0 / 1536},
    // The default context (15 %) grows it to the whole 3300x2200 canvas: about 2.15x.
    {.name = "edit/large-selection-default-context",
     .procedure = Procedure::Edit,
     .size = "1536x1024",
     .canvas = {3300, 2200},
     .selection = Rect{150, 100, 3000, 2000},
     .covered = {0, 0, 3300, 2200},
     .expectedSize = "1536x1024",
     .factor = 3300.0 / 1536},
    // 10 % of the larger side on every side; the model's size nearest 3:2 is 1536x1024.
    {.name = "edit/small-selection-context",
     .procedure = Procedure::Edit,
     .context = 0.1,
     .canvas = {3000, 2000},
     .selection = Rect{1000, 800, 1000, 600},
     .covered = {900, 700, 1200, 800},
     .expectedSize = "1536x1024",
     .factor = 1200.0 / 1536},
    // No selection: the layer, here the whole canvas; the context stops at its edges.
    {.name = "edit/no-selection",
     .procedure = Procedure::Edit,
     .canvas = {300, 200},
     .covered = {0, 0, 300, 200},
     .expectedSize = "1536x1024",
     .factor = 300.0 / 1536},
    // No selection and a fixed square size: the canvas widened to 1:1, past its bottom edge.
    {.name = "edit/no-selection-square",
     .procedure = Procedure::Edit,
     .size = "1024x1024",
     .context = 0,
     .canvas = {300, 200},
     .covered = {0, -50, 300, 300},
     .expectedSize = "1024x1024",
     .factor = 300.0 / 1024},
    // A generation covers the selection's bounds, at the model's size nearest its shape.
    {.name = "generate/tall-selection",
     .procedure = Procedure::Generate,
     .canvas = {400, 300},
     .selection = Rect{50, 50, 100, 200},
     .covered = {50, 50, 100, 200},
     .expectedSize = "1024x1536",
     .factor = 200.0 / 1536},
    {.name = "generate/canvas",
     .procedure = Procedure::Generate,
     .canvas = {2048, 2048},
     .covered = {0, 0, 2048, 2048},
     .expectedSize = "1024x1024",
     .factor = 2.0},
    {.name = "generate/fixed-size",
     .procedure = Procedure::Generate,
     .size = "1536x1024",
     .canvas = {3072, 1024},
     .covered = {0, 0, 3072, 1024},
     .expectedSize = "1536x1024",
     .factor = 2.0},
    // A selection reaching past the canvas: only its part on the canvas is covered.
    {.name = "generate/selection-past-canvas",
     .procedure = Procedure::Generate,
     .size = "auto",
     .canvas = {1000, 1000},
     .selection = Rect{500, 500, 1000, 1000},
     .covered = {500, 500, 500, 500},
     .expectedSize = "auto",
     .factor = 1.0},
    // A new image: the size passes through, and nothing is enlarged.
    {.name = "new-image/size-passes-through",
     .procedure = Procedure::NewImage,
     .size = "1024x1536",
     .canvas = {1, 1},
     .covered = {0, 0, 0, 0},
     .expectedSize = "1024x1536",
     .factor = 1.0},
    {.name = "new-image/unset-size",
     .procedure = Procedure::NewImage,
     .canvas = {1, 1},
     .covered = {0, 0, 0, 0},
     .expectedSize = "",
     .factor = 1.0},
};

ImageGeometry geometryOf(Size canvas, std::optional<Rect> selection) {
    ImageGeometry g;
    g.canvas = canvas;
    g.drawable = {0, 0, canvas.width, canvas.height};
    g.selection = selection;
    return g;
}

std::string rectText(Rect r) {
    return std::to_string(r.x) + "," + std::to_string(r.y) + " " + std::to_string(r.width) + "x" +
           std::to_string(r.height);
}

void testPlanGeometry(gconstpointer data) {
    const auto* c = static_cast<const GeometryCase*>(data);
    RunParameters p = editParameters();
    p.model = c->model;
    p.size = c->size;
    p.context = c->context;
    auto plan = planGeometry(c->procedure, model(c->model), p, geometryOf(c->canvas, c->selection));
    if (!assertOk(plan)) {
        return;
    }
    assertEq(plan->size, c->expectedSize);
    if (c->procedure == Procedure::Edit) {
        assertEq(rectText(plan->edit.region), rectText(c->covered));
        assertEq(formatSize(plan->edit.apiSize), c->expectedSize);
        const Rect canvas{0, 0, c->canvas.width, c->canvas.height};
        assertEq(rectText(plan->edit.area), rectText(c->selection.value_or(canvas)));
    } else if (c->procedure == Procedure::Generate) {
        assertEq(rectText(plan->target), rectText(c->covered));
    }
    const double factor = upscaleFactor(c->procedure, *plan);
    g_assert_cmpfloat_with_epsilon(factor, c->factor, 0.01);
    // Enlarged exactly when what is covered is larger than what the model draws.
    const Rect covered = c->procedure == Procedure::Edit ? plan->edit.region : plan->target;
    const auto drawn = parseSize(plan->size);
    if (c->procedure != Procedure::NewImage && drawn) {
        const bool larger = covered.width > drawn->width || covered.height > drawn->height;
        g_assert_true(larger == (factor > 1.0));
    }
}

struct NamedProcedure {
    const char* name;
    Procedure procedure;
};

const NamedProcedure kProcedures[] = {
    {"edit", Procedure::Edit},
    {"generate", Procedure::Generate},
    {"new-image", Procedure::NewImage},
};

// A size the model does not offer: planGeometry refuses it as prepareRun does.
void testPlanGeometryRefusesAnUnofferedSize(gconstpointer data) {
    const Procedure procedure = static_cast<const NamedProcedure*>(data)->procedure;
    TestServer server;
    Setup s(server);
    FakeHost host(300, 200);
    host.select({100, 60, 80, 40});
    RunParameters p = editParameters();
    p.size = "999x999";
    const Error viaRun =
        assertFails(prepareRun(procedure, p, s.setup, host), ErrorKind::InvalidRequest);
    auto geometry = host.inspect();
    if (!assertOk(geometry)) {
        return;
    }
    const Error viaPlan = assertFails(planGeometry(procedure, model("gpt-image-1"), p, *geometry),
                                      ErrorKind::InvalidRequest);
    assertEq(viaPlan.message, viaRun.message);
    assertEq(viaPlan.param, viaRun.param);
    assertContains(viaPlan.message, "999x999");
}

// planRun reads the image's geometry and no pixel: not the region, nor the selection, nor a
// reference layer (here one that does not exist, which prepareRun would refuse).
void testPlanRunReadsNoPixel() {
    TestServer server;
    Setup s(server);
    FakeHost host(300, 200);
    host.select({100, 60, 80, 40});
    RunParameters p = editParameters();
    p.options = optionsOf(R"({"references":[7],"background":"opaque"})");
    auto planned = planRun(Procedure::Edit, p, s.setup, host);
    if (!assertOk(planned)) {
        return;
    }
    g_assert_cmpint(host.pixelReads(), ==, 0);
    g_assert_cmpuint(server.received().size(), ==, 0);
    // The service is resolved: the model, its capabilities, where it is and the key.
    assertEq(planned->service.model, "gpt-image-1");
    g_assert_nonnull(planned->service.caps);
    assertEq(planned->service.connection.endpoint, server.url("/v1"));
    assertEq(planned->service.credential.secret, "sk-run-test");
    g_assert_true(planned->parameters.options.references == (std::vector<int>{7}));
    assertEq(planned->request.background, "opaque");
    assertEq(planned->request.size, "1536x1024");
    g_assert_true(planned->coverage.empty());
    g_assert_true(planned->request.images.empty());
}

// A refusal that needs no pixel comes from planRun too, before any pixel is read.
struct PlanRefusal {
    const char* name;
    ErrorKind kind;
    const char* says;
    void (*change)(RunParameters&);
};

const PlanRefusal kPlanRefusals[] = {
    {"empty-prompt", ErrorKind::InvalidRequest, "prompt is empty",
     [](RunParameters& p) {
         p.prompt.clear();
     }},
    {"prompt-too-long", ErrorKind::InvalidRequest, "4000",
     [](RunParameters& p) {
         p.model = "dall-e-3";
         p.prompt.assign(4001, 'a');
     }},
    {"size-not-offered", ErrorKind::InvalidRequest, "999x999",
     [](RunParameters& p) {
         p.size = "999x999";
     }},
    {"unknown-connection", ErrorKind::Configuration, "studio",
     [](RunParameters& p) {
         p.connection = "studio";
     }},
};

void testPlanRunRefuses(gconstpointer data) {
    const auto* refusal = static_cast<const PlanRefusal*>(data);
    TestServer server;
    Setup s(server);
    FakeHost host(300, 200);
    host.select({100, 60, 80, 40});
    RunParameters p = editParameters();
    refusal->change(p);
    for (const Procedure procedure : {Procedure::Edit, Procedure::Generate, Procedure::NewImage}) {
        const Error e = assertFails(planRun(procedure, p, s.setup, host), refusal->kind);
        assertContains(e.message, refusal->says);
        // The same refusal as prepareRun's.
        const Error prepared = assertFails(prepareRun(procedure, p, s.setup, host), refusal->kind);
        assertEq(e.message, prepared.message);
    }
    g_assert_cmpint(host.pixelReads(), ==, 0);
}

// planRun plans what prepareRun then sends: the same region, size and target.
struct SamePlan {
    const char* name;
    Procedure procedure;
    std::optional<Rect> selection;
    const char* size;
    double context;
};

const SamePlan kSamePlans[] = {
    {"edit/selection", Procedure::Edit, Rect{100, 60, 80, 40}, "", -1},
    {"edit/selection-context", Procedure::Edit, Rect{20, 30, 200, 60}, "", 0.3},
    {"edit/selection-square", Procedure::Edit, Rect{100, 60, 80, 40}, "1024x1024", 0},
    {"edit/no-selection", Procedure::Edit, std::nullopt, "", -1},
    {"generate/selection", Procedure::Generate, Rect{50, 20, 60, 150}, "", -1},
    {"generate/canvas", Procedure::Generate, std::nullopt, "1536x1024", -1},
    {"new-image", Procedure::NewImage, std::nullopt, "1024x1536", -1},
};

void testPlanRunMatchesPrepareRun(gconstpointer data) {
    const auto* c = static_cast<const SamePlan*>(data);
    TestServer server;
    Setup s(server);
    FakeHost host(300, 200);
    if (c->selection) {
        host.select(*c->selection);
    }
    RunParameters p = editParameters();
    p.size = c->size;
    p.context = c->context;
    auto planned = planRun(c->procedure, p, s.setup, host);
    auto prepared = prepareRun(c->procedure, p, s.setup, host);
    if (!assertOk(planned) || !assertOk(prepared)) {
        return;
    }
    assertEq(rectText(planned->edit.region), rectText(prepared->plan.edit.region));
    assertEq(rectText(planned->edit.area), rectText(prepared->plan.edit.area));
    assertEq(formatSize(planned->edit.apiSize), formatSize(prepared->plan.edit.apiSize));
    assertEq(rectText(planned->target), rectText(prepared->plan.target));
    assertEq(planned->request.size, prepared->plan.request.size);
    g_assert_cmpint(planned->partialsPerImage, ==, prepared->plan.partialsPerImage);
    // And what planGeometry alone says, from the model and the geometry.
    auto geometry = host.inspect();
    if (c->procedure == Procedure::NewImage || !assertOk(geometry)) {
        return;
    }
    auto plan = planGeometry(c->procedure, *prepared->plan.service.caps, p, *geometry);
    if (assertOk(plan)) {
        assertEq(plan->size, prepared->plan.request.size);
        assertEq(rectText(plan->edit.region), rectText(prepared->plan.edit.region));
        assertEq(rectText(plan->target), rectText(prepared->plan.target));
    }
}

// A service that reads each request and never answers, and notes when the client closes the
// connection (what the peer of a cancelled request sees).
class HoldingServer {
  public:
    HoldingServer() : service_(adoptRef(g_socket_service_new())) {
        port_ = g_socket_listener_add_any_inet_port(G_SOCKET_LISTENER(service_.get()), nullptr,
                                                    nullptr);
        g_signal_connect(service_.get(), "incoming", G_CALLBACK(onIncoming), this);
        g_socket_service_start(service_.get());
    }
    ~HoldingServer() {
        g_cancellable_cancel(stop_.get());
        g_socket_service_stop(service_.get());
        drainMainContext(); // the reads end, cancelled, while the server is still here
    }
    HoldingServer(const HoldingServer&) = delete;
    HoldingServer& operator=(const HoldingServer&) = delete;
    HoldingServer(HoldingServer&&) = delete;
    HoldingServer& operator=(HoldingServer&&) = delete;

    [[nodiscard]] std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    // Runs the main context until `what` holds, for at most 5 s.
    static bool waitFor(const std::function<bool()>& what) {
        const gint64 until = g_get_monotonic_time() + (5 * G_USEC_PER_SEC);
        while (!what() && g_get_monotonic_time() < until) {
            g_main_context_iteration(nullptr, FALSE);
            g_usleep(1000);
        }
        return what();
    }
    // Until a whole request head has arrived.
    bool waitForRequest() const {
        return waitFor([this] { return received_.find("\r\n\r\n") != std::string::npos; });
    }
    // Until every connection made has been closed by the client.
    bool waitForClose() const {
        return waitFor([this] { return connections_ > 0 && closed_ == connections_; });
    }

  private:
    static gboolean onIncoming(GSocketService* /*service*/, GSocketConnection* connection,
                               GObject* /*source*/, gpointer data) {
        auto* self = static_cast<HoldingServer*>(data);
        ++self->connections_;
        self->held_.push_back(addRef(connection));
        self->readMore(connection);
        return TRUE;
    }
    void readMore(GSocketConnection* connection) {
        GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
        g_input_stream_read_async(in, buffer_.data(), buffer_.size(), G_PRIORITY_DEFAULT,
                                  stop_.get(), onRead, this);
    }
    static void onRead(GObject* source, GAsyncResult* result, gpointer data) {
        GErrorPtr error;
        const gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, outPtr(error));
        if (error && g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            return; // the server is going: `data` may be gone
        }
        auto* self = static_cast<HoldingServer*>(data);
        if (n <= 0) {
            ++self->closed_; // the end of the stream, or a reset
            return;
        }
        self->received_.append(self->buffer_.data(), static_cast<size_t>(n));
        for (const auto& c : self->held_) {
            if (g_io_stream_get_input_stream(G_IO_STREAM(c.get())) == G_INPUT_STREAM(source)) {
                self->readMore(c.get());
            }
        }
    }

    GRef<GSocketService> service_;
    GRef<GCancellable> stop_ = adoptRef(g_cancellable_new());
    guint16 port_ = 0;
    std::vector<GRef<GSocketConnection>> held_;
    std::array<char, 4096> buffer_{};
    std::string received_;
    int connections_ = 0;
    int closed_ = 0;
};

void testOperationDoneOnceFromMainLoop() {
    TestServer server;
    answerImages(server, 2);
    Setup s(server);
    FakeHost host(300, 200);
    RunParameters p = editParameters();
    p.n = 2;
    auto prepared = prepareRun(Procedure::Edit, p, s.setup, host);
    if (!assertOk(prepared)) {
        return;
    }
    OperationRecord record;
    const RunOperation operation(std::move(*prepared), s.setup, record.events(), record.onDone());
    g_assert_cmpint(record.done, ==, 0); // never inside the constructor
    iterateUntil(record.finished);
    drainMainContext();
    g_assert_cmpint(record.done, ==, 1);
    g_assert_cmpuint(record.progress.size(), ==, 1);
    g_assert_cmpuint(server.received().size(), ==, 1);
    if (assertOk(*record.result)) {
        g_assert_cmpuint((*record.result)->layers.size(), ==, 2);
    }
    // Nothing touched the image: the dialog inserts later.
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
    g_assert_cmpint(host.progressStarts(), ==, 0);
}

// A run that cannot start (planned, so with no request) still ends from the main loop.
void testOperationWithNothingToSendEndsFromMainLoop() {
    TestServer server;
    Setup s(server);
    FakeHost host(300, 200);
    auto planned = planRun(Procedure::Edit, editParameters(), s.setup, host);
    if (!assertOk(planned)) {
        return;
    }
    OperationRecord record;
    const RunOperation operation(PreparedRun{std::move(*planned), {}}, s.setup, record.events(),
                                 record.onDone());
    g_assert_cmpint(record.done, ==, 0);
    iterateUntil(record.finished);
    drainMainContext();
    g_assert_cmpint(record.done, ==, 1);
    assertFails(*record.result, ErrorKind::InvalidRequest);
    g_assert_cmpuint(server.received().size(), ==, 0);
}

void testOperationCancel() {
    HoldingServer held;
    TestServer unused;
    Setup s(unused, {{"OPENAI_BASE_URL", held.url("/v1")}, {"OPENAI_API_KEY", "sk-run-test"}});
    FakeHost host(300, 200);
    auto prepared = prepareRun(Procedure::Edit, editParameters(), s.setup, host);
    if (!assertOk(prepared)) {
        return;
    }
    OperationRecord record;
    RunOperation operation(std::move(*prepared), s.setup, record.events(), record.onDone());
    g_assert_true(held.waitForRequest());
    operation.cancel();
    g_assert_cmpint(record.done, ==, 0); // from the main loop, not inside cancel()
    if (!HoldingServer::waitFor([&] { return record.finished; })) {
        fail(IMAGEGEN_TEST_HERE, "the cancelled run did not end");
        return;
    }
    assertFails(*record.result, ErrorKind::Cancelled);
    g_assert_true(held.waitForClose());
    operation.cancel(); // a second cancel, after the end, does nothing
    drainMainContext();
    g_assert_cmpint(record.done, ==, 1);
    g_assert_cmpuint(record.progress.size(), ==, 0);
}

// A dialog closed mid-run: nothing runs after its RunOperation has gone, and the request ends.
void testOperationDestroyedWhileHeld() {
    HoldingServer held;
    TestServer unused;
    Setup s(unused, {{"OPENAI_BASE_URL", held.url("/v1")}, {"OPENAI_API_KEY", "sk-run-test"}});
    FakeHost host(300, 200);
    RunParameters p = editParameters();
    p.n = 2;
    p.model = "dall-e-3"; // one request per image: two requests
    auto prepared = prepareRun(Procedure::Generate, p, s.setup, host);
    if (!assertOk(prepared)) {
        return;
    }
    OperationRecord record;
    auto operation = std::make_unique<RunOperation>(std::move(*prepared), s.setup, record.events(),
                                                    record.onDone());
    g_assert_true(held.waitForRequest());
    operation.reset();
    drainMainContext();
    g_assert_cmpint(record.done, ==, 0);
    g_assert_cmpuint(record.progress.size(), ==, 0);
    g_assert_true(held.waitForClose());
    drainMainContext();
    g_assert_cmpint(record.done, ==, 0);
}

// The dialog's way: plan and read, start the operation without waiting, keep its layers, insert
// them later.
Result<Inserted> runAsTheDialogDoes(Procedure procedure, const RunParameters& p, Setup& s,
                                    FakeHost& host) {
    auto prepared = prepareRun(procedure, p, s.setup, host);
    if (!prepared) {
        return prepared.error();
    }
    OperationRecord record;
    const RunOperation operation(std::move(*prepared), s.setup, record.events(), record.onDone());
    iterateUntil(record.finished);
    if (!*record.result) {
        return record.result->error();
    }
    return insertResults(operation.plan(), (*record.result)->layers, host);
}

// The same parameters, once from Script-Fu and once from the dialog, into two images alike.
struct SameInsert {
    const char* name;
    Procedure procedure;
    int n;
    std::optional<Rect> selection;
    double feather;
};

const SameInsert kSameInserts[] = {
    {"edit/selection-feathered", Procedure::Edit, 1, Rect{100, 60, 80, 40}, 6},
    {"edit/no-selection-two", Procedure::Edit, 2, std::nullopt, -1},
    {"generate/selection-three", Procedure::Generate, 3, Rect{30, 20, 90, 150}, -1},
    {"new-image", Procedure::NewImage, 1, std::nullopt, -1},
};

void testDialogInsertsWhatScriptFuInserts(gconstpointer data) {
    const auto* c = static_cast<const SameInsert*>(data);
    TestServer server;
    answerGradients(server, c->n);
    Setup s(server);
    FakeHost script(300, 200);
    FakeHost dialog(300, 200);
    for (FakeHost* host : {&script, &dialog}) {
        host->fillWithNoise();
        if (c->selection) {
            host->select(*c->selection);
        }
    }
    RunParameters p = editParameters("a \"quoted\" kite");
    p.n = c->n;
    p.feather = c->feather;
    auto viaScript = runProcedure(c->procedure, p, s.setup, script, nullptr);
    auto viaDialog = runAsTheDialogDoes(c->procedure, p, s, dialog);
    if (!assertOk(viaScript) || !assertOk(viaDialog)) {
        return;
    }
    if (assertSize(server.received(), 2)) {
        assertEq(server.received()[1].path, server.received()[0].path);
    }
    g_assert_cmpuint(viaDialog->layers.size(), ==, viaScript->layers.size());
    assertSameInsert(dialog, script);
    if (!assertSize(script.undoSteps(), 1) ||
        !assertSize(script.undoSteps()[0], static_cast<size_t>(c->n))) {
        return;
    }
    assertContains(dialog.undoSteps()[0][0].parasite, "\"time\":1800000000");
}

// Generative Expand.
RunParameters expandParameters(Margins m, const char* prompt = "the sea") {
    RunParameters p = editParameters(prompt);
    p.left = m.left;
    p.top = m.top;
    p.right = m.right;
    p.bottom = m.bottom;
    return p;
}

// The original's pixels, now at (left, top) of the grown layer, exactly as they were.
bool originalKept(const FakeHost& host, const RgbaImage& before, Margins m) {
    for (int y = 0; y < before.height; ++y) {
        if (!std::equal(before.at(0, y), before.at(0, y) + static_cast<ptrdiff_t>(before.width) * 4,
                        host.layer().at(m.left, y + m.top))) {
            return false;
        }
    }
    return true;
}

// Every border pixel of the layer is shown by its mask and painted (opaque); the original is
// hidden.
void assertBorderPainted(const NewLayer& layer, Rect original) {
    int wrong = 0;
    for (int y = 0; y < layer.bounds.height; ++y) {
        for (int x = 0; x < layer.bounds.width; ++x) {
            const bool inside =
                x >= original.x && y >= original.y && x < original.right() && y < original.bottom();
            const uint8_t m = layer.mask[static_cast<size_t>(y) * layer.bounds.width + x];
            const bool ok = inside ? m == 0 : m == 255 && layer.pixels.at(x, y)[3] == 255;
            wrong += ok ? 0 : 1;
        }
    }
    g_assert_cmpint(wrong, ==, 0);
}

struct ExpandCase {
    const char* name;
    Size canvas;
    Margins margins;
    int n;
    size_t requests;
};

const ExpandCase kExpandCases[] = {
    {"one-side", {300, 200}, {0, 0, 120, 0}, -1, 1},
    {"four-sides", {300, 200}, {40, 30, 50, 60}, -1, 1},
    {"wide-border", {200, 100}, {0, 0, 2000, 0}, -1, 3},
    {"two-alternatives", {300, 200}, {0, 0, 1200, 0}, 2, 4},
};

void testExpand(gconstpointer data) {
    const auto* c = static_cast<const ExpandCase*>(data);
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(c->canvas.width, c->canvas.height);
    host.fillWithNoise();
    const RgbaImage before = host.layer();
    RunParameters p = expandParameters(c->margins);
    p.n = c->n;
    auto inserted = run(Procedure::Expand, p, s, host);
    if (!assertOk(inserted)) {
        return;
    }
    const Margins m = c->margins;
    const Size grown{c->canvas.width + m.left + m.right, c->canvas.height + m.top + m.bottom};
    g_assert_cmpint(host.canvas().width, ==, grown.width);
    g_assert_cmpint(host.canvas().height, ==, grown.height);
    g_assert_true(originalKept(host, before, m));
    // One undo step: the canvas and every alternative's layer.
    const size_t count = c->n > 0 ? static_cast<size_t>(c->n) : 1;
    if (!assertSize(host.undoSteps(), 1) || !assertSize(host.undoSteps()[0], count)) {
        return;
    }
    g_assert_cmpuint(host.expansions().size(), ==, 1);
    g_assert_cmpuint(inserted->layers.size(), ==, count);
    g_assert_cmpuint(host.groupNames().size(), ==, count > 1 ? 1 : 0);
    for (const NewLayer& layer : host.undoSteps()[0]) {
        g_assert_true(layer.bounds == (Rect{0, 0, grown.width, grown.height}));
        assertBorderPainted(layer, {m.left, m.top, c->canvas.width, c->canvas.height});
        assertContains(layer.parasite, "\"prompt\":\"the sea\"");
    }
    g_assert_cmpuint(server.received().size(), ==, c->requests);
    for (const ReceivedRequest& req : server.received()) {
        assertEq(req.path, "/v1/images/edits");
        assertContains(req.body, "name=\"mask\"");
        assertContains(req.body, "1024x1024");
    }
    g_assert_cmpint(host.progressOpen(), ==, 0);
}

// A cancel after the tiles, while the layers are made: canvas and pixels as they were.
void testExpandCancelLeavesTheCanvas() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    const RgbaImage before = host.layer();
    const CancelCheck cancelled = [&host] {
        return host.layersMade() > 0;
    };
    auto inserted = runProcedure(Procedure::Expand, expandParameters({0, 0, 100, 0}), s.setup, host,
                                 nullptr, cancelled);
    assertFails(inserted, ErrorKind::Cancelled);
    g_assert_cmpint(host.canvas().width, ==, 300);
    g_assert_cmpint(host.canvas().height, ==, 200);
    g_assert_true(host.expansions().empty());
    assertUntouched(host, before);
}

// A service error on the second tile: nothing inserted, the canvas as it was.
void testExpandErrorOnALaterTileLeavesTheCanvas() {
    TestServer server;
    server.answer(
        {[](SoupServerMessage* msg, const ReceivedRequest&) {
             TestServer::respond(msg, 200, "application/json", imagesAnswer({1024, 1024}, 1));
         },
         [](SoupServerMessage* msg, const ReceivedRequest&) {
             TestServer::respond(msg, 400, "application/json",
                                 R"({"error":{"message":"bad","type":"invalid_request_error"}})");
         }});
    Setup s(server);
    FakeHost host(200, 100);
    const RgbaImage before = host.layer();
    auto inserted = run(Procedure::Expand, expandParameters({0, 0, 2000, 0}), s, host);
    g_assert_false(inserted.ok());
    g_assert_cmpuint(server.received().size(), ==, 2);
    g_assert_cmpint(host.canvas().width, ==, 200);
    assertUntouched(host, before);
}

struct ExpandRefusal {
    const char* name;
    Margins margins;
    const char* model;
    const char* says;
    const char* options = "";
    int n = -1;
    Size canvas{300, 200};
};

const ExpandRefusal kExpandRefusals[] = {
    {"no-margin", {}, "gpt-image-1", "every margin is 0"},
    {"negative-margin", {0, -10, 50, 0}, "gpt-image-1", "cannot be negative"},
    // A 1-pixel border once cost two full 1024x1024 tiles.
    {"one-pixel-border",
     {0, 0, 0, 1},
     "gpt-image-1",
     "the bottom margin is 1 pixel: a border narrower than 16 pixels is not worth a request"},
    {"fifteen-pixel-border", {15, 0, 64, 0}, "gpt-image-1", "the left margin is 15 pixels"},
    {"past-gimp-largest", {0, 0, 524288, 0}, "gpt-image-1", "past GIMP's largest image"},
    {"too-many-tiles", {0, 0, 40000, 40000}, "gpt-image-1", "expand in smaller steps"},
    {"model-without-edits", {0, 0, 100, 0}, "dall-e-3", "does not edit images"},
    {"references",
     {0, 0, 100, 0},
     "gpt-image-1",
     "references are not used",
     R"({"references":[5]})"},
    // Ten alternatives of a 4216x4200 canvas would hold more canvas copies than a run may.
    {"too-much-memory", {0, 0, 16, 0}, "gpt-image-1", "needs more memory", "", 10, {4200, 4200}},
};

void testExpandRefused(gconstpointer data) {
    const auto* r = static_cast<const ExpandRefusal*>(data);
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(r->canvas.width, r->canvas.height);
    const RgbaImage before = host.layer();
    RunParameters p = expandParameters(r->margins);
    p.model = r->model;
    p.options = optionsOf(r->options);
    p.n = r->n;
    const Error e = assertFails(run(Procedure::Expand, p, s, host), ErrorKind::InvalidRequest);
    assertContains(e.message, r->says);
    g_assert_cmpuint(server.received().size(), ==, 0);
    g_assert_cmpint(host.pixelReads(), ==, 0);
    assertUntouched(host, before);
}

// An expand as the dialog runs it: the operation to its end; the layers, not yet inserted, and
// the plan they are inserted with.
Result<std::vector<NewLayer>> expandAsTheDialogDoes(PreparedRun run, Setup& s,
                                                    std::shared_ptr<const RunPlan>& plan) {
    OperationRecord record;
    const RunOperation operation(std::move(run), s.setup, record.events(), record.onDone());
    plan = operation.sharedPlan();
    iterateUntil(record.finished);
    if (!*record.result) {
        return record.result->error();
    }
    return std::move((*record.result)->layers);
}

// The dialog's expand (the operation kept, then insertResults) sends what a Script-Fu call sends
// and inserts the same pixels: three tiles of a wide border, answered with gradients that differ by
// position.
void testExpandKeptMatchesTheScriptRun() {
    const Margins margins{0, 0, 2000, 0};
    TestServer scriptServer;
    answerGradients(scriptServer, 1);
    Setup scriptSetup(scriptServer);
    FakeHost script(200, 100);
    script.fillWithNoise();
    if (!assertOk(run(Procedure::Expand, expandParameters(margins), scriptSetup, script))) {
        return;
    }

    TestServer server;
    answerGradients(server, 1);
    Setup s(server);
    FakeHost dialog(200, 100);
    dialog.fillWithNoise();
    const RgbaImage before = dialog.layer();
    auto prepared = prepareRun(Procedure::Expand, expandParameters(margins), s.setup, dialog);
    if (!assertOk(prepared)) {
        return;
    }
    OperationRecord record;
    const RunOperation operation(std::move(*prepared), s.setup, record.events(), record.onDone());
    g_assert_cmpint(record.done, ==, 0); // never inside the constructor
    g_assert_cmpuint(operation.stepCount(), ==, 3);
    iterateUntil(record.finished);
    drainMainContext();
    g_assert_cmpint(record.done, ==, 1);
    if (!assertOk(*record.result)) {
        return;
    }
    // Nothing touched the image while the tiles ran: the dialog inserts later.
    g_assert_cmpuint(dialog.undoSteps().size(), ==, 0);
    g_assert_cmpint(dialog.canvas().width, ==, 200);
    const std::vector<std::pair<size_t, size_t>> tiles{{0, 3}, {1, 3}, {2, 3}, {3, 3}};
    g_assert_true(record.progress == tiles);
    g_assert_cmpuint(server.received().size(), ==, scriptServer.received().size());
    if (!assertOk(insertResults(operation.plan(), (*record.result)->layers, dialog))) {
        return;
    }
    g_assert_cmpint(dialog.canvas().width, ==, 2200);
    g_assert_true(originalKept(dialog, before, margins));
    if (!assertSize(dialog.undoSteps(), 1) || !assertSize(script.undoSteps(), 1)) {
        return;
    }
    g_assert_true(dialog.undoSteps()[0][0].pixels.pixels == script.undoSteps()[0][0].pixels.pixels);
    g_assert_true(dialog.undoSteps()[0][0].mask == script.undoSteps()[0][0].mask);
}

// The dialog may insert a second result of the same expand after the first: the canvas grows
// once, and the second layer goes into the canvas already grown.
void testExpandSecondInsertDoesNotGrowAgain() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    RunParameters p = expandParameters({0, 0, 120, 0});
    p.n = 2;
    auto prepared = prepareRun(Procedure::Expand, p, s.setup, host);
    if (!assertOk(prepared)) {
        return;
    }
    std::shared_ptr<const RunPlan> plan;
    auto result = expandAsTheDialogDoes(std::move(*prepared), s, plan);
    if (!assertOk(result) || !assertSize(*result, 2)) {
        return;
    }
    const std::vector<NewLayer>& layers = *result;
    if (!assertOk(insertResults(*plan, {layers[0]}, host))) {
        return;
    }
    // Unless the caller says that this run grew the canvas, a canvas of the grown size is not
    // taken as its own.
    const Error e = assertFails(insertResults(*plan, {layers[1]}, host), ErrorKind::InvalidRequest);
    assertContains(e.message, "size changed since these results were made");
    if (!assertOk(insertResults(*plan, {layers[1]}, host, {}, true))) {
        return;
    }
    g_assert_cmpint(host.canvas().width, ==, 420);
    g_assert_cmpuint(host.expansions().size(), ==, 1);
    g_assert_cmpuint(host.undoSteps().size(), ==, 2);
}

// Two expands to the same size with the picture in different places: the second cannot go into
// the canvas the first grew, where its border would cover the picture.
void testExpandOfTheSameSizeElsewhereIsRefused() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    std::vector<std::shared_ptr<const RunPlan>> runs;
    std::vector<std::vector<NewLayer>> results;
    for (const Margins m : {Margins{100, 0, 0, 0}, Margins{0, 0, 100, 0}}) {
        auto prepared = prepareRun(Procedure::Expand, expandParameters(m), s.setup, host);
        if (!assertOk(prepared)) {
            return;
        }
        std::shared_ptr<const RunPlan> plan;
        auto result = expandAsTheDialogDoes(std::move(*prepared), s, plan);
        if (!assertOk(result)) {
            return;
        }
        runs.push_back(plan);
        results.push_back(std::move(*result));
    }
    // As the dialog marks a run whose insert grew the canvas.
    if (!assertOk(insertResults(*runs[0], results[0], host, {}, true))) {
        return;
    }
    assertFails(insertResults(*runs[1], results[1], host), ErrorKind::InvalidRequest);
    g_assert_cmpuint(host.undoSteps().size(), ==, 1);
    g_assert_cmpint(host.canvas().width, ==, 400);
}

// `done` may destroy the operation; and one destroyed before its first step sends nothing.
void testOperationDestroyedByDoneOrBeforeItsFirstStep() {
    TestServer server;
    answerImages(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    const RunParameters p = expandParameters({0, 0, 100, 0});
    auto prepared = prepareRun(Procedure::Expand, p, s.setup, host);
    auto again = prepareRun(Procedure::Expand, p, s.setup, host);
    if (!assertOk(prepared) || !assertOk(again)) {
        return;
    }
    int done = 0;
    std::unique_ptr<RunOperation> operation;
    operation = std::make_unique<RunOperation>(std::move(*prepared), s.setup, RunEvents{},
                                               [&](const Result<RunOutcome>& r) {
                                                   ++done;
                                                   g_assert_true(r.ok());
                                                   operation.reset();
                                               });
    while (operation) { // `done` resets it
        g_main_context_iteration(nullptr, TRUE);
    }
    drainMainContext();
    g_assert_cmpint(done, ==, 1);
    g_assert_cmpuint(server.received().size(), ==, 1);

    auto early = std::make_unique<RunOperation>(std::move(*again), s.setup, RunEvents{},
                                                [&](const Result<RunOutcome>&) { ++done; });
    early.reset();
    drainMainContext();
    g_assert_cmpint(done, ==, 1);
    g_assert_cmpuint(server.received().size(), ==, 1);
}

void testExpandOperationCancel() {
    HoldingServer held;
    TestServer unused;
    Setup s(unused, {{"OPENAI_BASE_URL", held.url("/v1")}, {"OPENAI_API_KEY", "sk-run-test"}});
    FakeHost host(300, 200);
    const RgbaImage before = host.layer();
    auto prepared = prepareRun(Procedure::Expand, expandParameters({0, 0, 100, 0}), s.setup, host);
    if (!assertOk(prepared)) {
        return;
    }
    OperationRecord record;
    RunOperation operation(std::move(*prepared), s.setup, record.events(), record.onDone());
    g_assert_true(held.waitForRequest());
    operation.cancel();
    g_assert_cmpint(record.done, ==, 0); // from the main loop, not inside cancel()
    if (!HoldingServer::waitFor([&] { return record.finished; })) {
        fail(IMAGEGEN_TEST_HERE, "the cancelled expand did not end");
        return;
    }
    assertFails(*record.result, ErrorKind::Cancelled);
    g_assert_true(held.waitForClose());
    drainMainContext();
    g_assert_cmpint(record.done, ==, 1);
    assertUntouched(host, before);
}

// A dialog closed mid-expand: nothing runs after its operation has gone, and the tile's request
// ends.
void testExpandOperationDestroyedWhileHeld() {
    HoldingServer held;
    TestServer unused;
    Setup s(unused, {{"OPENAI_BASE_URL", held.url("/v1")}, {"OPENAI_API_KEY", "sk-run-test"}});
    FakeHost host(300, 200);
    auto prepared = prepareRun(Procedure::Expand, expandParameters({0, 0, 100, 0}), s.setup, host);
    if (!assertOk(prepared)) {
        return;
    }
    OperationRecord record;
    auto operation = std::make_unique<RunOperation>(std::move(*prepared), s.setup, record.events(),
                                                    record.onDone());
    g_assert_true(held.waitForRequest());
    operation.reset();
    g_assert_true(held.waitForClose());
    drainMainContext();
    g_assert_cmpint(record.done, ==, 0);
}

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/run/edit/one-masked-layer-one-undo-step",
                    testEditInsertsOneMaskedLayerAsOneUndoStep);
    g_test_add_func("/run/edit/no-selection-no-mask", testEditWithoutSelectionSendsNoMask);
    for (const char* source : {"", "layer", "visible"}) {
        g_test_add_data_func(
            (std::string("/run/edit/source/") + (*source ? source : "default")).c_str(), source,
            testEditSendsTheSourceAsked);
    }
    g_test_add_func("/run/generate/one-group-one-undo-step",
                    testGenerateSeveralGoIntoOneGroupAsOneStep);
    g_test_add_func("/run/generate/dall-e-3-one-request-per-image",
                    testDallE3SendsOneRequestPerImage);
    g_test_add_func("/run/new-image/result-size", testNewImageTakesTheResultsSize);
    for (const Refusal& r : kRefusals) {
        const std::string path = std::string("/run/refused-before-sending/") + r.name;
        g_test_add_data_func(path.c_str(), &r, testRefusedBeforeSending);
    }
    for (const ServiceFailure& f : kServiceFailures) {
        const std::string path = std::string("/run/service-error/") + f.name;
        g_test_add_data_func(path.c_str(), &f, testServiceErrorLeavesTheImage);
    }
    g_test_add_func("/run/cancel/while-waiting", testCancelWhileWaitingInsertsNothing);
    g_test_add_func("/run/result-far-larger-than-asked", testResultFarLargerThanAskedIsRefused);
    for (const MemoryCase& c : kMemoryCases) {
        g_test_add_data_func((std::string("/run/within-memory/") + c.name).c_str(), &c,
                             testWithinMemory);
    }
    g_test_add_func("/run/steps-apart", testStepsCanBeTakenApart);
    for (const DriftCase& c : kDriftCases) {
        g_test_add_data_func((std::string("/run/edit/colour-match/") + c.name).c_str(), &c,
                             testEditColourMatch);
    }
    for (const GeometryCase& c : kGeometryCases) {
        g_test_add_data_func((std::string("/run/plan-geometry/") + c.name).c_str(), &c,
                             testPlanGeometry);
    }
    for (const NamedProcedure& procedure : kProcedures) {
        g_test_add_data_func(
            (std::string("/run/plan-geometry/unoffered-size/") + procedure.name).c_str(),
            &procedure, testPlanGeometryRefusesAnUnofferedSize);
    }
    g_test_add_func("/run/plan-run/reads-no-pixel", testPlanRunReadsNoPixel);
    for (const PlanRefusal& r : kPlanRefusals) {
        g_test_add_data_func((std::string("/run/plan-run/refused/") + r.name).c_str(), &r,
                             testPlanRunRefuses);
    }
    for (const SamePlan& c : kSamePlans) {
        g_test_add_data_func((std::string("/run/plan-run/same-as-prepare/") + c.name).c_str(), &c,
                             testPlanRunMatchesPrepareRun);
    }
    g_test_add_func("/run/operation/done-once-from-main-loop", testOperationDoneOnceFromMainLoop);
    g_test_add_func("/run/operation/nothing-to-send",
                    testOperationWithNothingToSendEndsFromMainLoop);
    g_test_add_func("/run/operation/cancel", testOperationCancel);
    g_test_add_func("/run/operation/destroyed-while-held", testOperationDestroyedWhileHeld);
    for (const SameInsert& c : kSameInserts) {
        g_test_add_data_func(
            (std::string("/run/operation/kept-then-inserted-as-script-fu/") + c.name).c_str(), &c,
            testDialogInsertsWhatScriptFuInserts);
    }
    g_test_add_func("/run/cancel/before-sending", testCancelBeforeSending);
    g_test_add_func("/run/cancel/during-upload", testCancelDuringUpload);
    g_test_add_func("/run/cancel/while-streaming", testCancelWhileStreaming);
    for (const LateCancel& late : kLateCancels) {
        g_test_add_data_func((std::string("/run/cancel/") + late.name).c_str(), &late,
                             testLateCancel);
    }
    for (const ExpandCase& c : kExpandCases) {
        g_test_add_data_func((std::string("/run/expand/") + c.name).c_str(), &c, testExpand);
    }
    g_test_add_func("/run/expand/cancel-leaves-the-canvas", testExpandCancelLeavesTheCanvas);
    g_test_add_func("/run/expand/error-on-a-later-tile",
                    testExpandErrorOnALaterTileLeavesTheCanvas);
    g_test_add_func("/run/expand/kept-matches-the-script-run", testExpandKeptMatchesTheScriptRun);
    g_test_add_func("/run/expand/second-insert-does-not-grow-again",
                    testExpandSecondInsertDoesNotGrowAgain);
    g_test_add_func("/run/expand/operation-cancel", testExpandOperationCancel);
    g_test_add_func("/run/expand/same-size-elsewhere-refused",
                    testExpandOfTheSameSizeElsewhereIsRefused);
    g_test_add_func("/run/operation/destroyed-by-done-or-before-its-first-step",
                    testOperationDestroyedByDoneOrBeforeItsFirstStep);
    g_test_add_func("/run/expand/operation-destroyed-while-held",
                    testExpandOperationDestroyedWhileHeld);
    for (const ExpandRefusal& r : kExpandRefusals) {
        g_test_add_data_func((std::string("/run/expand/refused/") + r.name).c_str(), &r,
                             testExpandRefused);
    }
    return g_test_run();
}
