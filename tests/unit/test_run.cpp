// Each procedure's run through the core, with an image editor in memory (FakeHost) and a
// service on a loopback SoupServer: what is sent, what is inserted and as how many undo steps,
// every refusal before anything is sent, and service errors that leave the image untouched.
#include "core/codec.h"
#include "core/run.h"
#include "fake_host.h"
#include "support/fixtures.h"
#include "test_server.h"
#include "test_util.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>

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
        Size size{1024, 1024};
        const size_t at = req.body.find("1536x1024");
        if (at != std::string::npos) {
            size = {1536, 1024};
        } else if (req.body.find("1024x1536") != std::string::npos) {
            size = {1024, 1536};
        }
        TestServer::respond(msg, 200, "application/json", imagesAnswer(size, count));
    });
}

// The setup of a run against `server`, through the OpenAI SDK's environment variables.
struct Setup {
    explicit Setup(const TestServer& server, std::map<std::string, std::string> vars = {}) {
        env = std::move(vars);
        if (env.empty()) {
            env = {{"OPENAI_BASE_URL", server.url("/v1")}, {"OPENAI_API_KEY", "sk-run-test"}};
        }
        setup.catalog = &catalog();
        setup.env = [this](const char* name) -> const char* {
            auto it = env.find(name);
            return it == env.end() ? nullptr : it->second.c_str();
        };
        setup.clock = [] {
            return int64_t{1'800'000'000};
        };
        setup.http.maxRetries = 0;
    }
    std::map<std::string, std::string> env;
    RunSetup setup;
};

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
};

const Refusal kRefusals[] = {
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
    {"options-not-json", ErrorKind::InvalidRequest, "JSON object", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.options = "[1,2";
     }},
    {"unknown-option", ErrorKind::InvalidRequest, "colour", false,
     [](RunParameters& p, Setup&, FakeHost&) {
         p.options = R"({"colour":"red"})";
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
         p.options = R"({"references":[7]})";
     }},
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
    const Error e = assertFails(run(Procedure::Edit, p, s, host), refusal->kind);
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
    p.options = R"({"stream":true,"partial_images":1})";
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
    g_assert_cmpuint(prepared->requests.size(), ==, 1);
    g_assert_cmpuint(server.received().size(), ==, 0);
    auto answer = sendAndWait(*prepared, s.setup, nullptr, host);
    if (!assertOk(answer)) {
        return;
    }
    auto layers = layersFromAnswers(*prepared, *answer, 42);
    if (!assertOk(layers)) {
        return;
    }
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
    auto inserted = insertResults(*prepared, {layers->at(1)}, host);
    if (!assertOk(inserted)) {
        return;
    }
    g_assert_cmpuint(host.undoSteps().size(), ==, 1);
    g_assert_cmpuint(host.undoSteps()[0].size(), ==, 1);
}

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/run/edit/one-masked-layer-one-undo-step",
                    testEditInsertsOneMaskedLayerAsOneUndoStep);
    g_test_add_func("/run/edit/no-selection-no-mask", testEditWithoutSelectionSendsNoMask);
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
    g_test_add_func("/run/steps-apart", testStepsCanBeTakenApart);
    g_test_add_func("/run/cancel/before-sending", testCancelBeforeSending);
    g_test_add_func("/run/cancel/during-upload", testCancelDuringUpload);
    g_test_add_func("/run/cancel/while-streaming", testCancelWhileStreaming);
    for (const LateCancel& late : kLateCancels) {
        g_test_add_data_func((std::string("/run/cancel/") + late.name).c_str(), &late,
                             testLateCancel);
    }
    return g_test_run();
}
