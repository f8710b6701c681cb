#include "emulator/reply.h"

#include "core/glib_ptr.h"

namespace emulator {

namespace {

// An answer waiting for its timeout.
struct Later {
    imagegen::GRef<SoupServerMessage> msg;
    int status;
    std::string contentType, body;
    Headers headers;

    bool step() {
        send(msg.get(), status, contentType, body, headers);
        soup_server_message_unpause(msg.get());
        return false;
    }
};

} // namespace

void send(SoupServerMessage* msg, int status, const std::string& contentType,
          const std::string& body, const Headers& headers) {
    soup_server_message_set_status(msg, static_cast<guint>(status), nullptr);
    SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
    for (const auto& [k, v] : headers) {
        soup_message_headers_replace(h, k.c_str(), v.c_str());
    }
    soup_server_message_set_response(msg, contentType.c_str(), SOUP_MEMORY_COPY, body.data(),
                                     body.size());
}

void sendLater(SoupServerMessage* msg, int ms, int status, const std::string& contentType,
               const std::string& body, const Headers& headers) {
    if (ms <= 0) {
        send(msg, status, contentType, body, headers);
        return;
    }
    soup_server_message_pause(msg);
    addOwnedTimeout(ms, std::make_unique<Later>(
                            Later{imagegen::addRef(msg), status, contentType, body, headers}));
}

} // namespace emulator
