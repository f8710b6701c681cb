#include "core/service/service.h"

#include "core/service/secret_store.h"
#include "core/util/i18n.h"

namespace imagegen {

namespace {

Result<const Connection*> savedConnection(const std::string& name, const ConnectionStore& store) {
    if (name.empty()) {
        return store.defaultConnection();
    }
    const Connection* saved = store.find(name);
    if (saved == nullptr) {
        return makeError(ErrorKind::Configuration,
                         textf(_("there is no saved connection named %s"), name.c_str()));
    }
    return saved;
}

// The credential at hand without waiting, else none yet: credentialPending.
void deferCredential(Service& s, const ServiceSources& from) {
    auto atHand = credentialAtHand(s.connection, from.env, *from.tokens, from.nowUnix);
    if (!atHand && from.known != nullptr && s.connection.auth != AuthMethod::EntraId) {
        atHand = from.known->find(s.connection.name);
    }
    s.credential = atHand.value_or(Credential{s.connection.auth, ""});
    s.credentialPending = !atHand;
}

// The connection and credential, before the model is known.
Status connect(Service& s, const std::string& connectionName, const ServiceSources& from) {
    auto saved = savedConnection(connectionName, *from.connections);
    if (!saved) {
        return saved.error();
    }
    if (*saved != nullptr) {
        s.connection = **saved;
        if (from.deferCredential) {
            deferCredential(s, from);
            return Ok{};
        }
        auto credential = credentialFor(s.connection, from.env, *from.tokens, from.nowUnix);
        if (!credential) {
            return credential.error();
        }
        s.credential = *credential;
        return Ok{};
    }
    auto fromEnv = connectionFromEnvironment(from.env);
    if (!fromEnv) {
        return fromEnv.error();
    }
    s.connection = fromEnv->connection;
    s.credential = fromEnv->credential;
    if (s.credential.method == AuthMethod::EntraId && s.credential.secret.empty()) {
        if (from.deferCredential) {
            deferCredential(s, from);
            return Ok{};
        }
        auto token = from.tokens->token(from.nowUnix);
        if (!token) {
            return token.error();
        }
        s.credential.secret = *token;
    }
    return Ok{};
}

} // namespace

const ModelCaps& capsFor(const ModelCatalog& catalog, const Connection& connection,
                         const std::string& model) {
    std::string name = !model.empty() ? model : connection.defaultModel;
    if (name.empty()) {
        name = "gpt-image-1";
    }
    const std::string recorded = connection.recordedModel(name);
    // familyOf takes an exact name first: a recorded model the table lacks falls to its family.
    return catalog.familyOf(recorded.empty() ? name : recorded);
}

Result<Service> resolveService(const std::string& connectionName, const std::string& model,
                               const ServiceSources& from) {
    Service s;
    if (auto connected = connect(s, connectionName, from); !connected) {
        return connected.error();
    }
    const bool azure = isAzure(s.connection.kind);
    s.model = !model.empty() ? model : s.connection.defaultModel;
    if (s.model.empty()) {
        if (azure) {
            return makeError(ErrorKind::Configuration,
                             _("no deployment was named: give the model parameter, or set "
                               "AZURE_OPENAI_DEPLOYMENT"));
        }
        s.model = "gpt-image-1";
    }
    const ModelCatalog& catalog = *from.catalog;
    s.caps = &capsFor(catalog, s.connection, s.model);
    s.familyGuessed =
        azure && s.connection.recordedModel(s.model).empty() && catalog.find(s.model) == nullptr;
    return s;
}

Error withGuessNote(Error e, const Service& s) {
    if (s.familyGuessed &&
        (e.kind == ErrorKind::BadRequest || e.kind == ErrorKind::InvalidRequest)) {
        e.message += textf(_(" (The deployment %s was taken to be %s from its name; if it runs "
                             "another model, record that model in the connection.)"),
                           s.model.c_str(), s.caps->name.c_str());
    }
    return e;
}

} // namespace imagegen
