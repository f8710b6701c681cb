#include "core/service/keyring_call.h"

#include "core/service/secret_store.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"

#include <exception>
#include <utility>

namespace imagegen {

namespace {

using Answer = Result<std::string>;

Answer asAnswer(const Status& status) {
    if (!status) {
        return status.error();
    }
    return std::string();
}

KeyringCall::Done statusDone(std::function<void(Status)> done) {
    return [done = std::move(done)](const Answer& answer) {
        if (!answer) {
            done(answer.error());
        } else {
            done(Ok{});
        }
    };
}

} // namespace

KeyringCall::KeyringCall(Work work, Done done) {
    // Written on the worker, read on the main loop once the work has ended; a cancel comes only
    // from the owner's going, and then nobody hears the answer.
    auto answer = std::make_shared<std::optional<Answer>>();
    call_ = std::make_unique<WorkerCall>(
        [work = std::move(work), answer](GCancellable* own) {
            try {
                answer->emplace(work(own));
            } catch (const std::exception& e) {
                answer->emplace(
                    makeError(ErrorKind::Configuration, textf(_("internal error: %s"), e.what())));
            }
        },
        nullptr,
        [answer, done = std::move(done)](bool cancelled) {
            if (!cancelled && *answer) {
                done(std::move(**answer));
            }
        });
}

KeyringCall::~KeyringCall() = default;

std::unique_ptr<KeyringCall> lookupSecretAsync(const std::string& connectionName,
                                               std::function<void(Result<std::string>)> done) {
    return std::make_unique<KeyringCall>(
        [connectionName](GCancellable* cancellable) {
            return lookupSecret(connectionName, cancellable);
        },
        std::move(done));
}

std::unique_ptr<KeyringCall> storeSecretAsync(const std::string& connectionName,
                                              const std::string& secret,
                                              std::function<void(Status)> done) {
    return std::make_unique<KeyringCall>(
        [connectionName, secret](GCancellable* /*never half a write*/) {
            return asAnswer(storeSecret(connectionName, secret));
        },
        statusDone(std::move(done)));
}

std::unique_ptr<KeyringCall> clearSecretAsync(const std::string& connectionName,
                                              std::function<void(Status)> done) {
    return std::make_unique<KeyringCall>(
        [connectionName](GCancellable* /*never half a write*/) {
            return asAnswer(clearSecret(connectionName));
        },
        statusDone(std::move(done)));
}

Status saveConnectionKey(const std::string& name, const std::string& previous,
                         const std::string& typedKey) {
    Status typed = Ok{};
    if (!typedKey.empty()) {
        typed = storeSecret(name, typedKey);
    }
    if (!previous.empty() && previous != name) {
        if (auto old = lookupSecret(previous); typedKey.empty() && old && !old->empty()) {
            (void)storeSecret(name, *old);
        }
        (void)clearSecret(previous);
    }
    return typed;
}

std::unique_ptr<KeyringCall> saveConnectionKeyAsync(const std::string& name,
                                                    const std::string& previous,
                                                    const std::string& typedKey,
                                                    std::function<void(Status)> done) {
    return std::make_unique<KeyringCall>(
        [name, previous, typedKey](GCancellable* /*never half a move*/) {
            return asAnswer(saveConnectionKey(name, previous, typedKey));
        },
        statusDone(std::move(done)));
}

} // namespace imagegen
