// Secrets of saved connections, kept in the Secret Service (GNOME Keyring, KWallet) through
// libsecret: never in the key file, a log or an error message.
#pragma once

#include "core/service/connection.h"
#include "core/util/error.h"

#include <gio/gio.h>

#include <string>

namespace imagegen {

Status storeSecret(const std::string& connectionName, const std::string& secret);
// The saved secret, or an empty string when there is none. It waits on D-Bus (and perhaps an
// unlock prompt): the main loop asks through CredentialLookup (credential_lookup.h).
Result<std::string> lookupSecret(const std::string& connectionName,
                                 GCancellable* cancellable = nullptr);
Status clearSecret(const std::string& connectionName);

// The credential to use for a saved connection: an Entra ID token from the Azure CLI, else the
// secret saved for it, else the SDKs' key variable for its kind. It waits: the main loop looks
// up through CredentialLookup instead.
Result<Credential> credentialFor(const Connection& connection, const EnvLookup& env,
                                 EntraTokenSource& tokens, int64_t nowUnix);

} // namespace imagegen
