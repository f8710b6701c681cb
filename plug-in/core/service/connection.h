// Where requests go and how they authenticate: Azure (deployments path or /openai/v1), OpenAI,
// or any compatible server. A Connection holds no secret: secrets live in the Secret Service or
// the environment and are only ever held in memory (Credential).
#pragma once

#include "core/service/image_request.h"
#include "core/util/error.h"

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imagegen {

enum class ConnectionKind { Azure, AzureV1, OpenAI, Compatible };
enum class AuthMethod { ApiKeyHeader, BearerKey, EntraId };

const char* connectionKindName(ConnectionKind kind);
std::optional<ConnectionKind> parseConnectionKind(const std::string& text);
const char* authMethodName(AuthMethod method);
std::optional<AuthMethod> parseAuthMethod(const std::string& text);

inline constexpr const char* kDefaultAzureApiVersion = "2025-04-01-preview";
inline constexpr const char* kOpenAIBaseUrl = "https://api.openai.com/v1";

struct Deployment {
    std::string name;  // what goes in the URL or in `model`
    std::string model; // the model family behind it (gpt-image-1, dall-e-3, …)
};

struct Connection {
    std::string name;
    ConnectionKind kind = ConnectionKind::OpenAI;
    std::string endpoint; // Azure resource URL, or the base URL (…/v1) of the others
    AuthMethod auth = AuthMethod::BearerKey;
    std::string apiVersion; // Azure: required on the deployments path, optional on /openai/v1
    std::vector<Deployment> deployments;
    std::string defaultModel;
    // A PEM file of the CA that signs the server's certificate, for a server whose certificate
    // the system does not trust (a company proxy, a local server). Empty: the system's store.
    std::string caFile;

    // The model family recorded for a deployment, or an empty string.
    [[nodiscard]] std::string recordedModel(const std::string& deployment) const;
};

// https anywhere; plain http only to loopback (127.0.0.0/8, localhost, [::1]).
Status checkEndpoint(const std::string& url);

// checkEndpoint, for the base URL of a service, which the operations' paths are appended to: it
// must have no query or fragment, or the paths would end up inside them.
Status checkServiceEndpoint(const std::string& url);

// The full URL of an operation for a model (OpenAI, compatible) or deployment (Azure).
Result<std::string> operationUrl(const Connection& c, Operation op, const std::string& model);

// The connection's CA file, when it names one that exists, is a regular file of at most
// kMaxCaFileBytes: the TLS library reads it whole, and a FIFO or a link to a device there would
// stall the call.
inline constexpr size_t kMaxCaFileBytes = size_t{8} << 20;
Status checkCaFile(const Connection& c);

// Whether the request body names the model: everywhere but on Azure's deployments path, where
// the deployment is in the URL.
bool bodyNamesModel(ConnectionKind kind);

// Either of Azure's URL styles (deployments path or /openai/v1).
bool isAzure(ConnectionKind kind);

// The secret in memory, with how it is sent.
struct Credential {
    AuthMethod method = AuthMethod::BearerKey;
    std::string secret;
};

using Header = std::pair<std::string, std::string>;
Header authHeader(const Credential& credential);

using EnvLookup = std::function<const char*(const char*)>;
EnvLookup processEnvironment();

// The connection and credential the official SDKs' variables describe: AZURE_OPENAI_ENDPOINT
// (with AZURE_OPENAI_AD_TOKEN over AZURE_OPENAI_API_KEY, OPENAI_API_VERSION and
// AZURE_OPENAI_DEPLOYMENT), else OPENAI_BASE_URL / OPENAI_API_KEY. An Azure endpoint with neither
// key nor token authenticates with Entra ID through the Azure CLI (credential left empty).
struct EnvironmentConfig {
    Connection connection;
    Credential credential;
};
Result<EnvironmentConfig> connectionFromEnvironment(const EnvLookup& env);

// Entra ID access tokens from the Azure CLI, fetched again shortly before they expire. Safe to
// share between threads: the main loop asks cached() and never waits on the CLI; a worker
// (credential_lookup.h) runs token(), one fetch at a time.
class EntraTokenSource {
  public:
    // The command prints the JSON of `az account get-access-token`.
    explicit EntraTokenSource(std::vector<std::string> command = defaultCommand());
    static std::vector<std::string> defaultCommand();

    // The token, run through the CLI when none is cached or it expires within five minutes. A
    // cancel of `cancellable` (may be null) ends the CLI and the call as ErrorKind::Cancelled.
    Result<std::string> token(int64_t nowUnix, GCancellable* cancellable = nullptr);
    // The cached token when it needs no fetch at `nowUnix`: never waits on a fetch in flight.
    [[nodiscard]] std::optional<std::string> cached(int64_t nowUnix) const;
    [[nodiscard]] int64_t expiresAt() const;

    // Reads the CLI's JSON: accessToken with expires_on (unix) or expiresOn (local time).
    static Result<std::pair<std::string, int64_t>> parseCliOutput(const std::string& json);

  private:
    const std::vector<std::string> command_;
    std::mutex fetching_;      // held while the CLI runs, so that two lookups run it once
    mutable std::mutex value_; // guards token_ and expiresAt_, held only to read or write them
    std::string token_;
    int64_t expiresAt_ = 0;
};

// Deployments as a person types them: "name=model, other" (the model may be left out).
std::vector<Deployment> parseDeploymentList(const std::string& text);
std::string formatDeploymentList(const std::vector<Deployment>& deployments);

// Saved connections: a key file that never holds a secret.
class ConnectionStore {
  public:
    static Result<ConnectionStore> load(const std::string& path); // a missing file is empty
    // The key file's text, as load() reads it from the file (also what the fuzz target feeds).
    static Result<ConnectionStore> fromText(std::string_view text);
    [[nodiscard]] Status save(const std::string& path) const;

    [[nodiscard]] const Connection* find(const std::string& name) const;
    [[nodiscard]] const Connection* defaultConnection() const;
    void put(Connection connection);
    // Forgets the connection (and the default, when it was the default).
    void remove(const std::string& name);
    void setDefault(const std::string& name) { default_ = name; }
    // The default as saved ("" when none is named; a lone connection is the default anyway).
    [[nodiscard]] const std::string& defaultName() const { return default_; }
    [[nodiscard]] const std::vector<Connection>& connections() const { return connections_; }

  private:
    std::vector<Connection> connections_;
    std::string default_;
};

} // namespace imagegen
