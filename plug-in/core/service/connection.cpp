#include "core/service/connection.h"

#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"
#include "core/util/local_file.h"

#include <gio/gio.h>

#include <algorithm>
#include <cctype>

namespace imagegen {

const char* connectionKindName(ConnectionKind kind) {
    switch (kind) {
    case ConnectionKind::Azure:
        return "azure";
    case ConnectionKind::AzureV1:
        return "azure-v1";
    case ConnectionKind::OpenAI:
        return "openai";
    case ConnectionKind::Compatible:
        return "compatible";
    }
    return "openai";
}

std::optional<ConnectionKind> parseConnectionKind(const std::string& text) {
    for (auto kind : {ConnectionKind::Azure, ConnectionKind::AzureV1, ConnectionKind::OpenAI,
                      ConnectionKind::Compatible}) {
        if (text == connectionKindName(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

const char* authMethodName(AuthMethod method) {
    switch (method) {
    case AuthMethod::ApiKeyHeader:
        return "api-key";
    case AuthMethod::BearerKey:
        return "bearer";
    case AuthMethod::EntraId:
        return "entra-id";
    }
    return "bearer";
}

std::optional<AuthMethod> parseAuthMethod(const std::string& text) {
    for (auto m : {AuthMethod::ApiKeyHeader, AuthMethod::BearerKey, AuthMethod::EntraId}) {
        if (text == authMethodName(m)) {
            return m;
        }
    }
    return std::nullopt;
}

std::string Connection::recordedModel(const std::string& deployment) const {
    for (const auto& d : deployments) {
        if (d.name == deployment) {
            return d.model;
        }
    }
    return {};
}

static bool isLoopbackHost(const std::string& host) {
    if (host == "localhost" || host == "::1" || host == "[::1]") {
        return true;
    }
    GRef<GInetAddress> address = adoptRef(g_inet_address_new_from_string(host.c_str()));
    return address && g_inet_address_get_is_loopback(address.get()) != FALSE;
}

Status checkEndpoint(const std::string& url) {
    GErrorPtr error;
    const GUriPtr parsed(g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, outPtr(error)));
    if (!parsed) {
        return makeError(ErrorKind::Configuration,
                         textf(_("the endpoint %s is not a valid URL"), url.c_str()));
    }
    const std::string scheme = g_uri_get_scheme(parsed.get());
    const char* hostRaw = g_uri_get_host(parsed.get());
    const std::string host = hostRaw != nullptr ? hostRaw : "";
    if (host.empty()) {
        return makeError(ErrorKind::Configuration,
                         textf(_("the endpoint %s names no host"), url.c_str()));
    }
    if (scheme == "https") {
        return Ok{};
    }
    if (scheme == "http" && isLoopbackHost(host)) {
        return Ok{};
    }
    if (scheme == "http") {
        return makeError(
            ErrorKind::Configuration,
            textf(_("the endpoint %s uses plain http, which would send the key unencrypted: use "
                    "https (plain http is allowed only to this computer, 127.0.0.1 or "
                    "localhost)"),
                  url.c_str()));
    }
    return makeError(ErrorKind::Configuration,
                     textf(_("the endpoint %s must start with https://"), url.c_str()));
}

Status checkServiceEndpoint(const std::string& url) {
    if (auto s = checkEndpoint(url); !s) {
        return s;
    }
    // Refused rather than rebuilt around: a query or fragment in a base URL is a pasted request
    // address or a typing slip, and the user can act on a message naming it.
    const GUriPtr parsed(g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr));
    if (g_uri_get_query(parsed.get()) != nullptr || g_uri_get_fragment(parsed.get()) != nullptr) {
        // TRANSLATORS: %s is the endpoint URL as the user gave it.
        return makeError(ErrorKind::Configuration,
                         textf(_("the endpoint %s has a part after ? or #: give the service's "
                                 "address without it"),
                               url.c_str()));
    }
    return Ok{};
}

static std::string stripTrailingSlashes(std::string s) {
    while (!s.empty() && s.back() == '/') {
        s.pop_back();
    }
    return s;
}

static std::string escapeSegment(const std::string& segment) {
    GCharPtr escaped(g_uri_escape_string(segment.c_str(), nullptr, FALSE));
    return escaped.get();
}

static std::string escapeQueryValue(const std::string& value) {
    GCharPtr escaped(g_uri_escape_string(value.c_str(), nullptr, FALSE));
    return escaped.get();
}

Result<std::string> operationUrl(const Connection& c, Operation op, const std::string& model) {
    std::string base = stripTrailingSlashes(c.endpoint);
    if (c.kind == ConnectionKind::OpenAI && base.empty()) {
        base = kOpenAIBaseUrl;
    }
    if (base.empty()) {
        return makeError(ErrorKind::Configuration,
                         c.name.empty()
                             ? std::string(_("the connection in use has no endpoint"))
                             : textf(_("the connection %s has no endpoint"), c.name.c_str()));
    }
    if (auto s = checkServiceEndpoint(base); !s) {
        return s.error();
    }
    const std::string path = operationPath(op);
    switch (c.kind) {
    case ConnectionKind::Azure: {
        if (model.empty()) {
            return makeError(ErrorKind::Configuration,
                             _("no deployment was given: name the Azure deployment to use "
                               "(the model parameter, or AZURE_OPENAI_DEPLOYMENT)"));
        }
        if (base.ends_with("/openai")) {
            base.resize(base.size() - std::string("/openai").size());
        }
        const std::string version = c.apiVersion.empty() ? kDefaultAzureApiVersion : c.apiVersion;
        return base + "/openai/deployments/" + escapeSegment(model) + "/" + path +
               "?api-version=" + escapeQueryValue(version);
    }
    case ConnectionKind::AzureV1: {
        if (!base.ends_with("/openai/v1")) {
            base += base.ends_with("/openai") ? "/v1" : "/openai/v1";
        }
        std::string url = base + "/" + path;
        if (!c.apiVersion.empty()) {
            url += "?api-version=" + escapeQueryValue(c.apiVersion);
        }
        return url;
    }
    case ConnectionKind::OpenAI:
    case ConnectionKind::Compatible:
        return base + "/" + path;
    }
    return makeError(ErrorKind::Configuration, _("unknown connection kind"));
}

bool isAzure(ConnectionKind kind) {
    return kind == ConnectionKind::Azure || kind == ConnectionKind::AzureV1;
}

bool bodyNamesModel(ConnectionKind kind) {
    return kind != ConnectionKind::Azure;
}

Header authHeader(const Credential& credential) {
    if (credential.method == AuthMethod::ApiKeyHeader) {
        return {"api-key", credential.secret};
    }
    return {"Authorization", "Bearer " + credential.secret};
}

EnvLookup processEnvironment() {
    return [](const char* name) {
        return g_getenv(name);
    };
}

static std::string envString(const EnvLookup& env, const char* name) {
    const char* v = env(name);
    return v != nullptr ? std::string(v) : std::string();
}

Result<EnvironmentConfig> connectionFromEnvironment(const EnvLookup& env) {
    EnvironmentConfig config;
    Connection& c = config.connection;
    const std::string azureEndpoint = envString(env, "AZURE_OPENAI_ENDPOINT");
    if (!azureEndpoint.empty()) {
        c.name = "environment (Azure)";
        c.endpoint = stripTrailingSlashes(azureEndpoint);
        c.kind =
            c.endpoint.ends_with("/openai/v1") ? ConnectionKind::AzureV1 : ConnectionKind::Azure;
        c.apiVersion = envString(env, "OPENAI_API_VERSION");
        if (c.apiVersion.empty() && c.kind == ConnectionKind::Azure) {
            c.apiVersion = kDefaultAzureApiVersion;
        }
        c.defaultModel = envString(env, "AZURE_OPENAI_DEPLOYMENT");
        const std::string token = envString(env, "AZURE_OPENAI_AD_TOKEN");
        const std::string key = envString(env, "AZURE_OPENAI_API_KEY");
        if (!token.empty()) {
            c.auth = AuthMethod::EntraId;
            config.credential = {AuthMethod::EntraId, token};
        } else if (!key.empty()) {
            c.auth = AuthMethod::ApiKeyHeader;
            config.credential = {AuthMethod::ApiKeyHeader, key};
        } else {
            c.auth = AuthMethod::EntraId; // the Azure CLI provides the token
            config.credential = {AuthMethod::EntraId, ""};
        }
    } else {
        const std::string base = envString(env, "OPENAI_BASE_URL");
        const std::string key = envString(env, "OPENAI_API_KEY");
        if (base.empty() && key.empty()) {
            return makeError(
                ErrorKind::Configuration,
                _("no connection is set up: add one with Connections… in the plug-in's "
                  "dialog (Filters ▸ Generative), or set AZURE_OPENAI_ENDPOINT with "
                  "AZURE_OPENAI_API_KEY, or OPENAI_API_KEY"));
        }
        const bool official = base.empty() || stripTrailingSlashes(base) == kOpenAIBaseUrl;
        c.name = official ? "environment (OpenAI)" : "environment (compatible)";
        c.kind = official ? ConnectionKind::OpenAI : ConnectionKind::Compatible;
        c.endpoint = official ? std::string(kOpenAIBaseUrl) : stripTrailingSlashes(base);
        c.auth = AuthMethod::BearerKey;
        config.credential = {AuthMethod::BearerKey, key};
    }
    if (auto s = checkServiceEndpoint(c.endpoint); !s) {
        return s.error();
    }
    return config;
}

// ---- Entra ID through the Azure CLI ----

EntraTokenSource::EntraTokenSource(std::vector<std::string> command)
    : command_(std::move(command)) {}

std::vector<std::string> EntraTokenSource::defaultCommand() {
    return {"az",
            "account",
            "get-access-token",
            "--resource",
            "https://cognitiveservices.azure.com",
            "--output",
            "json"};
}

Result<std::pair<std::string, int64_t>> EntraTokenSource::parseCliOutput(const std::string& text) {
    auto document = json::parseObject(text);
    JsonObject* root = document ? document->root() : nullptr;
    if (!document) {
        return makeError(ErrorKind::Authentication,
                         textf(_("the Azure CLI did not print an access token (%s)"),
                               document.error().message.c_str()));
    }
    auto token = json::string(root, "accessToken");
    if (!token || token->empty()) {
        return makeError(ErrorKind::Authentication, _("the Azure CLI printed no accessToken"));
    }
    if (auto unix = json::integer(root, "expires_on")) {
        return std::pair{*token, *unix};
    }
    if (auto unixText = json::string(root, "expires_on")) {
        return std::pair{*token,
                         static_cast<int64_t>(g_ascii_strtoll(unixText->c_str(), nullptr, 10))};
    }
    if (auto local = json::string(root, "expiresOn")) {
        // "2025-01-31 15:52:20.000000", in local time
        std::string iso = *local;
        std::replace(iso.begin(), iso.end(), ' ', 'T');
        const GTimeZonePtr tz(g_time_zone_new_local());
        if (const GDateTimePtr when{g_date_time_new_from_iso8601(iso.c_str(), tz.get())}) {
            return std::pair{*token, static_cast<int64_t>(g_date_time_to_unix(when.get()))};
        }
    }
    return makeError(ErrorKind::Authentication, _("the Azure CLI's token has no expiry time"));
}

static constexpr int64_t kRefreshMargin = 300; // fetch again five minutes before it expires

std::optional<std::string> EntraTokenSource::cached(int64_t nowUnix) const {
    const std::lock_guard lock(value_);
    if (!token_.empty() && nowUnix < expiresAt_ - kRefreshMargin) {
        return token_;
    }
    return std::nullopt;
}

int64_t EntraTokenSource::expiresAt() const {
    const std::lock_guard lock(value_);
    return expiresAt_;
}

Result<std::string> EntraTokenSource::token(int64_t nowUnix, GCancellable* cancellable) {
    // One fetch at a time: a second caller waits for the first and takes its token.
    const std::lock_guard fetching(fetching_);
    if (auto fresh = cached(nowUnix)) {
        return *fresh;
    }
    std::vector<const char*> argv;
    argv.reserve(command_.size() + 1);
    for (const auto& a : command_) {
        argv.push_back(a.c_str());
    }
    argv.push_back(nullptr);
    GErrorPtr error;
    // GSubprocess rather than g_spawn_sync: a cancel (a closed dialog) ends the CLI at once.
    const GRef<GSubprocess> cli =
        adoptRef(g_subprocess_newv(argv.data(),
                                   static_cast<GSubprocessFlags>(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                 G_SUBPROCESS_FLAGS_STDERR_SILENCE),
                                   outPtr(error)));
    if (!cli) {
        return makeError(
            ErrorKind::Authentication,
            textf(_("no API key or token is set, and the Azure CLI could not be run to get an "
                    "Entra ID token (%s): set AZURE_OPENAI_API_KEY, or install the Azure CLI and "
                    "run az login"),
                  error->message));
    }
    GCharPtr out;
    if (g_subprocess_communicate_utf8(cli.get(), nullptr, cancellable, outPtr(out), nullptr,
                                      outPtr(error)) == FALSE) {
        g_subprocess_force_exit(cli.get());
        if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED) != FALSE) {
            return makeError(ErrorKind::Cancelled, "cancelled");
        }
        return makeError(ErrorKind::Authentication,
                         textf(_("the Azure CLI's answer could not be read (%s)"), error->message));
    }
    if (g_subprocess_get_successful(cli.get()) == FALSE) {
        return makeError(ErrorKind::Authentication,
                         _("the Azure CLI could not get an Entra ID token: run az login"));
    }
    auto parsed = parseCliOutput(out ? out.get() : "");
    if (!parsed) {
        return parsed.error();
    }
    const std::lock_guard lock(value_);
    token_ = parsed->first;
    expiresAt_ = parsed->second;
    return token_;
}

Status checkCaFile(const Connection& c) {
    if (c.caFile.empty()) {
        return Ok{};
    }
    // A missing file is left to the TLS library, whose message says so when it is needed.
    auto contents = readSmallRegularFile(c.caFile, kMaxCaFileBytes);
    if (!contents) {
        Error e =
            makeError(ErrorKind::Configuration,
                      textf(_("cannot read the CA file %s of the connection %s: %s"),
                            c.caFile.c_str(), c.name.c_str(), contents.error().message.c_str()));
        e.param = "ca-file";
        return e;
    }
    return Ok{};
}

// ---- saved connections ----

static constexpr const char* kGroupPrefix = "connection ";

Result<ConnectionStore> ConnectionStore::load(const std::string& path) {
    // Read at every call, refusals included: a FIFO or a link to a device there must not hang
    // or fill memory.
    auto contents = readSmallRegularFile(path);
    if (!contents) {
        return makeError(ErrorKind::Configuration,
                         textf(_("cannot read the saved connections in %s: %s"), path.c_str(),
                               contents.error().message.c_str()));
    }
    if (!*contents) {
        return ConnectionStore{};
    }
    auto store = fromText(**contents);
    if (!store) {
        Error e = store.error();
        e.message += " (" + path + ")";
        return e;
    }
    return store;
}

Result<ConnectionStore> ConnectionStore::fromText(std::string_view text) {
    ConnectionStore store;
    GKeyFilePtr file(g_key_file_new());
    GErrorPtr error;
    if (!g_key_file_load_from_data(file.get(), text.data(), text.size(), G_KEY_FILE_NONE,
                                   outPtr(error))) {
        return makeError(ErrorKind::Configuration,
                         textf(_("the saved connections cannot be read: %s"), error->message));
    }
    auto get = [&](const char* group, const char* key) {
        GCharPtr v(g_key_file_get_string(file.get(), group, key, nullptr));
        return v ? std::string(v.get()) : std::string();
    };
    store.default_ = get("general", "default");
    gsize count = 0;
    GStrvPtr groups(g_key_file_get_groups(file.get(), &count));
    for (gsize i = 0; i < count; ++i) {
        const std::string group = groups.get()[i];
        if (group.rfind(kGroupPrefix, 0) != 0) {
            continue;
        }
        Connection c;
        c.name = group.substr(std::string(kGroupPrefix).size());
        auto kind = parseConnectionKind(get(group.c_str(), "kind"));
        auto auth = parseAuthMethod(get(group.c_str(), "auth"));
        if (!kind || !auth) {
            return makeError(
                ErrorKind::Configuration,
                textf(_("the saved connection %s has an unknown kind or auth"), c.name.c_str()));
        }
        c.kind = *kind;
        c.auth = *auth;
        c.endpoint = get(group.c_str(), "endpoint");
        c.apiVersion = get(group.c_str(), "api-version");
        c.defaultModel = get(group.c_str(), "default-model");
        c.caFile = get(group.c_str(), "ca-file");
        gsize n = 0;
        GStrvPtr deployments(
            g_key_file_get_string_list(file.get(), group.c_str(), "deployments", &n, nullptr));
        for (gsize j = 0; j < n; ++j) {
            std::string entry = deployments.get()[j];
            auto eq = entry.find('=');
            c.deployments.push_back(eq == std::string::npos
                                        ? Deployment{entry, ""}
                                        : Deployment{entry.substr(0, eq), entry.substr(eq + 1)});
        }
        store.connections_.push_back(std::move(c));
    }
    return store;
}

Status ConnectionStore::save(const std::string& path) const {
    GKeyFilePtr file(g_key_file_new());
    if (!default_.empty()) {
        g_key_file_set_string(file.get(), "general", "default", default_.c_str());
    }
    for (const auto& c : connections_) {
        const std::string group = kGroupPrefix + c.name;
        g_key_file_set_string(file.get(), group.c_str(), "kind", connectionKindName(c.kind));
        g_key_file_set_string(file.get(), group.c_str(), "endpoint", c.endpoint.c_str());
        g_key_file_set_string(file.get(), group.c_str(), "auth", authMethodName(c.auth));
        if (!c.apiVersion.empty()) {
            g_key_file_set_string(file.get(), group.c_str(), "api-version", c.apiVersion.c_str());
        }
        if (!c.defaultModel.empty()) {
            g_key_file_set_string(file.get(), group.c_str(), "default-model",
                                  c.defaultModel.c_str());
        }
        if (!c.caFile.empty()) {
            g_key_file_set_string(file.get(), group.c_str(), "ca-file", c.caFile.c_str());
        }
        std::vector<std::string> entries;
        std::vector<const char*> list;
        entries.reserve(c.deployments.size());
        list.reserve(c.deployments.size());
        for (const auto& d : c.deployments) {
            entries.push_back(d.model.empty() ? d.name : d.name + "=" + d.model);
        }
        for (const auto& e : entries) {
            list.push_back(e.c_str());
        }
        if (!list.empty()) {
            g_key_file_set_string_list(file.get(), group.c_str(), "deployments", list.data(),
                                       list.size());
        }
    }
    GCharPtr dir(g_path_get_dirname(path.c_str()));
    g_mkdir_with_parents(dir.get(), 0700);
    gsize length = 0;
    const GCharPtr text(g_key_file_to_data(file.get(), &length, nullptr));
    GErrorPtr error;
    // As g_key_file_save_to_file writes (a new file renamed over the old), but readable by the
    // user alone, as the prompt history is: it names endpoints and deployments.
    const auto flags = static_cast<GFileSetContentsFlags>(G_FILE_SET_CONTENTS_CONSISTENT |
                                                          G_FILE_SET_CONTENTS_ONLY_EXISTING);
    if (!g_file_set_contents_full(path.c_str(), text.get(), static_cast<gssize>(length), flags,
                                  0600, outPtr(error))) {
        return makeError(ErrorKind::Configuration, textf(_("cannot save the connections to %s: %s"),
                                                         path.c_str(), error->message));
    }
    return Ok{};
}

const Connection* ConnectionStore::find(const std::string& name) const {
    for (const auto& c : connections_) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

const Connection* ConnectionStore::defaultConnection() const {
    if (const Connection* c = find(default_)) {
        return c;
    }
    return connections_.size() == 1 ? &connections_.front() : nullptr;
}

void ConnectionStore::put(Connection connection) {
    for (auto& c : connections_) {
        if (c.name == connection.name) {
            c = std::move(connection);
            return;
        }
    }
    connections_.push_back(std::move(connection));
}

void ConnectionStore::remove(const std::string& name) {
    std::erase_if(connections_, [&](const Connection& c) { return c.name == name; });
    if (default_ == name) {
        default_.clear();
    }
}

std::vector<Deployment> parseDeploymentList(const std::string& text) {
    std::vector<Deployment> list;
    const GStrvPtr entries(g_strsplit_set(text.c_str(), ",;\n", -1));
    for (gchar** e = entries.get(); *e != nullptr; ++e) {
        const GStrvPtr parts(g_strsplit(*e, "=", 2));
        // An empty entry splits into no part at all (GLib's special case for "").
        const std::string name = parts.get()[0] != nullptr ? g_strstrip(parts.get()[0]) : "";
        if (name.empty()) {
            continue;
        }
        const std::string model = parts.get()[1] != nullptr ? g_strstrip(parts.get()[1]) : "";
        list.push_back({name, model});
    }
    return list;
}

std::string formatDeploymentList(const std::vector<Deployment>& deployments) {
    std::string text;
    for (const auto& d : deployments) {
        text += (text.empty() ? "" : ", ") + d.name + (d.model.empty() ? "" : "=" + d.model);
    }
    return text;
}

} // namespace imagegen
