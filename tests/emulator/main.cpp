// imagegen-emulator: runs the local Images API emulator until killed.
//   imagegen-emulator [--port N] [--api-key KEY] [--deployment NAME=MODEL]... [--latency MS]
// The first line of output is "listening on http://127.0.0.1:PORT".
#include "emulator/emulator.h"

#include "core/util/glib_ptr.h"

#include <glib-unix.h>
#include <glib.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    emulator::Config config;
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--port" && hasValue) {
            port = std::stoi(argv[++i]);
        } else if (arg == "--api-key" && hasValue) {
            config.apiKey = argv[++i];
        } else if (arg == "--latency" && hasValue) {
            config.latencyMs = std::stoi(argv[++i]);
        } else if (arg == "--stream-delay" && hasValue) {
            config.streamDelayMs = std::stoi(argv[++i]);
        } else if (arg == "--deployment" && hasValue) {
            const std::string d = argv[++i];
            const auto eq = d.find('=');
            if (eq == std::string::npos) {
                std::fprintf(stderr, "--deployment takes NAME=MODEL\n");
                return 2;
            }
            config.deployments[d.substr(0, eq)] = d.substr(eq + 1);
        } else {
            std::fprintf(stderr,
                         "usage: %s [--port N] [--api-key KEY] [--deployment NAME=MODEL]... "
                         "[--latency MS] [--stream-delay MS]\n",
                         argv[0]);
            return 2;
        }
    }
    emulator::Emulator emulator(config);
    std::string error;
    const int bound = emulator.listen(port, &error);
    if (bound < 0) {
        std::fprintf(stderr, "imagegen-emulator: cannot listen: %s\n", error.c_str());
        return 1;
    }
    std::printf("listening on http://127.0.0.1:%d\n", bound);
    std::fflush(stdout);
    const imagegen::GMainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
    // The sources stay until their owners remove them, so that neither is removed twice.
    auto quit = [](gpointer l) -> gboolean {
        g_main_loop_quit(static_cast<GMainLoop*>(l));
        return G_SOURCE_CONTINUE;
    };
    imagegen::SourceId onTerm(g_unix_signal_add(SIGTERM, quit, loop.get()));
    imagegen::SourceId onInt(g_unix_signal_add(SIGINT, quit, loop.get()));
    g_main_loop_run(loop.get());
    return 0;
}
