// How long the main loop stands still while a run's Entra ID token is fetched, now (the lookup on
// a worker thread) against before (the synchronous call the main loop made). The Azure CLI is a
// stand-in that sleeps 1 s and prints a token; the service is a loopback SoupServer. The main loop
// ticks a 10 ms timeout, and the figure is the longest gap between ticks from the Generate until
// the request reaches the server (which needs the token). No GIMP, no network.
//
//     imagegen-bench-credential [ROUNDS]
//
// Lines starting "row " are for tools/benchmark: row <key> <value>.
#include "core/run/run_session.h"
#include "core/service/service.h"
#include "unit/fake_host.h"
#include "unit/run_fixtures.h"
#include "unit/temp_dir.h"
#include "unit/test_server.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

namespace {

double nowMs() {
    return static_cast<double>(g_get_monotonic_time()) / 1000.0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// The longest gap between the ticks of a 10 ms timeout, from begin() on.
struct Ticks {
    double last = 0;
    double longest = 0;
    SourceId source;

    void begin() {
        last = nowMs();
        longest = 0;
        source.reset(g_timeout_add(10, &Ticks::onTick, this));
    }
    void mark() {
        const double now = nowMs();
        longest = std::max(longest, now - last);
        last = now;
    }
    static gboolean onTick(gpointer self) {
        static_cast<Ticks*>(self)->mark();
        return G_SOURCE_CONTINUE;
    }
};

struct Round {
    double stallMs = 0;
    double lookupMs = 0; // the synchronous call alone (before only)
};

enum class Way { Now, Before, Floor };

// One Generate with a token not yet fetched. Before: the credential is fetched by the call the
// main loop made before (resolveService, waiting), then the run starts with it cached. Floor: the
// token is in the environment, so nothing is looked up: what the rest of the start costs.
Round measure(Way way, const std::string& az) {
    TestServer server;
    bool arrived = false;
    Ticks ticks;
    server.answerAlways([&](SoupServerMessage* msg, const ReceivedRequest& /*req*/) {
        ticks.mark(); // the request is here: the token was found
        arrived = true;
        TestServer::respond(msg, 400, "application/json",
                            R"({"error":{"message":"enough","type":"invalid_request_error"}})");
    });
    Setup s(server, {{way == Way::Floor ? "AZURE_OPENAI_AD_TOKEN" : "IMAGEGEN_BENCH", "1"}});
    s.saveConnection("entra", server.url("/v1"), AuthMethod::EntraId);
    s.setup.tokens = std::make_shared<EntraTokenSource>(std::vector<std::string>{az});
    FakeHost host(300, 200);
    bool done = false;
    RunSession session(Procedure::Edit, s.setup,
                       {.onPartial = {}, .onProgress = {}, .onDone = [&done](auto) {
                            done = true;
                        }});
    RunParameters p;
    p.prompt = "a red balloon";
    p.model = "gpt-image-1";
    Round round;
    ticks.begin();
    if (way == Way::Before) {
        const double t0 = nowMs();
        ServiceSources sources{s.setup.catalog, &s.setup.connections, s.setup.env,
                               s.setup.tokens.get(), s.setup.nowUnix()};
        if (!resolveService(p.connection, p.model, sources)) {
            std::fprintf(stderr, "the synchronous lookup failed\n");
            std::exit(1);
        }
        round.lookupMs = nowMs() - t0;
    }
    if (!session.start(p, host)) {
        std::fprintf(stderr, "the run did not start\n");
        std::exit(1);
    }
    while (!arrived || !done) {
        g_main_context_iteration(nullptr, TRUE);
    }
    round.stallMs = ticks.longest;
    return round;
}

int run(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
    const TempDir dir;
    const std::string az = dir.file("az");
    const char* script =
        "#!/bin/sh\nsleep 1\nprintf '{\"accessToken\":\"bench\",\"expires_on\":2000000000}'\n";
    if (!g_file_set_contents(az.c_str(), script, -1, nullptr) || g_chmod(az.c_str(), 0755) != 0) {
        std::fprintf(stderr, "cannot write the az stand-in\n");
        return 1;
    }
    std::vector<double> now;
    std::vector<double> before;
    std::vector<double> lookup;
    std::vector<double> floor;
    for (int i = 0; i < rounds; ++i) { // alternately, so that the machine's load falls on all
        now.push_back(measure(Way::Now, az).stallMs);
        const Round sync = measure(Way::Before, az);
        before.push_back(sync.stallMs);
        lookup.push_back(sync.lookupMs);
        floor.push_back(measure(Way::Floor, az).stallMs);
    }
    std::printf("longest main-loop stall while an Entra ID token takes 1 s: now %.0f ms, before "
                "%.0f ms (the lookup itself %.0f ms), with no lookup %.0f ms; medians of %d\n",
                median(now), median(before), median(lookup), median(floor), rounds);
    std::printf("row credential-stall-floor-ms %.1f\n", median(floor));
    std::printf("row credential-stall-now-ms %.1f\n", median(now));
    std::printf("row credential-stall-before-ms %.1f\n", median(before));
    std::printf("row credential-lookup-ms %.1f\n", median(lookup));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "imagegen-bench-credential: %s\n", e.what());
        return 1;
    }
}
