// Secrets in the Secret Service (a private gnome-keyring on a private D-Bus, started by
// with-keyring.sh) and the credential chosen for a saved connection, looked up off the main loop.
#include "core/run/run_session.h"
#include "core/service/keyring_call.h"
#include "core/service/secret_store.h"
#include "fake_host.h"
#include "run_fixtures.h"
#include "test_server.h"
#include "test_util.h"

#include <gio/gio.h>

#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

static EnvLookup envOf(std::map<std::string, std::string> vars) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [shared](const char* name) -> const char* {
        auto it = shared->find(name);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
}

static void testStoreLookupClear() {
    assertOk(storeSecret("work", "sk-secret-1"));
    assertOk(storeSecret("home", "sk-secret-2"));
    assertEq(lookupSecret("work"), "sk-secret-1");
    assertEq(lookupSecret("home"), "sk-secret-2");
    assertOk(storeSecret("work", "sk-secret-3")); // replaced, not added
    assertEq(lookupSecret("work"), "sk-secret-3");
    assertOk(clearSecret("work"));
    assertEq(lookupSecret("work"), "");
    assertEq(lookupSecret("never-saved"), "");
    assertOk(clearSecret("home"));
}

static void testCredentialForSavedConnection() {
    Connection c;
    c.name = "azure-work";
    c.kind = ConnectionKind::Azure;
    c.auth = AuthMethod::ApiKeyHeader;
    EntraTokenSource tokens({"/nonexistent/az"});
    assertOk(storeSecret("azure-work", "from-keyring"));
    auto fromKeyring = credentialFor(c, envOf({{"AZURE_OPENAI_API_KEY", "from-env"}}), tokens, 0);
    if (assertOk(fromKeyring)) {
        assertEq(fromKeyring->secret, "from-keyring");
        g_assert_true(fromKeyring->method == AuthMethod::ApiKeyHeader);
    }
    assertOk(clearSecret("azure-work"));

    auto fromEnv = credentialFor(c, envOf({{"AZURE_OPENAI_API_KEY", "from-env"}}), tokens, 0);
    if (assertOk(fromEnv)) {
        assertEq(fromEnv->secret, "from-env");
    }
    const Error none =
        assertFails(credentialFor(c, envOf({}), tokens, 0), ErrorKind::Configuration);
    assertContains(none.message, "AZURE_OPENAI_API_KEY");
    assertContains(none.message, "Connections…");

    c.auth = AuthMethod::EntraId;
    auto token = credentialFor(c, envOf({{"AZURE_OPENAI_AD_TOKEN", "tok"}}), tokens, 0);
    if (assertOk(token)) {
        assertEq(token->secret, "tok");
    }
    assertFails(credentialFor(c, envOf({}), tokens, 0), ErrorKind::Authentication);
}

// The keyring daemon, stopped (SIGSTOP) so that a question to it waits until the test lets it
// go: from the test's main loop (resume()), else from a watchdog thread after 5 s, so that a
// lookup that blocked the main loop fails the test (watchdogFired) rather than hanging it.
class StoppedKeyring {
  public:
    StoppedKeyring() : pid_(ownerPid()) {
        if (pid_ > 0) {
            kill(pid_, SIGSTOP);
        }
        watchdog_ = std::thread([this] {
            for (int i = 0; i < 100 && !resumed_; ++i) {
                g_usleep(50'000);
            }
            if (!resumed_.exchange(true)) {
                fired_ = true;
                kill(pid_, SIGCONT);
            }
        });
    }
    ~StoppedKeyring() {
        resume();
        watchdog_.join();
    }
    StoppedKeyring(const StoppedKeyring&) = delete;
    StoppedKeyring& operator=(const StoppedKeyring&) = delete;
    StoppedKeyring(StoppedKeyring&&) = delete;
    StoppedKeyring& operator=(StoppedKeyring&&) = delete;

    [[nodiscard]] bool found() const { return pid_ > 0; }
    void resume() {
        if (!resumed_.exchange(true)) {
            kill(pid_, SIGCONT);
        }
    }
    [[nodiscard]] bool watchdogFired() const { return fired_; }

  private:
    // Whoever owns org.freedesktop.secrets on the session bus: the private gnome-keyring.
    static pid_t ownerPid() {
        GErrorPtr error;
        const GRef<GDBusConnection> bus =
            adoptRef(g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, outPtr(error)));
        if (!bus) {
            return 0;
        }
        GVariant* reply = g_dbus_connection_call_sync(
            bus.get(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "GetConnectionUnixProcessID", g_variant_new("(s)", "org.freedesktop.secrets"),
            G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, nullptr, outPtr(error));
        if (reply == nullptr) {
            return 0;
        }
        guint32 pid = 0;
        g_variant_get(reply, "(u)", &pid);
        g_variant_unref(reply);
        return static_cast<pid_t>(pid);
    }

    pid_t pid_;
    std::atomic<bool> resumed_{false};
    std::atomic<bool> fired_{false};
    std::thread watchdog_;
};

// A main-loop source that lets `keyring` go: the keyring answers only once the main loop runs.
static SourceId resumeFromTheMainLoop(StoppedKeyring& keyring) {
    return SourceId(g_idle_add(
        +[](gpointer k) -> gboolean {
            static_cast<StoppedKeyring*>(k)->resume();
            return G_SOURCE_CONTINUE; // removed with the source's owner
        },
        &keyring));
}

// One Generate of a session to its end, on the main loop.
static Result<RunSession::Generated>
generateOnce(RunSession& session, std::optional<Result<RunSession::Generated>>& ended, Host& host) {
    ended.reset();
    RunParameters p;
    p.prompt = "a red balloon";
    p.model = "gpt-image-1";
    if (auto started = session.start(p, host); !started) {
        return started.error();
    }
    const gint64 until = g_get_monotonic_time() + (30 * G_USEC_PER_SEC);
    while (!ended && g_get_monotonic_time() < until) {
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(500);
    }
    return ended ? *ended : Result<RunSession::Generated>(makeError(ErrorKind::Timeout, "no end"));
}

// A run asks the keyring for the saved key off the main loop: the keyring answers only once the
// main loop has run, and the request carries the key. The next run takes the key found then,
// without asking again: it goes while the keyring is stopped.
static void testKeyLookedUpOffTheMainLoop() {
    TestServer server;
    answerGradients(server, 1);
    assertOk(storeSecret("saved-key", "sk-from-keyring"));
    Setup s(server, {{"IMAGEGEN_TEST", "1"}}); // no key in the environment
    s.saveConnection("saved-key", server.url("/v1"), AuthMethod::BearerKey);
    FakeHost host(300, 200);
    std::optional<Result<RunSession::Generated>> ended;
    RunSession session(
        Procedure::Edit, s.setup,
        {.onPartial = {}, .onProgress = {}, .onDone = [&ended](Result<RunSession::Generated> r) {
             ended = std::move(r);
         }});
    {
        StoppedKeyring keyring;
        g_assert_true(keyring.found());
        const SourceId idle = resumeFromTheMainLoop(keyring);
        assertOk(generateOnce(session, ended, host));
        g_assert_false(keyring.watchdogFired()); // the main loop ran while the key was awaited
    }
    if (assertSize(server.received(), 1)) {
        assertEq(server.received()[0].header("authorization"), "Bearer sk-from-keyring");
    }
    {
        const StoppedKeyring keyring; // and nothing in the main loop lets it go
        assertOk(generateOnce(session, ended, host));
        g_assert_false(keyring.watchdogFired());
    }
    if (assertSize(server.received(), 2)) {
        assertEq(server.received()[1].header("authorization"), "Bearer sk-from-keyring");
    }
    assertOk(clearSecret("saved-key"));
}

// Runs the main loop until `ended` holds a value (or 30 s pass, which fails the test).
template <typename T> static void runUntil(const std::optional<T>& ended) {
    const gint64 until = g_get_monotonic_time() + (30 * G_USEC_PER_SEC);
    while (!ended && g_get_monotonic_time() < until) {
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(500);
    }
    g_assert_true(ended.has_value());
}

// One keyring call made while the keyring is stopped, which only the main loop lets go: the call
// must come back without having blocked it.
template <typename T, typename Start> static T whileStopped(Start start) {
    std::optional<T> ended;
    StoppedKeyring keyring;
    g_assert_true(keyring.found());
    const SourceId idle = resumeFromTheMainLoop(keyring);
    const std::unique_ptr<KeyringCall> call = start([&ended](T answer) { ended = answer; });
    g_assert_false(ended.has_value()); // never inside the call's start
    runUntil(ended);
    g_assert_false(keyring.watchdogFired()); // the main loop ran while the keyring was stopped
    return *ended;
}

// What the Connections window asks of the keyring (store, look up, move on a rename, clear), each
// off the main loop: the stopped keyring answers only once the main loop has run.
static void testKeyringCallsOffTheMainLoop() {
    using Text = Result<std::string>;
    assertOk(whileStopped<Status>(
        [](auto done) { return storeSecretAsync("async-work", "sk-async-1", done); }));
    assertEq(lookupSecret("async-work"), "sk-async-1");
    assertEq(whileStopped<Text>([](auto done) { return lookupSecretAsync("async-work", done); }),
             "sk-async-1");
    // Renamed without a new key: the key moves.
    assertOk(whileStopped<Status>(
        [](auto done) { return saveConnectionKeyAsync("async-home", "async-work", "", done); }));
    assertEq(lookupSecret("async-home"), "sk-async-1");
    assertEq(lookupSecret("async-work"), "");
    // Renamed with a new key typed: that one is kept, the old name loses its key.
    assertOk(storeSecret("async-work", "sk-old"));
    assertOk(whileStopped<Status>([](auto done) {
        return saveConnectionKeyAsync("async-home", "async-work", "sk-async-2", done);
    }));
    assertEq(lookupSecret("async-home"), "sk-async-2");
    assertEq(lookupSecret("async-work"), "");
    assertOk(whileStopped<Status>([](auto done) { return clearSecretAsync("async-home", done); }));
    assertEq(lookupSecret("async-home"), "");
}

// The owner goes (a window closed) while the keyring is stopped: nothing of it runs afterwards;
// a lookup ends, and a write still happens once the keyring answers, never half done.
static void testKeyringCallOutlivesItsOwner() {
    bool heard = false;
    {
        StoppedKeyring keyring;
        g_assert_true(keyring.found());
        auto lookup =
            lookupSecretAsync("gone", [&heard](const Result<std::string>&) { heard = true; });
        auto write = storeSecretAsync("gone", "sk-gone", [&heard](const Status&) { heard = true; });
        lookup.reset();
        write.reset();
        drainMainContext();
        keyring.resume();
    }
    std::optional<std::string> stored;
    const gint64 until = g_get_monotonic_time() + (30 * G_USEC_PER_SEC);
    while (g_get_monotonic_time() < until) {
        if (auto found = lookupSecret("gone"); found && !found->empty()) {
            stored = *found;
            break;
        }
        g_usleep(10'000);
    }
    drainMainContext();
    assertEq(stored, "sk-gone");
    g_assert_false(heard);
    assertOk(clearSecret("gone"));
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/secrets/store-lookup-clear", testStoreLookupClear);
    g_test_add_func("/secrets/credential-for-saved-connection", testCredentialForSavedConnection);
    g_test_add_func("/secrets/key-looked-up-off-the-main-loop", testKeyLookedUpOffTheMainLoop);
    g_test_add_func("/secrets/keyring-calls-off-the-main-loop", testKeyringCallsOffTheMainLoop);
    g_test_add_func("/secrets/keyring-call-outlives-its-owner", testKeyringCallOutlivesItsOwner);
    return g_test_run();
}
