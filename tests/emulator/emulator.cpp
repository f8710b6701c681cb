#include "emulator/emulator.h"

#include "emulator/state.h"

#include <memory>

namespace emulator {

namespace {

void freeUriList(GSList* uris) {
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
}
using UriListPtr = std::unique_ptr<GSList, imagegen::GFreeWith<freeUriList>>;

} // namespace

std::string Emulator::State::baseUrl() const {
    return "http://127.0.0.1:" + std::to_string(port);
}

Headers Emulator::State::idHeaders(Flavour f) {
    const std::string id = "emu-" + std::to_string(++requestCounter);
    return {{f == Flavour::OpenAI ? "x-request-id" : "apim-request-id", id}};
}

void Emulator::State::sendError(SoupServerMessage* msg, const ApiError& e, Flavour f,
                                LogEntry* entry, const Headers& extra) {
    auto headers = idHeaders(f);
    headers.insert(headers.end(), extra.begin(), extra.end());
    if (entry != nullptr) {
        entry->status = e.status;
        log.push_back(*entry);
    }
    sendLater(msg, config.latencyMs, e.status, "application/json", errorBody(e, f), headers);
}

Emulator::Emulator(Config config) : state_(std::make_unique<State>()) {
    state_->config = std::move(config);
    if (state_->config.deployments.empty()) {
        for (const auto& m : allModels()) {
            state_->config.deployments[m.name] = m.name;
        }
    }
}

Emulator::~Emulator() {
    if (state_->server) {
        soup_server_disconnect(state_->server.get());
    }
}

int Emulator::listen(int port, std::string* error) {
    state_->server =
        imagegen::adoptRef(soup_server_new("server-header", "imagegen-emulator", nullptr));
    soup_server_add_handler(state_->server.get(), nullptr, State::onRequest, state_.get(), nullptr);
    imagegen::GErrorPtr e;
    if (!soup_server_listen_local(state_->server.get(), static_cast<guint>(port),
                                  SOUP_SERVER_LISTEN_IPV4_ONLY, imagegen::outPtr(e))) {
        *error = e->message;
        return -1;
    }
    const UriListPtr uris(soup_server_get_uris(state_->server.get()));
    state_->port = g_uri_get_port(static_cast<GUri*>(uris->data));
    return state_->port;
}

} // namespace emulator
