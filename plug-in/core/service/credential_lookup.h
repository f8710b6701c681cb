// The credential of a connection found off the main loop. Asking the Secret Service (D-Bus, and
// perhaps an unlock prompt) or the Azure CLI (1-3 s for `az account get-access-token`) would
// freeze the dialog: a lookup runs on a GTask worker thread, and its end comes back on the main
// loop. What needs no wait (a token in the environment, one still fresh, a key found before) is
// taken at once.
#pragma once

#include "core/service/connection.h"
#include "core/util/error.h"
#include "core/util/glib_ptr.h"
#include "core/util/worker_call.h"

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace imagegen {

// Everything a lookup reads, copied on the main loop: the worker touches nothing of its
// caller's (the environment function of a RunSetup, a connection store that the Connections
// window edits), only this and the shared token source.
struct CredentialQuery {
    Connection connection;
    std::string envKey; // the key variable of the connection's kind, as the environment has it
    std::shared_ptr<EntraTokenSource> tokens;
    int64_t nowUnix = 0;
};

CredentialQuery credentialQuery(const Connection& connection, const EnvLookup& env,
                                std::shared_ptr<EntraTokenSource> tokens, int64_t nowUnix);

// Without waiting: Entra ID's token from AZURE_OPENAI_AD_TOKEN or still fresh in `tokens`. A
// saved key needs the Secret Service, so never comes from here.
std::optional<Credential> credentialAtHand(const Connection& connection, const EnvLookup& env,
                                           const EntraTokenSource& tokens, int64_t nowUnix);

// The part that waits, on whichever thread calls it: an Entra ID token from the Azure CLI, else
// the key saved for the connection, else the environment's key (`envKey`). A cancel of
// `cancellable` (may be null) ends it as ErrorKind::Cancelled.
Result<Credential> findCredential(const Connection& connection, const std::string& envKey,
                                  EntraTokenSource& tokens, int64_t nowUnix,
                                  GCancellable* cancellable);

// One lookup on a worker thread. `done` runs once, from the thread-default main context of the
// constructor's thread, never inside the constructor; a cancel of `cancellable` (may be null)
// ends it at once as ErrorKind::Cancelled, the worker finishing on its own copy of the query
// (and ending the Azure CLI). Destroying the lookup cancels it and drops `done`: nothing of the
// owner runs afterwards, so an owner (a closed dialog) may go while the worker still waits.
class CredentialLookup {
  public:
    using Done = std::function<void(Result<Credential>)>;
    CredentialLookup(CredentialQuery query, GCancellable* cancellable, Done done);
    ~CredentialLookup();
    CredentialLookup(const CredentialLookup&) = delete;
    CredentialLookup& operator=(const CredentialLookup&) = delete;
    CredentialLookup(CredentialLookup&&) = delete;
    CredentialLookup& operator=(CredentialLookup&&) = delete;

  private:
    std::unique_ptr<WorkerCall> call_;
};

// Keys found for saved connections, by name, so that the next run and the next plan take them
// without asking the Secret Service again. Main loop only. The Connections window forgets a
// connection's key when it saves or removes it.
class CredentialCache {
  public:
    [[nodiscard]] std::optional<Credential> find(const std::string& connection) const;
    void keep(const std::string& connection, const Credential& credential);
    void forget(const std::string& connection);

  private:
    std::map<std::string, Credential> known_;
};

} // namespace imagegen
