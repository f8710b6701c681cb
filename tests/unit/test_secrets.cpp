// Secrets in the Secret Service (a private gnome-keyring on a private D-Bus, started by
// with-keyring.sh) and the credential chosen for a saved connection.
#include "core/service/secret_store.h"
#include "test_util.h"

#include <map>
#include <memory>

using namespace imagegen;
using namespace imagegen::test;

static EnvLookup envOf(std::map<std::string, std::string> vars) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [shared](const char* name) -> const char* {
        auto it = shared->find(name);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
}

static void testStoreLookupClear() {
    assertOk(storeSecret("work", "sk-secret-1"));
    assertOk(storeSecret("home", "sk-secret-2"));
    assertEq(lookupSecret("work"), "sk-secret-1");
    assertEq(lookupSecret("home"), "sk-secret-2");
    assertOk(storeSecret("work", "sk-secret-3")); // replaced, not added
    assertEq(lookupSecret("work"), "sk-secret-3");
    assertOk(clearSecret("work"));
    assertEq(lookupSecret("work"), "");
    assertEq(lookupSecret("never-saved"), "");
    assertOk(clearSecret("home"));
}

static void testCredentialForSavedConnection() {
    Connection c;
    c.name = "azure-work";
    c.kind = ConnectionKind::Azure;
    c.auth = AuthMethod::ApiKeyHeader;
    EntraTokenSource tokens({"/nonexistent/az"});
    assertOk(storeSecret("azure-work", "from-keyring"));
    auto fromKeyring = credentialFor(c, envOf({{"AZURE_OPENAI_API_KEY", "from-env"}}), tokens, 0);
    if (assertOk(fromKeyring)) {
        assertEq(fromKeyring->secret, "from-keyring");
        g_assert_true(fromKeyring->method == AuthMethod::ApiKeyHeader);
    }
    assertOk(clearSecret("azure-work"));

    auto fromEnv = credentialFor(c, envOf({{"AZURE_OPENAI_API_KEY", "from-env"}}), tokens, 0);
    if (assertOk(fromEnv)) {
        assertEq(fromEnv->secret, "from-env");
    }
    const Error none =
        assertFails(credentialFor(c, envOf({}), tokens, 0), ErrorKind::Configuration);
    assertContains(none.message, "AZURE_OPENAI_API_KEY");
    assertContains(none.message, "Connections…");

    c.auth = AuthMethod::EntraId;
    auto token = credentialFor(c, envOf({{"AZURE_OPENAI_AD_TOKEN", "tok"}}), tokens, 0);
    if (assertOk(token)) {
        assertEq(token->secret, "tok");
    }
    assertFails(credentialFor(c, envOf({}), tokens, 0), ErrorKind::Authentication);
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/secrets/store-lookup-clear", testStoreLookupClear);
    g_test_add_func("/secrets/credential-for-saved-connection", testCredentialForSavedConnection);
    return g_test_run();
}
