// A call to the Secret Service off the main loop. libsecret's sync calls wait on D-Bus (and
// perhaps an unlock prompt), writes as much as lookups: a keyring that is slow or stopped would
// freeze the window that asked. A call runs on a GTask worker thread, and its end comes back on
// the main loop.
#pragma once

#include "core/util/error.h"
#include "core/util/worker_call.h"

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>

namespace imagegen {

class KeyringCall {
  public:
    // Runs on the worker, on what it captured (copies: nothing of the owner's). A lookup passes
    // the cancellable to libsecret; a write ignores it, so that it is never left half done.
    using Work = std::function<Result<std::string>(GCancellable*)>;
    using Done = std::function<void(Result<std::string>)>;

    // `done` runs once, from the thread-default main context of the constructor's thread, never
    // inside the constructor.
    KeyringCall(Work work, Done done);
    // Drops `done` (nothing of the owner runs afterwards, so an owner may go while the worker
    // still waits) and cancels: a lookup ends, a write finishes on the worker unheard.
    ~KeyringCall();
    KeyringCall(const KeyringCall&) = delete;
    KeyringCall& operator=(const KeyringCall&) = delete;
    KeyringCall(KeyringCall&&) = delete;
    KeyringCall& operator=(KeyringCall&&) = delete;

  private:
    std::unique_ptr<WorkerCall> call_;
};

// The saved secret of a connection ("" when there is none).
std::unique_ptr<KeyringCall> lookupSecretAsync(const std::string& connectionName,
                                               std::function<void(Result<std::string>)> done);
std::unique_ptr<KeyringCall> storeSecretAsync(const std::string& connectionName,
                                              const std::string& secret,
                                              std::function<void(Status)> done);
std::unique_ptr<KeyringCall> clearSecretAsync(const std::string& connectionName,
                                              std::function<void(Status)> done);

// The keyring's part of saving a connection named `name`, formerly `previous` ("" for a new
// one): `typedKey` (unless empty) stored under `name`; on a rename, the key saved under
// `previous` moves to `name` unless one was typed, and `previous` loses its key. `done` hears
// whether the typed key was stored.
Status saveConnectionKey(const std::string& name, const std::string& previous,
                         const std::string& typedKey);
std::unique_ptr<KeyringCall> saveConnectionKeyAsync(const std::string& name,
                                                    const std::string& previous,
                                                    const std::string& typedKey,
                                                    std::function<void(Status)> done);

} // namespace imagegen
