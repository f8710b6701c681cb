// Which model's capabilities a run is checked against (capsFor), and that resolveService, which
// a run takes them from, agrees with it: the dialog offers its options from capsFor alone.
#include "core/service/service.h"
#include "test_util.h"

#include <map>
#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

namespace {

struct CapsCase {
    const char* name;
    ConnectionKind kind = ConnectionKind::OpenAI;
    const char* defaultModel = "";
    std::vector<Deployment> deployments = {};
    const char* model = ""; // as typed in the dialog or given to Script-Fu
    const char* caps = "";  // the model whose capabilities apply
};

const CapsCase kCapsCases[] = {
    {.name = "named", .model = "dall-e-2", .caps = "dall-e-2"},
    {.name = "none-named-the-default", .defaultModel = "dall-e-3", .caps = "dall-e-3"},
    {.name = "none-named-no-default", .caps = "gpt-image-1"},
    {.name = "named-over-the-default",
     .defaultModel = "dall-e-3",
     .model = "gpt-image-1-mini",
     .caps = "gpt-image-1-mini"},
    // Azure: a deployment's recorded model wins over what its name suggests.
    {.name = "recorded-deployment",
     .kind = ConnectionKind::Azure,
     .deployments = {{"gpt-image-1-prod", "dall-e-3"}},
     .model = "gpt-image-1-prod",
     .caps = "dall-e-3"},
    {.name = "recorded-default-deployment",
     .kind = ConnectionKind::Azure,
     .defaultModel = "images",
     .deployments = {{"images", "gpt-image-1.5"}},
     .caps = "gpt-image-1.5"},
    // Not recorded: the longest model name the deployment's name contains.
    {.name = "deployment-by-its-name",
     .kind = ConnectionKind::Azure,
     .model = "team-dall-e-3-eu",
     .caps = "dall-e-3"},
    {.name = "deployment-by-nothing",
     .kind = ConnectionKind::Azure,
     .model = "x",
     .caps = "gpt-image-1"},
    // A recorded model the table does not know is taken by its family, not by the deployment's
    // name.
    {.name = "recorded-unknown-model",
     .kind = ConnectionKind::Azure,
     .deployments = {{"dall-e-2-old", "gpt-image-1-mini-2030"}},
     .model = "dall-e-2-old",
     .caps = "gpt-image-1-mini"},
};

Connection connectionOf(const CapsCase& c) {
    Connection connection;
    connection.name = "saved";
    connection.kind = c.kind;
    connection.endpoint =
        c.kind == ConnectionKind::OpenAI ? kOpenAIBaseUrl : "https://res.openai.azure.com";
    connection.auth =
        c.kind == ConnectionKind::OpenAI ? AuthMethod::BearerKey : AuthMethod::ApiKeyHeader;
    connection.apiVersion = c.kind == ConnectionKind::OpenAI ? "" : kDefaultAzureApiVersion;
    connection.defaultModel = c.defaultModel;
    connection.deployments = c.deployments;
    return connection;
}

void testCapsFor(gconstpointer data) {
    const auto* c = static_cast<const CapsCase*>(data);
    assertEq(capsFor(catalog(), connectionOf(*c), c->model).name, c->caps);
}

// resolveService takes the same caps as capsFor: the options the dialog offers are those the
// run checks. The connection is saved, and authenticates with an Entra ID token from the
// environment, so that no Secret Service is asked.
void testResolveServiceAgrees(gconstpointer data) {
    const auto* c = static_cast<const CapsCase*>(data);
    Connection saved = connectionOf(*c);
    saved.auth = AuthMethod::EntraId;
    ConnectionStore store;
    store.put(saved);
    const std::map<std::string, std::string> env{{"AZURE_OPENAI_AD_TOKEN", "service-test"}};
    EntraTokenSource tokens({"false"});
    ServiceSources sources;
    sources.catalog = &catalog();
    sources.connections = &store;
    sources.env = [&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    sources.tokens = &tokens;
    auto service = resolveService(saved.name, c->model, sources);
    if (c->kind != ConnectionKind::OpenAI && *c->model == '\0' && *c->defaultModel == '\0') {
        assertFails(service, ErrorKind::Configuration); // Azure needs a deployment named
        return;
    }
    if (assertOk(service)) {
        assertEq(service->caps->name, c->caps);
        g_assert_true(service->caps == &capsFor(catalog(), saved, c->model));
    }
}

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    for (const auto& c : kCapsCases) {
        g_test_add_data_func((std::string("/service/caps-for/") + c.name).c_str(), &c, testCapsFor);
        g_test_add_data_func((std::string("/service/resolve-agrees/") + c.name).c_str(), &c,
                             testResolveServiceAgrees);
    }
    return g_test_run();
}
