// What the tests of whole runs share (test_run, test_run_session, test_service_text): the setup of
// a run against a loopback server, and a service that answers with gradients of the size asked
// for.
#pragma once

#include "core/pixels/codec.h"
#include "core/run/run.h"
#include "core/util/glib_ptr.h"
#include "fake_host.h"
#include "test_server.h"
#include "test_util.h"

#include <map>
#include <string>

namespace imagegen::test {

// The setup of a run against `server`, through the OpenAI SDK's environment variables (or the
// variables given), with a fixed clock and no retries.
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
    Setup(const Setup&) = delete;
    Setup& operator=(const Setup&) = delete;
    Setup(Setup&&) = delete;
    Setup& operator=(Setup&&) = delete;
    ~Setup() = default;

    // A saved connection to a compatible server at `endpoint`, as the Connections window keeps
    // one: the credential is found as a run starts (the keyring, the Azure CLI).
    void saveConnection(const std::string& name, const std::string& endpoint, AuthMethod auth) {
        Connection c;
        c.name = name;
        c.kind = ConnectionKind::Compatible;
        c.endpoint = endpoint;
        c.auth = auth;
        setup.connections.put(c);
    }

    std::map<std::string, std::string> env;
    RunSetup setup;
};

// Options as Script-Fu gives them, parsed as the procedure's arguments are; JSON that does not
// parse fails the test here.
inline Options optionsOf(const char* json) {
    auto options = parseOptions(json);
    return assertOk(options) ? *options : Options{};
}

// The size a request asks for, as the emulator reads it: one of the three fixed sizes.
inline Size sizeAsked(const ReceivedRequest& req) {
    if (req.body.find("1536x1024") != std::string::npos) {
        return {1536, 1024};
    }
    if (req.body.find("1024x1536") != std::string::npos) {
        return {1024, 1536};
    }
    return {1024, 1024};
}

// An answer of `count` images of `size`, image i a gradient with blue 60*i and an alpha that
// varies, so that resampling and placing each result shows in its pixels; each with its revised
// prompt, and the answer with its token usage.
inline std::string gradientsAnswer(Size size, int count) {
    std::string data;
    for (int i = 0; i < count; ++i) {
        RgbaImage image(size.width, size.height);
        for (int y = 0; y < size.height; ++y) {
            for (int x = 0; x < size.width; ++x) {
                uint8_t* px = image.at(x, y);
                px[0] = static_cast<uint8_t>(x * 255 / size.width);
                px[1] = static_cast<uint8_t>(y * 255 / size.height);
                px[2] = static_cast<uint8_t>(60 * i);
                px[3] = static_cast<uint8_t>(255 - ((x + y) % 64));
            }
        }
        auto png = encodePng(image);
        const GCharPtr b64(
            g_base64_encode(reinterpret_cast<const guchar*>(png->data()), png->size()));
        data += std::string(i > 0 ? "," : "") + R"({"b64_json":")" + b64.get() +
                R"(","revised_prompt":"revised )" + std::to_string(i) + "\"}";
    }
    return R"({"created":1,"data":[)" + data +
           R"(],"usage":{"total_tokens":30,"input_tokens":10,"output_tokens":20}})";
}

// A service that answers every request with `count` gradients of the size it asked for.
inline void answerGradients(TestServer& server, int count) {
    server.answerAlways([count](SoupServerMessage* msg, const ReceivedRequest& req) {
        TestServer::respond(msg, 200, "application/json", gradientsAnswer(sizeAsked(req), count));
    });
}

// Two layers made alike: place, pixels, mask, name, visibility and parasite.
inline void assertSameLayer(const NewLayer& a, const NewLayer& b) {
    g_assert_true(a.bounds == b.bounds);
    g_assert_cmpint(a.pixels.width, ==, b.pixels.width);
    g_assert_cmpint(a.pixels.height, ==, b.pixels.height);
    g_assert_true(a.pixels.pixels == b.pixels.pixels);
    g_assert_true(a.mask == b.mask);
    assertEq(a.name, b.name);
    g_assert_true(a.visible == b.visible);
    assertEq(a.parasite, b.parasite);
}

// Two images that took the same insert: the same new image or canvas, group names, one undo step
// each of the same layers, and the source layer as it was in both.
inline void assertSameInsert(const FakeHost& got, const FakeHost& expected) {
    g_assert_true(got.createdCanvas() == expected.createdCanvas());
    g_assert_true(got.groupNames() == expected.groupNames());
    g_assert_true(got.canvas() == expected.canvas());
    if (!assertSize(got.undoSteps(), 1) || !assertSize(expected.undoSteps(), 1) ||
        !assertSize(got.undoSteps()[0], expected.undoSteps()[0].size())) {
        return;
    }
    for (size_t i = 0; i < expected.undoSteps()[0].size(); ++i) {
        assertSameLayer(got.undoSteps()[0][i], expected.undoSteps()[0][i]);
    }
    g_assert_true(got.layer().pixels == expected.layer().pixels);
}

} // namespace imagegen::test
