#include "emulator/reply.h"

#include "support/respond.h"

#include "core/util/glib_ptr.h"

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
    imagegen::test::respond(msg, status, contentType, body, headers);
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
