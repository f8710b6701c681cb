// Connections: URLs for every kind, auth headers, the SDKs' environment variables, the Azure CLI
// token source and the key file of saved connections.
#include "core/service/connection.h"
#include "core/service/request_encoding.h"
#include "core/util/glib_ptr.h"
#include "test_util.h"

#include <glib/gstdio.h>

#include <fstream>
#include <map>
#include <sstream>

using namespace imagegen;
using namespace imagegen::test;

static Connection make(ConnectionKind kind, const char* endpoint, const char* apiVersion = "") {
    Connection c;
    c.name = "test";
    c.kind = kind;
    c.endpoint = endpoint;
    c.apiVersion = apiVersion;
    return c;
}

// The URL, or the error's message (which no check expects).
static std::string url(const Connection& c, Operation op, const char* model) {
    auto u = operationUrl(c, op, model);
    return u ? *u : "error: " + u.error().message;
}

static void testUrls() {
    auto azure = make(ConnectionKind::Azure, "https://res.openai.azure.com/", "2025-04-01-preview");
    assertEq(url(azure, Operation::Generate, "img"),
             "https://res.openai.azure.com/openai/deployments/img/images/"
             "generations?api-version=2025-04-01-preview");
    assertEq(url(azure, Operation::Edit, "my deploy"),
             "https://res.openai.azure.com/openai/deployments/my%20deploy/images/"
             "edits?api-version=2025-04-01-preview");
    // An endpoint given with /openai, and no version: the default version.
    auto azureOpenai = make(ConnectionKind::Azure, "https://res.openai.azure.com/openai");
    assertEq(url(azureOpenai, Operation::Edit, "img"),
             "https://res.openai.azure.com/openai/deployments/img/images/"
             "edits?api-version=2025-04-01-preview");
    assertFails(operationUrl(azure, Operation::Edit, ""), ErrorKind::Configuration);

    auto v1 = make(ConnectionKind::AzureV1, "https://res.openai.azure.com");
    assertEq(url(v1, Operation::Generate, "img"),
             "https://res.openai.azure.com/openai/v1/images/generations");
    auto v1Preview =
        make(ConnectionKind::AzureV1, "https://res.openai.azure.com/openai/v1/", "preview");
    assertEq(url(v1Preview, Operation::Edit, "img"),
             "https://res.openai.azure.com/openai/v1/images/edits?api-version=preview");

    auto openai = make(ConnectionKind::OpenAI, "");
    assertEq(url(openai, Operation::Generate, "gpt-image-1"),
             "https://api.openai.com/v1/images/generations");
    auto compatible = make(ConnectionKind::Compatible, "http://127.0.0.1:8080/v1/");
    assertEq(url(compatible, Operation::Edit, "x"), "http://127.0.0.1:8080/v1/images/edits");

    g_assert_false(bodyNamesModel(ConnectionKind::Azure));
    g_assert_true(bodyNamesModel(ConnectionKind::AzureV1));
    g_assert_true(bodyNamesModel(ConnectionKind::OpenAI));
    g_assert_true(bodyNamesModel(ConnectionKind::Compatible));
}

static void testPlainHttpOnlyToLoopback() {
    assertOk(checkEndpoint("https://example.com/v1"));
    assertOk(checkEndpoint("http://127.0.0.1:9000/v1"));
    assertOk(checkEndpoint("http://127.8.9.10/v1"));
    assertOk(checkEndpoint("http://localhost:9000"));
    assertOk(checkEndpoint("http://[::1]:9000/v1"));
    const Error e =
        assertFails(checkEndpoint("http://192.168.1.10:9000/v1"), ErrorKind::Configuration);
    assertContains(e.message, "plain http");
    assertFails(checkEndpoint("http://example.com/v1"), ErrorKind::Configuration);
    assertFails(checkEndpoint("ftp://example.com"), ErrorKind::Configuration);
    assertFails(checkEndpoint("not a url"), ErrorKind::Configuration);
    assertFails(
        operationUrl(make(ConnectionKind::Compatible, "http://10.0.0.1/v1"), Operation::Edit, "m"),
        ErrorKind::Configuration);
}

static void testAuthHeaders() {
    Header key = authHeader({AuthMethod::ApiKeyHeader, "k1"});
    assertEq(key.first, "api-key");
    assertEq(key.second, "k1");
    Header bearer = authHeader({AuthMethod::BearerKey, "k2"});
    assertEq(bearer.first, "Authorization");
    assertEq(bearer.second, "Bearer k2");
    Header entra = authHeader({AuthMethod::EntraId, "tok"});
    assertEq(entra.second, "Bearer tok");
}

static EnvLookup envOf(std::map<std::string, std::string> vars) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [shared](const char* name) -> const char* {
        auto it = shared->find(name);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
}

static void testEnvironment() {
    auto azure =
        connectionFromEnvironment(envOf({{"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/"},
                                         {"AZURE_OPENAI_API_KEY", "key"},
                                         {"AZURE_OPENAI_DEPLOYMENT", "img"}}));
    if (!assertOk(azure)) {
        return;
    }
    g_assert_true(azure->connection.kind == ConnectionKind::Azure);
    assertEq(azure->connection.endpoint, "https://res.openai.azure.com");
    assertEq(azure->connection.apiVersion, "2025-04-01-preview");
    assertEq(azure->connection.defaultModel, "img");
    g_assert_true(azure->credential.method == AuthMethod::ApiKeyHeader);
    assertEq(azure->credential.secret, "key");

    // The token wins over the key, as in the SDKs; OPENAI_API_VERSION is honoured.
    auto token =
        connectionFromEnvironment(envOf({{"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"},
                                         {"AZURE_OPENAI_API_KEY", "key"},
                                         {"AZURE_OPENAI_AD_TOKEN", "tok"},
                                         {"OPENAI_API_VERSION", "2024-10-21"}}));
    if (!assertOk(token)) {
        return;
    }
    g_assert_true(token->credential.method == AuthMethod::EntraId);
    assertEq(token->credential.secret, "tok");
    assertEq(token->connection.apiVersion, "2024-10-21");

    auto cli = connectionFromEnvironment(
        envOf({{"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"}}));
    if (!assertOk(cli)) {
        return;
    }
    g_assert_true(cli->connection.auth == AuthMethod::EntraId);
    g_assert_true(cli->credential.secret.empty());

    auto v1 = connectionFromEnvironment(
        envOf({{"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/openai/v1"},
               {"AZURE_OPENAI_API_KEY", "key"}}));
    if (!assertOk(v1)) {
        return;
    }
    g_assert_true(v1->connection.kind == ConnectionKind::AzureV1);
    g_assert_true(v1->connection.apiVersion.empty());

    auto openai = connectionFromEnvironment(envOf({{"OPENAI_API_KEY", "sk"}}));
    if (!assertOk(openai)) {
        return;
    }
    g_assert_true(openai->connection.kind == ConnectionKind::OpenAI);
    assertEq(openai->connection.endpoint, "https://api.openai.com/v1");
    g_assert_true(openai->credential.method == AuthMethod::BearerKey);

    auto compatible = connectionFromEnvironment(
        envOf({{"OPENAI_API_KEY", "sk"}, {"OPENAI_BASE_URL", "http://127.0.0.1:1234/v1/"}}));
    if (!assertOk(compatible)) {
        return;
    }
    g_assert_true(compatible->connection.kind == ConnectionKind::Compatible);
    assertEq(compatible->connection.endpoint, "http://127.0.0.1:1234/v1");

    const Error none = assertFails(connectionFromEnvironment(envOf({})), ErrorKind::Configuration);
    assertContains(none.message, "AZURE_OPENAI_ENDPOINT");
    // Where to set one up, by the name of the button the user sees.
    assertContains(none.message, "Connections…");
    assertFails(connectionFromEnvironment(
                    envOf({{"OPENAI_API_KEY", "sk"}, {"OPENAI_BASE_URL", "http://10.1.2.3/v1"}})),
                ErrorKind::Configuration);
}

static void testEntraCliOutput() {
    auto unix = EntraTokenSource::parseCliOutput(
        R"({"accessToken":"abc","expiresOn":"2030-01-01 00:00:00.000000","expires_on":1893456000,"tokenType":"Bearer"})");
    if (assertOk(unix)) {
        assertEq(unix->first, "abc");
        g_assert_cmpint(unix->second, ==, 1893456000);
    }
    auto local = EntraTokenSource::parseCliOutput(
        R"({"accessToken":"abc","expiresOn":"2030-01-01 00:00:00.000000"})");
    if (assertOk(local)) {
        g_assert_cmpint(local->second, >, 1893456000 - 14 * 3600);
        g_assert_cmpint(local->second, <, 1893456000 + 14 * 3600);
    }
    assertFails(EntraTokenSource::parseCliOutput("{}"), ErrorKind::Authentication);
    assertFails(EntraTokenSource::parseCliOutput("ERROR: Please run 'az login'"),
                ErrorKind::Authentication);
}

// A stand-in for the Azure CLI: a script that counts its calls and prints a token.
static void testEntraTokenIsFetchedAgainBeforeExpiry() {
    GCharPtr dir(g_dir_make_tmp("imagegen-az-XXXXXX", nullptr));
    const std::string script = std::string(dir.get()) + "/az";
    const std::string counter = std::string(dir.get()) + "/calls";
    {
        std::ofstream out(script);
        out << "#!/bin/sh\necho x >> '" << counter << "'\n"
            << "n=$(wc -l < '" << counter << "')\n"
            << "printf '{\"accessToken\":\"token-%s\",\"expires_on\":2000}' $n\n";
    }
    g_chmod(script.c_str(), 0755);
    EntraTokenSource source({script});
    assertEq(source.token(1000), "token-1");
    assertEq(source.token(1600), "token-1"); // 400 s left: still good
    assertEq(source.token(1750), "token-2"); // under five minutes left: fetched again

    EntraTokenSource missing({std::string(dir.get()) + "/no-such-az"});
    const Error e = assertFails(missing.token(0), ErrorKind::Authentication);
    assertContains(e.message, "az login");
    g_unlink(script.c_str());
    g_unlink(counter.c_str());
    g_rmdir(dir.get());
}

static std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

static void testStoreRoundTripHoldsNoSecret() {
    GCharPtr dir(g_dir_make_tmp("imagegen-store-XXXXXX", nullptr));
    const std::string path = std::string(dir.get()) + "/sub/connections.ini";
    ConnectionStore store;
    Connection work =
        make(ConnectionKind::Azure, "https://res.openai.azure.com", "2025-04-01-preview");
    work.name = "work";
    work.auth = AuthMethod::ApiKeyHeader;
    work.deployments = {{"img", "gpt-image-1"}, {"dalle", "dall-e-3"}};
    work.defaultModel = "img";
    store.put(work);
    Connection local = make(ConnectionKind::Compatible, "http://127.0.0.1:8080/v1");
    local.name = "local";
    local.caFile = "/etc/ssl/local-ca.pem";
    store.put(local);
    store.setDefault("work");
    assertOk(store.save(path));

    const std::string text = readFile(path);
    assertContains(text, "[connection work]");
    assertContains(text, "deployments=img=gpt-image-1;dalle=dall-e-3;");
    g_assert_true(text.find("key=") == std::string::npos ||
                  text.find("api-key") != std::string::npos);

    auto loaded = ConnectionStore::load(path);
    if (assertOk(loaded)) {
        g_assert_cmpuint(loaded->connections().size(), ==, 2);
        const Connection* w = loaded->defaultConnection();
        g_assert_nonnull(w);
        if (w != nullptr) {
            assertEq(w->name, "work");
            g_assert_true(w->kind == ConnectionKind::Azure);
            g_assert_true(w->auth == AuthMethod::ApiKeyHeader);
            assertEq(w->recordedModel("dalle"), "dall-e-3");
            assertEq(w->recordedModel("other"), "");
            assertEq(w->defaultModel, "img");
        }
        const Connection* l = loaded->find("local");
        g_assert_nonnull(l);
        if (l != nullptr) {
            assertEq(l->caFile, "/etc/ssl/local-ca.pem");
            auto request = buildImagesRequest(*l, {AuthMethod::BearerKey, "k"}, [] {
                ImageRequest r;
                r.model = "gpt-image-1";
                r.prompt = "p";
                return r;
            }());
            if (assertOk(request)) {
                assertEq(request->caFile, "/etc/ssl/local-ca.pem");
            }
        }
        g_assert_null(loaded->find("nope"));
    }

    auto missing = ConnectionStore::load(std::string(dir.get()) + "/none.ini");
    if (assertOk(missing)) {
        g_assert_cmpuint(missing->connections().size(), ==, 0);
    }

    {
        std::ofstream bad(path);
        bad << "[connection x]\nkind=ftp\nauth=bearer\n";
    }
    const Error unknown = assertFails(ConnectionStore::load(path), ErrorKind::Configuration);
    assertContains(unknown.message, path);
    g_unlink(path.c_str());
    g_rmdir((std::string(dir.get()) + "/sub").c_str());
    g_rmdir(dir.get());
}

// What load() reads from the file, in memory: the same connections, and the same refusals.
static void testStoreFromText() {
    auto store = ConnectionStore::fromText("[general]\ndefault=work\n\n"
                                           "[connection work]\nkind=azure\n"
                                           "endpoint=https://res.openai.azure.com\nauth=api-key\n"
                                           "deployments=img=gpt-image-1;dalle;\n\n"
                                           "[connection local]\nkind=compatible\nauth=bearer\n"
                                           "[other]\nkey=ignored\n");
    if (assertOk(store)) {
        g_assert_cmpuint(store->connections().size(), ==, 2);
        const Connection* w = store->defaultConnection();
        g_assert_nonnull(w);
        if (w != nullptr) {
            assertEq(w->name, "work");
            g_assert_true(w->kind == ConnectionKind::Azure);
            g_assert_cmpuint(w->deployments.size(), ==, 2);
            assertEq(w->recordedModel("img"), "gpt-image-1");
            assertEq(w->recordedModel("dalle"), "");
        }
    }
    auto empty = ConnectionStore::fromText("");
    if (assertOk(empty)) {
        g_assert_cmpuint(empty->connections().size(), ==, 0);
    }
    assertFails(ConnectionStore::fromText("not a key file"), ErrorKind::Configuration);
    assertFails(ConnectionStore::fromText("[connection x]\nkind=ftp\nauth=bearer\n"),
                ErrorKind::Configuration);
    assertFails(ConnectionStore::fromText("[connection x]\nkind=openai\n"),
                ErrorKind::Configuration);
}

static Connection named(const char* name) {
    Connection c = make(ConnectionKind::OpenAI, "https://api.openai.com/v1");
    c.name = name;
    return c;
}

static std::string names(const ConnectionStore& store) {
    std::string text;
    for (const auto& c : store.connections()) {
        text += (text.empty() ? "" : ",") + c.name;
    }
    return text;
}

// remove() forgets the connection named, and the default when it was the default. (A store of
// one connection takes it as the default, so these keep two or more.)
static void testStoreRemove() {
    ConnectionStore store;
    for (const char* name : {"a", "b", "c", "d"}) {
        store.put(named(name));
    }
    store.setDefault("b");
    store.remove("a"); // not the default: the default stays
    assertEq(names(store), "b,c,d");
    g_assert_null(store.find("a"));
    g_assert_nonnull(store.defaultConnection());
    if (store.defaultConnection() != nullptr) {
        assertEq(store.defaultConnection()->name, "b");
    }
    store.remove("b"); // the default: no default is left, rather than one that is gone
    assertEq(names(store), "c,d");
    g_assert_null(store.defaultConnection());
    store.remove("nope"); // a name never saved changes nothing
    assertEq(names(store), "c,d");
    // A connection put again under the removed name is not the default again by itself.
    store.put(named("b"));
    assertEq(names(store), "c,d,b");
    g_assert_null(store.defaultConnection());
}

// The store saved after a remove no longer holds it, nor names it the default.
static void testStoreRemoveIsSaved() {
    auto store = ConnectionStore::fromText("[general]\ndefault=work\n\n"
                                           "[connection work]\nkind=openai\nauth=bearer\n\n"
                                           "[connection home]\nkind=openai\nauth=bearer\n\n"
                                           "[connection spare]\nkind=openai\nauth=bearer\n");
    if (!assertOk(store)) {
        return;
    }
    store->remove("work");
    const GCharPtr dir(g_dir_make_tmp("imagegen-remove-XXXXXX", nullptr));
    const std::string path = std::string(dir.get()) + "/connections.ini";
    if (assertOk(store->save(path))) {
        auto loaded = ConnectionStore::load(path);
        if (assertOk(loaded)) {
            assertEq(names(*loaded), "home,spare");
            g_assert_null(loaded->defaultConnection());
        }
    }
    g_unlink(path.c_str());
    g_rmdir(dir.get());
}

static std::string deploymentsText(const std::vector<Deployment>& list) {
    std::string text;
    for (const auto& d : list) {
        text += "[" + d.name + "|" + d.model + "]";
    }
    return text;
}

// Deployments as typed: "name=model" or a bare name, separated by commas, semicolons or lines.
struct DeploymentListCase {
    const char* name;
    const char* typed;
    const char* parsed;    // each as [name|model]
    const char* formatted; // formatDeploymentList of what was parsed
};

static const DeploymentListCase kDeploymentLists[] = {
    {"as-typed", "a=gpt-image-1, b ; c=dall-e-3\n", "[a|gpt-image-1][b|][c|dall-e-3]",
     "a=gpt-image-1, b, c=dall-e-3"},
    {"empty", "", "", ""},
    {"only-separators", " , ;\n\n ; ", "", ""},
    {"whitespace-trimmed", "  img  =  gpt-image-1  ", "[img|gpt-image-1]", "img=gpt-image-1"},
    {"one-a-line", "one\ntwo\r\nthree", "[one|][two|][three|]", "one, two, three"},
    {"blank-names-skipped", "x=, =gpt-image-1, y", "[x|][y|]", "x, y"},
    {"model-with-equals", "a=b=c", "[a|b=c]", "a=b=c"},
};

static void testDeploymentList(gconstpointer data) {
    const auto* c = static_cast<const DeploymentListCase*>(data);
    const auto parsed = parseDeploymentList(c->typed);
    assertEq(deploymentsText(parsed), c->parsed);
    const std::string formatted = formatDeploymentList(parsed);
    assertEq(formatted, c->formatted);
    // What is shown reads back as the same list.
    assertEq(deploymentsText(parseDeploymentList(formatted)), c->parsed);
}

// An endpoint with a query or fragment used to have the operation's path appended after it
// ("https://h.example/?x=1/openai/deployments/…"): such an endpoint is refused, naming it.
static void testEndpointWithQueryOrFragmentIsRefused() {
    for (const char* endpoint : {"https://h.example/?x=1", "https://h.example/openai?",
                                 "https://h.example/v1#top", "http://127.0.0.1:9000/v1?key=1"}) {
        for (auto kind : {ConnectionKind::Azure, ConnectionKind::AzureV1, ConnectionKind::OpenAI,
                          ConnectionKind::Compatible}) {
            const Error e = assertFails(operationUrl(make(kind, endpoint), Operation::Edit, "img"),
                                        ErrorKind::Configuration);
            assertContains(e.message, endpoint);
            assertContains(e.message, "?");
        }
        assertFails(checkServiceEndpoint(endpoint), ErrorKind::Configuration);
        const Error env =
            assertFails(connectionFromEnvironment(
                            envOf({{"OPENAI_BASE_URL", endpoint}, {"OPENAI_API_KEY", "k"}})),
                        ErrorKind::Configuration);
        assertContains(env.message, endpoint);
        assertFails(connectionFromEnvironment(envOf(
                        {{"AZURE_OPENAI_ENDPOINT", endpoint}, {"AZURE_OPENAI_API_KEY", "k"}})),
                    ErrorKind::Configuration);
    }
    assertOk(checkServiceEndpoint("https://h.example/v1"));
    // A download URL of a finished image keeps its query (signed storage URLs carry one).
    assertOk(checkEndpoint("https://files.example/img.png?sig=abc#x"));
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/connection/endpoint-with-query-or-fragment-is-refused",
                    testEndpointWithQueryOrFragmentIsRefused);
    g_test_add_func("/connection/urls", testUrls);
    g_test_add_func("/connection/plain-http-only-to-loopback", testPlainHttpOnlyToLoopback);
    g_test_add_func("/connection/auth-headers", testAuthHeaders);
    g_test_add_func("/connection/environment", testEnvironment);
    g_test_add_func("/connection/entra/cli-output", testEntraCliOutput);
    g_test_add_func("/connection/entra/fetched-again-before-expiry",
                    testEntraTokenIsFetchedAgainBeforeExpiry);
    g_test_add_func("/connection/store/round-trip-holds-no-secret",
                    testStoreRoundTripHoldsNoSecret);
    g_test_add_func("/connection/store/from-text", testStoreFromText);
    g_test_add_func("/connection/store/remove", testStoreRemove);
    g_test_add_func("/connection/store/remove-is-saved", testStoreRemoveIsSaved);
    for (const DeploymentListCase& c : kDeploymentLists) {
        g_test_add_data_func(("/connection/deployment-list/" + std::string(c.name)).c_str(), &c,
                             testDeploymentList);
    }
    return g_test_run();
}
