#include "core/service/secret_store.h"

#include "core/service/credential_lookup.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"

#include <libsecret/secret.h>

namespace imagegen {

static const SecretSchema* schema() {
    static const SecretSchema s = [] {
        SecretSchema built{};
        built.name = "org.gimp.imagegen.Connection";
        built.flags = SECRET_SCHEMA_NONE;
        built.attributes[0] = {"connection", SECRET_SCHEMA_ATTRIBUTE_STRING};
        return built;
    }();
    return &s;
}

static Error keyringError(const std::string& what, const GError* error) {
    return makeError(ErrorKind::Configuration,
                     textf(_("%s (%s): is a keyring such as GNOME Keyring running and unlocked?"),
                           what.c_str(),
                           error != nullptr ? error->message : _("no Secret Service")));
}

Status storeSecret(const std::string& connectionName, const std::string& secret) {
    GErrorPtr error;
    const std::string label = "Imagegen for GIMP: " + connectionName;
    if (!secret_password_store_sync(schema(), SECRET_COLLECTION_DEFAULT, label.c_str(),
                                    secret.c_str(), nullptr, outPtr(error), "connection",
                                    connectionName.c_str(), nullptr)) {
        return keyringError(
            textf(_("the key for %s could not be saved in the keyring"), connectionName.c_str()),
            error.get());
    }
    return Ok{};
}

Result<std::string> lookupSecret(const std::string& connectionName, GCancellable* cancellable) {
    GErrorPtr error;
    gchar* found = secret_password_lookup_sync(schema(), cancellable, outPtr(error), "connection",
                                               connectionName.c_str(), nullptr);
    if (error) {
        return keyringError(
            textf(_("the key for %s could not be read from the keyring"), connectionName.c_str()),
            error.get());
    }
    std::string secret = found != nullptr ? found : "";
    secret_password_free(found);
    return secret;
}

Status clearSecret(const std::string& connectionName) {
    GErrorPtr error;
    secret_password_clear_sync(schema(), nullptr, outPtr(error), "connection",
                               connectionName.c_str(), nullptr);
    if (error) {
        return keyringError(textf(_("the key for %s could not be removed"), connectionName.c_str()),
                            error.get());
    }
    return Ok{};
}

Result<Credential> credentialFor(const Connection& connection, const EnvLookup& env,
                                 EntraTokenSource& tokens, int64_t nowUnix) {
    if (auto atHand = credentialAtHand(connection, env, tokens, nowUnix)) {
        return *atHand;
    }
    const CredentialQuery query = credentialQuery(connection, env, nullptr, nowUnix);
    return findCredential(connection, query.envKey, tokens, nowUnix, nullptr);
}

} // namespace imagegen
