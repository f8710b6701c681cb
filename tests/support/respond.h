// An answer from a loopback SoupServer: status, content type, body and headers. The emulator and
// the unit tests' server answer through it.
#pragma once

#include <libsoup/soup.h>

#include <string>

namespace imagegen::test {

// `headers`: any range of (name, value) pairs.
template <typename Headers>
void respond(SoupServerMessage* msg, int status, const std::string& contentType,
             const std::string& body, const Headers& headers) {
    soup_server_message_set_status(msg, static_cast<guint>(status), nullptr);
    SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
    for (const auto& [name, value] : headers) {
        soup_message_headers_replace(h, name.c_str(), value.c_str());
    }
    soup_server_message_set_response(msg, contentType.c_str(), SOUP_MEMORY_COPY, body.data(),
                                     body.size());
}

} // namespace imagegen::test
