// Which service a run talks to, with which credential and which model: the connection named in
// the call, else the saved default, else the official SDKs' environment variables.
#pragma once

#include "core/service/connection.h"
#include "core/service/credential_lookup.h"
#include "core/service/models.h"
#include "core/util/error.h"

#include <cstdint>
#include <string>

namespace imagegen {

struct Service {
    Connection connection;
    Credential credential;
    std::string model;               // the model or deployment name sent
    const ModelCaps* caps = nullptr; // points into the catalog it was resolved with
    bool familyGuessed = false;      // an Azure deployment taken to be a model by its name
    // Resolved with deferCredential and nothing at hand: the credential (empty here) is to be
    // looked up off the main loop (CredentialLookup) before the first request.
    bool credentialPending = false;
};

// Where a service may come from; the catalog must outlive the services resolved from it.
struct ServiceSources {
    const ModelCatalog* catalog = nullptr;
    const ConnectionStore* connections = nullptr;
    EnvLookup env;
    EntraTokenSource* tokens = nullptr;
    int64_t nowUnix = 0;
    // Never wait on the Secret Service or the Azure CLI: take the credential at hand (the
    // environment's, a fresh token, a key in `known`), else leave it pending.
    bool deferCredential = false;
    const CredentialCache* known = nullptr; // may be null
};

// The capabilities a run of `model` on `connection` is checked against: those of the model the
// connection records for a deployment of that name, else of the model the name is or contains
// (ModelCatalog::familyOf). An empty `model` is the connection's default model, else
// gpt-image-1. resolveService takes a run's caps from here, and the dialog the options it offers
// (before any credential is fetched), so that both always agree.
const ModelCaps& capsFor(const ModelCatalog& catalog, const Connection& connection,
                         const std::string& model);

Result<Service> resolveService(const std::string& connectionName, const std::string& model,
                               const ServiceSources& sources);

// A refusal from a deployment whose model was guessed from its name says so, and how to record
// the right one.
Error withGuessNote(Error e, const Service& service);

} // namespace imagegen
