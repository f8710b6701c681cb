// Routing and auth: which service a URL addresses (OpenAI, Azure's dated deployments API or
// Azure's v1 API), and whether the request carries that service's credentials.
#include "emulator/state.h"

namespace emulator {

namespace {

using imagegen::GCharPtr;

struct Route {
    Flavour flavour = Flavour::OpenAI;
    std::string deployment; // Azure dated: from the path
    std::string operation;  // "generations" or "edits" when the path is an Images API one
};

Route parseRoute(const std::string& path) {
    static const std::string kOpenAI = "/v1/images/";
    static const std::string kAzureV1 = "/openai/v1/images/";
    static const std::string kAzureDeployments = "/openai/deployments/";
    Route r;
    if (path.rfind(kOpenAI, 0) == 0) {
        r.operation = path.substr(kOpenAI.size());
    } else if (path.rfind(kAzureV1, 0) == 0) {
        r.flavour = Flavour::AzureV1;
        r.operation = path.substr(kAzureV1.size());
    } else if (path.rfind(kAzureDeployments, 0) == 0) {
        r.flavour = Flavour::AzureDated;
        const std::string rest = path.substr(kAzureDeployments.size());
        const auto slash = rest.find('/');
        if (slash != std::string::npos && rest.compare(slash, 8, "/images/") == 0) {
            GCharPtr unescaped(g_uri_unescape_string(rest.substr(0, slash).c_str(), nullptr));
            r.deployment = unescaped ? unescaped.get() : "";
            r.operation = rest.substr(slash + 8);
        }
    }
    return r;
}

ApiError resourceNotFound() {
    return {404, "Resource not found", "", "404", "invalid_request_error", ""};
}

ApiError unknownUrl(Flavour flavour, const std::string& method, const std::string& path) {
    ApiError e = resourceNotFound();
    if (flavour == Flavour::OpenAI) {
        e.message = "Invalid URL (" + method + " " + path + ")";
        e.code.clear();
    }
    return e;
}

LogEntry describe(SoupServerMessage* msg, const std::string& method, const std::string& path,
                  const Route& route) {
    LogEntry entry;
    entry.receivedAtUs = g_get_monotonic_time();
    entry.method = method;
    entry.path = path;
    GUri* uri = soup_server_message_get_uri(msg);
    entry.query = g_uri_get_query(uri) != nullptr ? g_uri_get_query(uri) : "";
    entry.flavour = route.flavour == Flavour::OpenAI       ? "openai"
                    : route.flavour == Flavour::AzureDated ? "azure"
                                                           : "azure-v1";
    entry.deployment = route.deployment;
    soup_message_headers_foreach(
        soup_server_message_get_request_headers(msg),
        [](const char* name, const char*, gpointer p) {
            GCharPtr lower(g_ascii_strdown(name, -1));
            static_cast<std::vector<std::string>*>(p)->emplace_back(lower.get());
        },
        &entry.headerNames);
    return entry;
}

ApiError unauthorised(Flavour flavour, bool authorizationSent) {
    ApiError e;
    e.status = 401;
    if (flavour == Flavour::OpenAI) {
        e.message = !authorizationSent
                        ? "You didn't provide an API key. You need to provide your API key in an "
                          "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                          "YOUR_KEY)."
                        : "Incorrect API key provided. You can find your API key at "
                          "https://platform.openai.com/account/api-keys.";
        e.code = !authorizationSent ? "" : "invalid_api_key";
    } else {
        e.code = "401";
        e.message = "Access denied due to invalid subscription key or wrong API endpoint. "
                    "Make sure to provide a valid key for an active subscription and use a "
                    "correct regional API endpoint for your resource.";
    }
    return e;
}

// OpenAI takes only a bearer key; Azure takes its api-key header or a bearer token.
std::optional<ApiError> checkAuth(SoupMessageHeaders* headers, Flavour flavour,
                                  const std::string& key, LogEntry& entry) {
    const char* authorization = soup_message_headers_get_one(headers, "Authorization");
    const char* apiKey = soup_message_headers_get_one(headers, "api-key");
    entry.authPresent =
        authorization != nullptr || (flavour != Flavour::OpenAI && apiKey != nullptr);
    const std::string bearer =
        authorization != nullptr && g_str_has_prefix(authorization, "Bearer ")
            ? std::string(authorization + 7)
            : std::string();
    const bool authorised = flavour == Flavour::OpenAI
                                ? bearer == key
                                : (apiKey != nullptr && key == apiKey) || bearer == key;
    if (authorised) {
        return std::nullopt;
    }
    return unauthorised(flavour, authorization != nullptr);
}

} // namespace

void Emulator::State::onRequest(SoupServer* /*server*/, SoupServerMessage* msg, const char* path,
                                GHashTable* query, gpointer data) {
    auto* self = static_cast<State*>(data);
    try {
        self->route(msg, path, query);
    } catch (const std::exception& e) {
        send(msg, 500, "text/plain", std::string("emulator failure: ") + e.what());
    }
}

void Emulator::State::route(SoupServerMessage* msg, const std::string& path, GHashTable* query) {
    const std::string method = soup_server_message_get_method(msg);
    if (path.rfind("/_emulator/", 0) == 0) {
        control(msg, method, path);
        return;
    }
    const Route r = parseRoute(path);
    if (r.operation != "generations" && r.operation != "edits") {
        sendError(msg, unknownUrl(r.flavour, method, path), r.flavour, nullptr);
        return;
    }
    LogEntry entry = describe(msg, method, path, r);
    watch(msg, entry);
    if (method != "POST") {
        sendError(msg,
                  {405, "Method not allowed: use POST", "", "method_not_allowed",
                   "invalid_request_error", ""},
                  r.flavour, &entry);
        return;
    }
    if (auto e = checkAuth(soup_server_message_get_request_headers(msg), r.flavour, config.apiKey,
                           entry)) {
        sendError(msg, *e, r.flavour, &entry);
        return;
    }
    const char* apiVersion =
        query != nullptr ? static_cast<const char*>(g_hash_table_lookup(query, "api-version"))
                         : nullptr;
    if (r.flavour == Flavour::AzureDated && (apiVersion == nullptr || *apiVersion == '\0')) {
        sendError(msg, resourceNotFound(), r.flavour, &entry);
        return;
    }
    const int serial = entry.serial;
    handleImages(msg, r.flavour, r.operation == "edits", r.deployment, entry);
    // The emulator answers one request at a time: a request arriving meanwhile is logged only
    // now, so a benchmark of parallel requests subtracts this busy time.
    if (LogEntry* logged = entryBySerial(serial)) {
        logged->handledAtUs = g_get_monotonic_time();
    }
}

} // namespace emulator
