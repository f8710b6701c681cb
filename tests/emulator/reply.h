// Sending an answer, now or after a delay, without blocking the server's main loop.
#pragma once

#include <libsoup/soup.h>

#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace emulator {

using Headers = std::vector<std::pair<std::string, std::string>>;

void send(SoupServerMessage* msg, int status, const std::string& contentType,
          const std::string& body, const Headers& headers = {});

// Answers after `ms` milliseconds (the settable latency), or at once; the message is paused
// meanwhile, so other requests are served.
void sendLater(SoupServerMessage* msg, int ms, int status, const std::string& contentType,
               const std::string& body, const Headers& headers);

// Calls owner->step() every `ms` milliseconds until it returns false. The timeout source owns
// `owner`, so it lives exactly as long as the source, however the source ends; no exception
// crosses GLib's callback.
template <typename T> void addOwnedTimeout(int ms, std::unique_ptr<T> owner) {
    g_timeout_add_full(
        G_PRIORITY_DEFAULT, static_cast<guint>(ms),
        [](gpointer p) -> gboolean {
            try {
                return static_cast<T*>(p)->step() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
            } catch (const std::exception&) {
                return G_SOURCE_REMOVE;
            }
        },
        owner.release(), [](gpointer p) { delete static_cast<T*>(p); });
}

} // namespace emulator
