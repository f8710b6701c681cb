// ConnectionsEditor, its Test connection: the credential the test uses, found off the main loop
// when it must be, and the request that proves it; the rest is in connections_editor.cpp.
#include "dialog/connections_editor.h"

#include "core/util/i18n.h"

#include <glib/gi18n-lib.h>

#include <string>
#include <utility>

namespace imagegen::dialog {

// Proves routing and credentials with a request the service refuses without making an image,
// with the credential named, so that "it works" is never about a key other than the one the user
// thinks of: the key typed, else an Entra ID token, else the saved key, else the environment's.
// The saved key and a token from the Azure CLI are looked up off the main loop: the window stays
// alive while the keyring or `az` answers.
void ConnectionsEditor::test() {
    const Connection c = fromFields();
    sayResult(_("Testing…"), Tone::Plain);
    lookup_.reset(); // drops an earlier lookup still waiting
    http_.reset();   // and an earlier test still in flight
    if (const std::string typed = typedKey(); !typed.empty()) {
        sendTest(c, Credential{c.auth, typed}, _("the key typed above"));
        return;
    }
    Connection saved = c;
    saved.name = editing_.empty() ? c.name : editing_;
    const int64_t now = setup_->nowUnix();
    if (auto atHand = credentialAtHand(saved, setup_->env, *setup_->tokens, now)) {
        sendTest(c, *atHand, _("an Entra ID token"));
        return;
    }
    CredentialQuery query = credentialQuery(saved, setup_->env, setup_->tokens, now);
    const std::string envKey = query.envKey;
    lookup_ = std::make_unique<CredentialLookup>(
        std::move(query), nullptr, [this, c, envKey](Result<Credential> found) {
            if (!found) {
                sayResult(found.error().message, Tone::Bad);
                return;
            }
            // The keyring is asked first: a key other than the environment's came from it.
            const std::string source = c.auth == AuthMethod::EntraId ? _("an Entra ID token")
                                       : found->secret != envKey ? _("the key saved in the keyring")
                                       : isAzure(c.kind)
                                           ? _("AZURE_OPENAI_API_KEY from the environment")
                                           : _("OPENAI_API_KEY from the environment");
            sendTest(c, *found, source);
        });
}

void ConnectionsEditor::sendTest(const Connection& c, const Credential& credential,
                                 const std::string& source) {
    std::string model = c.defaultModel;
    if (model.empty() && !c.deployments.empty()) {
        model = c.deployments.front().name;
    }
    if (model.empty() && !isAzure(c.kind)) {
        model = "gpt-image-1";
    }
    // A test answers at once: no retries of a 429 or 5xx, and a short wait for the connection.
    HttpOptions options = setup_->http;
    options.maxRetries = 0;
    options.connectTimeoutMs = 5'000;
    options.totalTimeoutMs = 30'000;
    http_ = std::make_unique<HttpClient>(options);
    testConnection(
        *http_, c, credential, model, nullptr, [this, source](const ConnectionTestResult& result) {
            sayResult(textf(_("%s Tested with %s."), result.message.c_str(), source.c_str()),
                      result.verdict == ConnectionVerdict::Works ? Tone::Good : Tone::Bad);
        });
}

} // namespace imagegen::dialog
