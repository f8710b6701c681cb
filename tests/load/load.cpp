// Load: 200 runs in a row and 50 at once through the core (FakeHost for the editor) against the
// emulator, with faults drawn from a fixed seed queued among them. Every run must end, in success
// or an error with a kind and a message; the process must not grow or keep file descriptors.
//
//     imagegen-load EMULATOR [SEED]
//
// TAP on stdout. The figures (outcomes by kind, time, RSS, descriptors) are printed as comments.
#include "core/run/run.h"
#include "core/run/run_operation.h"
#include "core/util/glib_ptr.h"
#include "unit/fake_host.h"

#include <gio/gio.h>
#include <glib.h>
#include <libsoup/soup.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace imagegen;
using imagegen::test::FakeHost;

namespace {

// Distinctive, so that it would be recognised wherever it showed up.
constexpr const char* kKey = "sk-imagegen-LOAD-MARKER-5e2d9c41";
constexpr int kWarmUpRuns = 20;
constexpr int kSequentialRuns = 200;
constexpr int kConcurrentRuns = 50;
constexpr uint32_t kDefaultSeed = 20240611;
// A cancelled run is cancelled this long after it starts: usually while the emulator holds its
// request (a delay fault of 400 ms), sometimes, in a slow build, before the request is sent.
constexpr guint kCancelAfterMs = 60;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// How much the resident set may grow from after the warm-up (20 runs in a row, then a first
// burst of 50 at once, so that malloc's arenas and libsoup have reached their working size) to
// after the 200 runs and a second burst, the heap trimmed both times. The smallest thing a run
// holds per result is a decoded 256x256 RGBA image (256 KiB); keeping one per run would add
// 250 x 256 KiB = 62 MiB, and keeping 50 KiB per run would already exceed this bound. What remains
// is fragmentation of the trimmed heap, a few MiB in practice. Under AddressSanitizer the freed
// memory sits in its quarantine (256 MiB), so there LeakSanitizer checks for leaks instead.
constexpr long kRssGrowthBoundKiB = 12 * 1024;

// ------------------------------------------------------------------ the process

long statusKiB(const char* field) {
    GCharPtr text;
    if (!g_file_get_contents("/proc/self/status", outPtr(text), nullptr, nullptr)) {
        return -1;
    }
    const std::string s = text.get();
    const std::string key = std::string(field) + ":";
    const size_t at = s.find(key);
    return at == std::string::npos ? -1 : std::strtol(s.c_str() + at + key.size(), nullptr, 10);
}

int openDescriptors() {
    const std::unique_ptr<GDir, GFreeWith<g_dir_close>> dir(
        g_dir_open("/proc/self/fd", 0, nullptr));
    if (!dir) {
        return -1;
    }
    int n = 0;
    while (g_dir_read_name(dir.get()) != nullptr) {
        ++n;
    }
    return n - 1; // the directory's own
}

struct Sample {
    long rssKiB = 0;
    long peakKiB = 0;
    int fds = 0;
};

// Gives back what malloc keeps of freed memory, so that the resident set measures what is live.
Sample sample() {
    malloc_trim(0);
    return {statusKiB("VmRSS"), statusKiB("VmHWM"), openDescriptors()};
}

// Lets closing connections finish (libsoup closes them from the main loop) until no more
// descriptors are open than `expected`, or a second has passed.
int settleDescriptors(int expected) {
    const gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
    int fds = openDescriptors();
    while (fds > expected && g_get_monotonic_time() < until) {
        while (g_main_context_iteration(nullptr, FALSE)) {
        }
        g_usleep(10'000);
        fds = openDescriptors();
    }
    return fds;
}

// ------------------------------------------------------------------ the emulator

class Emulator {
  public:
    explicit Emulator(const char* binary) {
        GErrorPtr error;
        process_ = adoptRef(g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, outPtr(error), binary,
                                             "--port", "0", "--api-key", kKey, nullptr));
        if (!process_) {
            problem_ = std::string("cannot start the emulator: ") + error->message;
            return;
        }
        auto lines =
            adoptRef(g_data_input_stream_new(g_subprocess_get_stdout_pipe(process_.get())));
        const GCharPtr line(
            g_data_input_stream_read_line(lines.get(), nullptr, nullptr, outPtr(error)));
        const std::string first = line ? line.get() : "";
        const std::string prefix = "listening on ";
        if (first.rfind(prefix, 0) != 0) {
            problem_ = "the emulator did not say where it listens: " + first;
            return;
        }
        base_ = first.substr(prefix.size());
        control_ = adoptRef(soup_session_new());
    }
    ~Emulator() {
        control_.reset();
        if (process_) {
            g_subprocess_send_signal(process_.get(), SIGTERM);
            g_subprocess_wait(process_.get(), nullptr, nullptr);
        }
    }
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;
    Emulator(Emulator&&) = delete;
    Emulator& operator=(Emulator&&) = delete;

    [[nodiscard]] const std::string& problem() const { return problem_; }
    [[nodiscard]] const std::string& base() const { return base_; }
    [[nodiscard]] bool running() const {
        return process_ && g_subprocess_get_identifier(process_.get()) != nullptr;
    }

    // A control request; the body of the answer, or nullopt when it did not succeed.
    std::optional<std::string> control(const char* method, const std::string& what,
                                       const std::string& json = "") {
        const std::string url = base_ + "/_emulator/" + what;
        auto msg = adoptRef(soup_message_new(method, url.c_str()));
        if (!json.empty()) {
            const GBytesPtr body(g_bytes_new(json.data(), json.size()));
            soup_message_set_request_body_from_bytes(msg.get(), "application/json", body.get());
        }
        GErrorPtr error;
        const GBytesPtr answer(
            soup_session_send_and_read(control_.get(), msg.get(), nullptr, outPtr(error)));
        if (!answer || soup_message_get_status(msg.get()) != SOUP_STATUS_OK) {
            return std::nullopt;
        }
        gsize size = 0;
        const auto* data = static_cast<const char*>(g_bytes_get_data(answer.get(), &size));
        return std::string(data, size);
    }

  private:
    GRef<GSubprocess> process_;
    GRef<SoupSession> control_;
    std::string base_;
    std::string problem_;
};

// ------------------------------------------------------------------ what a run meets

// A fault (or none) for one run, and what a run meeting it alone must end in. Retries are set to
// one, so a fault queued twice exhausts them.
struct Scenario {
    const char* name;
    const char* faults; // the JSON array for /_emulator/faults
    int weight;
    std::vector<std::string> expected; // "success" or error kind names
    bool cancel = false;               // cancelled kCancelAfterMs after it starts
    // When the answer carries URLs instead of base64 (dall-e-2's default), if that differs.
    std::vector<std::string> expectedWithUrls = {};
};

const std::vector<Scenario>& scenarios() {
    static const std::vector<Scenario> all = {
        {"clean", "[]", 40, {"success"}},
        {"delay", R"([{"kind":"delay","ms":40}])", 6, {"success"}},
        {"rate-limit-once",
         R"([{"kind":"rate_limit","header":"retry-after-ms","value":"5"}])",
         6,
         {"success"}},
        {"rate-limit-twice",
         R"([{"kind":"rate_limit","header":"retry-after-ms","value":"5"},)"
         R"({"kind":"rate_limit","header":"x-ms-retry-after-ms","value":"5"}])",
         4,
         {"rate-limited"}},
        {"server-error-once", R"([{"kind":"server_error","status":500}])", 2, {"success"}},
        {"server-error-twice",
         R"([{"kind":"server_error","status":503},{"kind":"server_error","status":500}])",
         3,
         {"server"}},
        {"content-filter-prompt",
         R"([{"kind":"content_filter","stage":"input"}])",
         4,
         {"content-filter"}},
        {"content-filter-output",
         R"([{"kind":"content_filter","stage":"output","shape":"openai"}])",
         3,
         {"content-filter"}},
        {"truncated-twice",
         R"([{"kind":"truncated"},{"kind":"truncated"}])",
         3,
         {"network", "malformed-response"}},
        {"broken-base64",
         R"([{"kind":"broken_base64"}])",
         3,
         {"malformed-response"},
         false,
         {"success"}}, // no base64 to break in a URL answer
        {"broken-png", R"([{"kind":"broken_png"}])", 3, {"malformed-response"}},
        {"huge-png", R"([{"kind":"huge_png"}])", 3, {"malformed-response"}},
        {"too-few-images", R"([{"kind":"too_few_images"}])", 2, {"malformed-response"}},
        {"too-many-images", R"([{"kind":"too_many_images"}])", 2, {"malformed-response"}},
        {"cancelled", R"([{"kind":"delay","ms":400}])", 3, {"cancelled"}, true},
    };
    return all;
}

// A 32-bit LCG (Numerical Recipes): the same draws on every platform, unlike the standard
// library's distributions.
class Draw {
  public:
    explicit Draw(uint32_t seed) : state_(seed) {}
    uint32_t next() {
        state_ = state_ * 1664525U + 1013904223U;
        return state_ >> 8;
    }
    const Scenario& scenario() {
        int total = 0;
        for (const auto& s : scenarios()) {
            total += s.weight;
        }
        int pick = static_cast<int>(next() % static_cast<uint32_t>(total));
        for (const auto& s : scenarios()) {
            if (pick < s.weight) {
                return s;
            }
            pick -= s.weight;
        }
        return scenarios().front();
    }
    std::vector<const Scenario*> burst(int n) {
        std::vector<const Scenario*> list;
        list.reserve(static_cast<size_t>(n));
        for (int k = 0; k < n; ++k) {
            list.push_back(&scenario());
        }
        return list;
    }

  private:
    uint32_t state_;
};

int faultCount(const std::vector<const Scenario*>& list) {
    int n = 0;
    for (const Scenario* s : list) {
        for (const char* c = s->faults; *c != '\0'; ++c) {
            n += *c == '{' ? 1 : 0;
        }
    }
    return n;
}

// The faults of a list of scenarios, as one queue.
std::string faultQueue(const std::vector<const Scenario*>& list) {
    std::string items;
    for (const Scenario* s : list) {
        std::string inner = s->faults;
        inner = inner.substr(1, inner.size() - 2);
        if (!inner.empty()) {
            items += (items.empty() ? "" : ",") + inner;
        }
    }
    return R"({"faults":[)" + items + "]}";
}

// ------------------------------------------------------------------ the runs

// One retry, no jitter, short timeouts: the faults are met quickly, and a run that hangs ends as
// a timeout instead of stalling the test.
void configure(RunSetup& setup, const ModelCatalog& catalog,
               const std::map<std::string, std::string>* env) {
    setup.catalog = &catalog;
    setup.env = [env](const char* name) -> const char* {
        auto it = env->find(name);
        return it == env->end() ? nullptr : it->second.c_str();
    };
    setup.http.maxRetries = 1;
    setup.http.random = [] {
        return 0.0;
    };
    setup.http.connectTimeoutMs = 5'000;
    setup.http.totalTimeoutMs = 20'000;
}

// Two ways in, as the plug-in is configured: OpenAI's variables and Azure's.
struct Setups {
    Setups(const ModelCatalog& catalog, const std::string& base)
        : openaiEnv{{"OPENAI_BASE_URL", base + "/v1"}, {"OPENAI_API_KEY", kKey}},
          azureEnv{{"AZURE_OPENAI_ENDPOINT", base}, {"AZURE_OPENAI_API_KEY", kKey}} {
        configure(openai, catalog, &openaiEnv);
        configure(azure, catalog, &azureEnv);
    }
    Setups(const Setups&) = delete;
    Setups& operator=(const Setups&) = delete;
    Setups(Setups&&) = delete;
    Setups& operator=(Setups&&) = delete;
    ~Setups() = default;

    std::map<std::string, std::string> openaiEnv;
    std::map<std::string, std::string> azureEnv;
    RunSetup openai;
    RunSetup azure;
};

// Run `i`: edits and generations, dall-e-2 at 256x256 mostly (small, so that 300 runs stay
// quick) and gpt-image-1 every eighth, through OpenAI's variables or Azure's in turn.
struct Call {
    Procedure procedure = Procedure::Edit;
    RunParameters parameters;
    bool azure = false;
};

Call callFor(int i) {
    Call c;
    c.procedure = i % 2 == 0 ? Procedure::Edit : Procedure::Generate;
    c.azure = i % 3 == 0;
    c.parameters.prompt = "load run " + std::to_string(i);
    const bool large = i % 8 == 7;
    c.parameters.model = large ? "gpt-image-1" : "dall-e-2";
    c.parameters.size = large ? "1024x1024" : "256x256";
    return c;
}

std::unique_ptr<FakeHost> hostFor() {
    auto host = std::make_unique<FakeHost>(320, 240);
    host->select({100, 60, 80, 60});
    return host;
}

struct Outcome {
    std::string kind; // "success" or the error kind's name; empty: the run never ended
    std::string message;
    std::string problem; // what is wrong with how it ended
};

// What a finished run left: one undo step on success, the image untouched on failure, and an
// error that names its kind and says something.
Outcome judge(const Result<Inserted>& result, const FakeHost& host) {
    Outcome o;
    if (result) {
        o.kind = "success";
        if (result->layers.size() != 1 || host.undoSteps().size() != 1) {
            o.problem = "succeeded without inserting one layer as one undo step";
        }
    } else {
        const Error& e = result.error();
        const char* name = errorKindName(e.kind);
        o.kind = name != nullptr ? name : "";
        o.message = e.message;
        std::string lower = e.message;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char ch) { return static_cast<char>(g_ascii_tolower(ch)); });
        if (o.kind.empty() || o.kind == "unknown") {
            o.problem = "an error of no known kind";
        } else if (e.message.empty() || lower == "unknown" || lower == "unknown error") {
            o.problem = "an error without a message";
        } else if (!host.undoSteps().empty()) {
            o.problem = "failed but changed the image";
        }
    }
    if (host.progressOpen() != 0) {
        o.problem += (o.problem.empty() ? "" : "; ") + std::string("left the progress bar open");
    }
    if (o.message.find(kKey) != std::string::npos) {
        o.problem += (o.problem.empty() ? "" : "; ") + std::string("the key is in the message");
    }
    return o;
}

// Cancels a run's cancellable `ms` after it starts.
SourceId cancelAfter(guint ms, GCancellable* cancellable) {
    return SourceId(g_timeout_add_full(
        G_PRIORITY_DEFAULT, ms,
        [](gpointer c) -> gboolean {
            g_cancellable_cancel(static_cast<GCancellable*>(c));
            return G_SOURCE_REMOVE;
        },
        g_object_ref(cancellable), g_object_unref));
}

// One run through runProcedure, as a Script-Fu call makes it.
Outcome runOne(Setups& setups, int i, const Scenario& scenario) {
    const Call call = callFor(i);
    auto host = hostFor();
    auto cancellable = adoptRef(g_cancellable_new());
    SourceId cancel;
    if (scenario.cancel) {
        cancel = cancelAfter(kCancelAfterMs, cancellable.get());
    }
    auto result = runProcedure(call.procedure, call.parameters,
                               call.azure ? setups.azure : setups.openai, *host, cancellable.get());
    if (g_cancellable_is_cancelled(cancellable.get()) == FALSE) {
        // The timer has not fired (the run ended first): it must not outlive the cancellable's
        // purpose. SourceId removes it.
        cancel.reset();
    } else {
        cancel.forget(); // it fired and removed itself
    }
    return judge(result, *host);
}

// A run of a burst: prepared, then its operation runs with the others on the one main loop, as
// runProcedure runs one, then its layers are inserted.
struct BurstRun {
    Call call;
    std::unique_ptr<FakeHost> host;
    std::optional<Error> refused;
    std::unique_ptr<RunOperation> operation;
    std::optional<Result<RunOutcome>> outcome;
    GRef<GCancellable> cancellable;
    SourceId cancel;
};

struct Burst {
    std::vector<Outcome> outcomes;
    int peakDescriptors = 0; // while it ran: shows the connections open at once
};

Burst runBurst(Setups& setups, int first, const std::vector<const Scenario*>& list,
               int deadlineSeconds) {
    const size_t n = list.size();
    std::vector<BurstRun> runs(n);
    size_t finished = 0;
    for (size_t k = 0; k < n; ++k) {
        BurstRun& r = runs[k];
        r.call = callFor(first + static_cast<int>(k));
        r.host = hostFor();
        RunSetup& setup = r.call.azure ? setups.azure : setups.openai;
        auto prepared = prepareRun(r.call.procedure, r.call.parameters, setup, *r.host);
        r.cancellable = adoptRef(g_cancellable_new());
        if (!prepared) {
            r.refused = prepared.error();
            ++finished;
            continue;
        }
        if (list[k]->cancel) {
            r.cancel = cancelAfter(kCancelAfterMs, r.cancellable.get());
        }
        r.operation = std::make_unique<RunOperation>(
            std::move(*prepared), setup, RunEvents{},
            [&r, &finished](Result<RunOutcome> outcome) {
                r.outcome = std::move(outcome);
                ++finished;
            },
            r.cancellable.get());
    }
    bool late = false;
    const SourceId deadline(g_timeout_add_seconds(
        static_cast<guint>(deadlineSeconds),
        [](gpointer flag) -> gboolean {
            *static_cast<bool*>(flag) = true;
            return G_SOURCE_CONTINUE;
        },
        &late));
    Burst burst;
    while (finished < n && !late) {
        g_main_context_iteration(nullptr, TRUE);
        burst.peakDescriptors = std::max(burst.peakDescriptors, openDescriptors());
    }
    std::vector<Outcome>& outcomes = burst.outcomes;
    for (BurstRun& r : runs) {
        Outcome o;
        if (r.refused) {
            o = judge(*r.refused, *r.host);
        } else if (!r.outcome) {
            o.problem = "did not end within " + std::to_string(deadlineSeconds) + " s";
        } else if (!*r.outcome) {
            o = judge(r.outcome->error(), *r.host);
        } else {
            o = judge(insertResults(r.operation->plan(), (*r.outcome)->layers, *r.host), *r.host);
        }
        outcomes.push_back(std::move(o));
        if (g_cancellable_is_cancelled(r.cancellable.get()) != FALSE) {
            r.cancel.forget();
        }
    }
    return burst; // the operations go here; they cancel anything still in flight
}

// ------------------------------------------------------------------ report

struct Tally {
    std::map<std::string, int> byKind;
    std::vector<std::string> problems;
    int calls = 0;

    void add(const Outcome& o, const std::string& label) {
        ++calls;
        ++byKind[o.kind.empty() ? "never ended" : o.kind];
        if (!o.problem.empty()) {
            problems.push_back(label + ": " + o.problem + (o.kind.empty() ? "" : " (" + o.kind) +
                               (o.message.empty() ? "" : ": " + o.message) +
                               (o.kind.empty() ? "" : ")"));
        }
    }
    [[nodiscard]] std::string summary() const {
        std::string s = std::to_string(calls) + " calls: " +
                        std::to_string(byKind.count("success") != 0 ? byKind.at("success") : 0) +
                        " succeeded";
        for (const auto& [kind, count] : byKind) {
            if (kind != "success") {
                s += ", " + std::to_string(count) + " " + kind;
            }
        }
        return s;
    }
};

int tapIndex = 0;
bool allOk = true;

void tap(bool ok, const std::string& what) {
    allOk = allOk && ok;
    std::printf("%s %d - %s\n", ok ? "ok" : "not ok", ++tapIndex, what.c_str());
    std::fflush(stdout);
}

void note(const std::string& text) {
    std::printf("# %s\n", text.c_str());
    std::fflush(stdout);
}

void reportTally(const Tally& t, const std::string& what, double seconds) {
    char time[64];
    std::snprintf(time, sizeof time, "%.1f s", seconds);
    note(what + ": " + t.summary() + " in " + time);
    for (const auto& p : t.problems) {
        note("  " + p);
    }
    tap(t.problems.empty(), what + ": every call ended in success or a classified error");
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// 50 runs at once, their faults queued together: which run meets which depends on the order the
// requests arrive in, so only how each ends is checked.
struct TimedBurst {
    Burst burst;
    Tally tally;
    double seconds = 0;
};

TimedBurst queuedBurst(Emulator& emulator, Setups& setups, Draw& draw, int first,
                       const std::string& label) {
    const std::vector<const Scenario*> list = draw.burst(kConcurrentRuns);
    emulator.control("POST", "faults", faultQueue(list));
    const auto t0 = std::chrono::steady_clock::now();
    TimedBurst r;
    r.burst = runBurst(setups, first, list, 60);
    r.seconds = secondsSince(t0);
    for (size_t k = 0; k < r.burst.outcomes.size(); ++k) {
        r.tally.add(r.burst.outcomes[k], label + ", run " + std::to_string(k));
    }
    return r;
}

int count(const std::string& haystack, const std::string& needle) {
    int n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

// What the emulator's request log said, summed over its resets.
struct RequestLog {
    int requests = 0;
    int withAuth = 0;
    int refused = 0;
    bool unreadable = false;
    bool keyInLog = false;

    // Reads the log, then resets the emulator: its fault queue and its log start again.
    void harvest(Emulator& emulator) {
        const auto log = emulator.control("GET", "requests");
        if (!log) {
            unreadable = true;
        } else {
            requests += count(*log, "\"method\"");
            withAuth += count(*log, "\"auth_present\":true");
            refused += count(*log, "\"status\":401");
            keyInLog = keyInLog || log->find(kKey) != std::string::npos;
        }
        emulator.control("POST", "reset");
    }
};

int run(const char* emulatorPath, uint32_t seed) {
    std::printf("1..7\n");
    const auto catalog = ModelCatalog::loadDefault();
    if (!catalog) {
        std::printf("Bail out! cannot load the model table: %s\n", catalog.error().message.c_str());
        return 1;
    }
    Emulator emulator(emulatorPath);
    if (!emulator.problem().empty()) {
        std::printf("Bail out! %s\n", emulator.problem().c_str());
        return 1;
    }
    note("seed " + std::to_string(seed) + ", emulator at " + emulator.base());
    Setups setups(*catalog, emulator.base());
    Draw draw(seed);
    const Sample start = sample();
    const auto t0 = std::chrono::steady_clock::now();

    // Warm-up: in a row, then at once, so that the heap and libsoup reach their working size.
    Tally warm;
    const auto tW = std::chrono::steady_clock::now();
    for (int i = 0; i < kWarmUpRuns; ++i) {
        warm.add(runOne(setups, i, scenarios().front()), "warm-up " + std::to_string(i));
    }
    const double secondsW = secondsSince(tW);
    const TimedBurst first = queuedBurst(emulator, setups, draw, 1000, "first burst");
    // Nothing left over for what follows, and the request log starts again.
    RequestLog requestLog;
    requestLog.harvest(emulator);
    const int fdsWarm = settleDescriptors(start.fds);
    const Sample warmed = sample();

    // 200 in a row, each with its own fault queued just before it, so each must end as its
    // scenario says.
    Tally sequential;
    const auto tS = std::chrono::steady_clock::now();
    for (int i = 0; i < kSequentialRuns; ++i) {
        const Scenario& s = draw.scenario();
        // The answer counts the queue: more than this run's faults means the last run left some.
        const auto queued = emulator.control("POST", "faults", faultQueue({&s}));
        const std::string expectedQueue = R"({"queued":)" + std::to_string(faultCount({&s})) + "}";
        Outcome o = runOne(setups, kWarmUpRuns + i, s);
        if (!queued || *queued != expectedQueue) {
            o.problem = "the fault queue read " + queued.value_or("nothing") + " instead of " +
                        expectedQueue;
        }
        const bool urls = callFor(kWarmUpRuns + i).parameters.model.rfind("dall-e", 0) == 0;
        const auto& expected =
            urls && !s.expectedWithUrls.empty() ? s.expectedWithUrls : s.expected;
        if (o.problem.empty() &&
            std::find(expected.begin(), expected.end(), o.kind) == expected.end()) {
            o.problem = std::string("expected ") + expected.front() + " for " + s.name;
        }
        sequential.add(o, "run " + std::to_string(i) + " (" + s.name + ")");
        // A cancel that came before the request reached the emulator (a slow build) leaves
        // the fault queued; it must not fall on the next run.
        if (s.cancel &&
            emulator.control("POST", "faults", R"({"faults":[]})") != R"({"queued":0})") {
            requestLog.harvest(emulator);
            note("run " + std::to_string(i) + " was cancelled before its request arrived");
        }
    }
    const double secondsS = secondsSince(tS);

    const TimedBurst second = queuedBurst(emulator, setups, draw, 2000, "second burst");
    const double total = secondsSince(t0);

    const int fdsEnd = settleDescriptors(fdsWarm);
    const Sample end = sample();
    requestLog.harvest(emulator);
    const bool alive = emulator.running();

    reportTally(warm, "warm-up, in a row", secondsW);
    reportTally(first.tally, "first burst, 50 at once", first.seconds);
    reportTally(sequential, "200 in a row", secondsS);
    reportTally(second.tally, "second burst, 50 at once", second.seconds);
    note("at most " + std::to_string(first.burst.peakDescriptors) + " and " +
         std::to_string(second.burst.peakDescriptors) +
         " file descriptors were open during the bursts (one connection per run)");

    const RequestLog& r = requestLog;
    note("emulator: " + std::to_string(r.requests) + " requests logged, " +
         std::to_string(r.withAuth) + " with auth, " + std::to_string(r.refused) +
         " refused (401)");
    tap(alive && !r.unreadable && r.requests > 0 && r.withAuth == r.requests && r.refused == 0 &&
            !r.keyInLog,
        "the emulator is still running, and every request carried the key, in its header only");

    char line[256];
    std::snprintf(line, sizeof line,
                  "memory: RSS %ld KiB at start, %ld after the warm-up, %ld at the end "
                  "(growth %ld KiB, bound %ld); peak (VmHWM) %ld KiB after the warm-up, %ld at "
                  "the end",
                  start.rssKiB, warmed.rssKiB, end.rssKiB, end.rssKiB - warmed.rssKiB,
                  kRssGrowthBoundKiB, warmed.peakKiB, end.peakKiB);
    note(line);
    note("file descriptors: " + std::to_string(start.fds) + " at start, " +
         std::to_string(fdsWarm) + " after the warm-up, " + std::to_string(fdsEnd) + " at the end");
    note("wall time: " + std::to_string(static_cast<int>(total * 1000)) + " ms for " +
         std::to_string(kWarmUpRuns + 2 * kConcurrentRuns + kSequentialRuns) + " runs");
    if (kSanitized) {
        note("AddressSanitizer build: its quarantine holds freed memory, so the RSS bound is not "
             "applied; LeakSanitizer checks for leaks at exit");
        tap(true, "# SKIP the resident set under AddressSanitizer");
    } else {
        tap(end.rssKiB - warmed.rssKiB <= kRssGrowthBoundKiB,
            "the resident set grew by at most " + std::to_string(kRssGrowthBoundKiB) +
                " KiB after the warm-up");
    }
    tap(fdsEnd <= fdsWarm, "no file descriptor is left open");
    return allOk ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s EMULATOR [SEED]\n", argv[0]);
        return 2;
    }
    const uint32_t seed =
        argc > 2 ? static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10)) : kDefaultSeed;
    try {
        return run(argv[1], seed);
    } catch (const std::exception& e) {
        std::printf("Bail out! %s\n", e.what());
        return 1;
    }
}
