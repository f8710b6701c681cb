#include "core/service/credential_lookup.h"

#include "core/service/secret_store.h"
#include "core/util/i18n.h"

#include <exception>
#include <utility>

namespace imagegen {

namespace {

const char* keyVariable(const Connection& connection) {
    return isAzure(connection.kind) ? "AZURE_OPENAI_API_KEY" : "OPENAI_API_KEY";
}

Error cancelled() {
    return makeError(ErrorKind::Cancelled, "cancelled");
}

} // namespace

CredentialQuery credentialQuery(const Connection& connection, const EnvLookup& env,
                                std::shared_ptr<EntraTokenSource> tokens, int64_t nowUnix) {
    const char* key = env(keyVariable(connection));
    return {connection, key != nullptr ? key : "", std::move(tokens), nowUnix};
}

std::optional<Credential> credentialAtHand(const Connection& connection, const EnvLookup& env,
                                           const EntraTokenSource& tokens, int64_t nowUnix) {
    if (connection.auth != AuthMethod::EntraId) {
        return std::nullopt;
    }
    const char* token = env("AZURE_OPENAI_AD_TOKEN");
    if (token != nullptr && *token != '\0') {
        return Credential{AuthMethod::EntraId, token};
    }
    if (auto fresh = tokens.cached(nowUnix)) {
        return Credential{AuthMethod::EntraId, *fresh};
    }
    return std::nullopt;
}

Result<Credential> findCredential(const Connection& connection, const std::string& envKey,
                                  EntraTokenSource& tokens, int64_t nowUnix,
                                  GCancellable* cancellable) {
    if (connection.auth == AuthMethod::EntraId) {
        auto fetched = tokens.token(nowUnix, cancellable);
        if (!fetched) {
            return fetched.error();
        }
        return Credential{AuthMethod::EntraId, *fetched};
    }
    auto saved = lookupSecret(connection.name, cancellable);
    if (g_cancellable_is_cancelled(cancellable) != FALSE) {
        return cancelled();
    }
    if (saved && !saved->empty()) {
        return Credential{connection.auth, *saved};
    }
    if (!envKey.empty()) {
        return Credential{connection.auth, envKey};
    }
    std::string message = textf(_("no key is saved for the connection %s: enter it in "
                                  "Connections… and Save, or set %s"),
                                connection.name.c_str(), keyVariable(connection));
    if (!saved) {
        message += textf(_(" (%s)"), saved.error().message.c_str());
    }
    return makeError(ErrorKind::Configuration, message);
}

CredentialLookup::CredentialLookup(CredentialQuery query, GCancellable* cancellable, Done done) {
    // Written on the worker, read on the main loop once the work has ended (never after a cancel,
    // when the worker may still be at it).
    auto found = std::make_shared<std::optional<Result<Credential>>>();
    call_ = std::make_unique<WorkerCall>(
        [query = std::move(query), found](GCancellable* own) {
            try {
                found->emplace(findCredential(query.connection, query.envKey, *query.tokens,
                                              query.nowUnix, own));
            } catch (const std::exception& e) {
                found->emplace(
                    makeError(ErrorKind::Authentication, textf(_("internal error: %s"), e.what())));
            }
        },
        cancellable,
        [found, done = std::move(done)](bool cancelledFirst) {
            done(cancelledFirst || !*found ? Result<Credential>(cancelled()) : std::move(**found));
        });
}

CredentialLookup::~CredentialLookup() = default;

std::optional<Credential> CredentialCache::find(const std::string& connection) const {
    auto it = known_.find(connection);
    return it == known_.end() ? std::nullopt : std::optional<Credential>(it->second);
}

void CredentialCache::keep(const std::string& connection, const Credential& credential) {
    known_[connection] = credential;
}

void CredentialCache::forget(const std::string& connection) {
    known_.erase(connection);
}

} // namespace imagegen
