// With IMAGEGEN_TIMINGS=1, one line per phase of a run on stderr
// ("imagegen-timing: <phase> <milliseconds>"), for the benchmark and for users who want to see
// where the time goes; at the end also the process's peak resident memory
// ("imagegen-timing: peak-rss-kb <VmHWM>", from /proc/self/status, where there is one). With
// IMAGEGEN_INTERRUPT_AFTER=<phase>, the process sends itself SIGINT as that phase ends, as a user's
// cancel would arrive: the end-to-end tests cancel a run while it decodes (after "request") or
// makes layers (after "decode") that way, with no timing guesses.
#pragma once

#include <glib.h>

#include <csignal>
#include <cstdio>

namespace imagegen {

class PhaseTimer {
  public:
    PhaseTimer()
        : enabled_(g_strcmp0(g_getenv("IMAGEGEN_TIMINGS"), "1") == 0),
          start_(g_get_monotonic_time()), last_(start_) {}

    // Ends the phase that began at the last call (or at construction).
    void phase(const char* name) {
        const gint64 now = g_get_monotonic_time();
        print(name, now - last_);
        last_ = now;
        if (g_strcmp0(g_getenv("IMAGEGEN_INTERRUPT_AFTER"), name) == 0) {
            std::raise(SIGINT);
        }
    }
    // The moment itself, on the system's monotonic clock (CLOCK_MONOTONIC, as Python's
    // time.monotonic): for a measure that starts outside the process, such as the benchmark's
    // "from the call to the dialog on screen".
    void stamp(const char* name) const {
        if (enabled_) {
            std::fprintf(stderr, "imagegen-timing: %s-at-us %" G_GINT64_FORMAT "\n", name,
                         g_get_monotonic_time());
        }
    }
    void total() {
        print("total", g_get_monotonic_time() - start_);
        if (enabled_) {
            printPeakRss();
        }
    }

  private:
    void print(const char* name, gint64 microseconds) const {
        if (enabled_) {
            std::fprintf(stderr, "imagegen-timing: %s %.1f\n", name,
                         static_cast<double>(microseconds) / 1000.0);
        }
    }

    static void printPeakRss() {
        std::FILE* status = std::fopen("/proc/self/status", "r");
        if (status == nullptr) {
            return;
        }
        char line[256];
        while (std::fgets(line, sizeof line, status) != nullptr) {
            long kb = 0;
            if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) {
                std::fprintf(stderr, "imagegen-timing: peak-rss-kb %ld\n", kb);
            }
        }
        std::fclose(status);
    }

    bool enabled_;
    gint64 start_;
    gint64 last_;
};

// Ends `timings`' phase `name`, where a caller gave a timer (it may give none).
inline void endPhase(PhaseTimer* timings, const char* name) {
    if (timings != nullptr) {
        timings->phase(name);
    }
}

} // namespace imagegen
