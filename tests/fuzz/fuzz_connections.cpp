// Fuzz target: the key file of saved connections (connections.ini), read by
// ConnectionStore::fromText as load() reads it from disk; each connection found is then asked
// for its URLs.
#include "core/service/connection.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace imagegen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto store = ConnectionStore::fromText(text);
    if (!store) {
        return 0;
    }
    (void)store->defaultConnection();
    for (const Connection& c : store->connections()) {
        if (store->find(c.name) == nullptr) {
            __builtin_trap(); // every connection read can be found by its name
        }
        for (const auto op : {Operation::Generate, Operation::Edit}) {
            (void)operationUrl(c, op, c.defaultModel);
            for (const Deployment& d : c.deployments) {
                (void)operationUrl(c, op, d.name);
                (void)c.recordedModel(d.name);
            }
        }
    }
    return 0;
}
