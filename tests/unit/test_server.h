// A SoupServer on 127.0.0.1, port 0, inside the test process (as libsoup's own tests do): it
// records what it receives and answers with handlers the test supplies.
#pragma once

#include "core/util/glib_ptr.h"
#include "support/main_loop.h"
#include "support/respond.h"
#include "test_util.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace imagegen::test {

struct ReceivedRequest {
    std::string method;
    std::string path;
    std::string query;
    std::map<std::string, std::string> headers; // lower-case names
    std::string body;

    // A header by its lower-case name, "<absent>" if it was not sent.
    [[nodiscard]] std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "<absent>" : it->second;
    }
};

class TestServer {
  public:
    using Handler = std::function<void(SoupServerMessage*, const ReceivedRequest&)>;

    // A server that cannot listen fails the test; its url() then leads nowhere. With a
    // certificate it speaks HTTPS.
    explicit TestServer(GTlsCertificate* certificate = nullptr)
        : server_(adoptRef(certificate != nullptr
                               ? soup_server_new("tls-certificate", certificate, nullptr)
                               : soup_server_new(nullptr, nullptr))),
          scheme_(certificate != nullptr ? "https" : "http") {
        GErrorPtr error;
        const auto options = static_cast<SoupServerListenOptions>(
            SOUP_SERVER_LISTEN_IPV4_ONLY | (certificate != nullptr ? SOUP_SERVER_LISTEN_HTTPS : 0));
        if (!soup_server_listen_local(server_.get(), 0, options, outPtr(error))) {
            fail(IMAGEGEN_TEST_HERE,
                 std::string("the test server cannot listen: ") + error->message);
            return;
        }
        GSList* uris = soup_server_get_uris(server_.get());
        if (uris != nullptr) {
            port_ = g_uri_get_port(static_cast<GUri*>(uris->data));
        }
        g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
        soup_server_add_handler(server_.get(), nullptr, onRequest, this, nullptr);
    }
    ~TestServer() {
        for (const auto& msg : paused_) {
            soup_server_message_set_status(msg.get(), 500, nullptr);
            soup_server_message_unpause(msg.get());
        }
        paused_.clear();
        soup_server_disconnect(server_.get());
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;
    TestServer(TestServer&&) = delete;
    TestServer& operator=(TestServer&&) = delete;

    [[nodiscard]] std::string url(const std::string& path) const {
        return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
    }
    [[nodiscard]] int port() const { return port_; }

    // Handlers answer in turn, the last one for every request after.
    void answer(std::vector<Handler> handlers) { handlers_ = std::move(handlers); }
    void answerAlways(Handler handler) { handlers_ = {std::move(handler)}; }

    [[nodiscard]] const std::vector<ReceivedRequest>& received() const { return received_; }

    // Holds every request open with no answer: a service that never answers.
    void holdEvery() {
        answerAlways([this](SoupServerMessage* msg, const ReceivedRequest&) { hold(msg); });
    }
    // Runs the main context until a request has arrived.
    void waitForRequest() const {
        while (received_.empty()) {
            g_main_context_iteration(nullptr, TRUE);
        }
    }

    // Holds a message open with no answer (until the server goes away).
    void hold(SoupServerMessage* msg) {
        soup_server_message_pause(msg);
        paused_.push_back(addRef(msg));
    }
    // Answers a held message now.
    void release(SoupServerMessage* msg, int status, const std::string& contentType,
                 const std::string& body) {
        soup_server_message_set_status(msg, static_cast<guint>(status), nullptr);
        soup_server_message_set_response(msg, contentType.c_str(), SOUP_MEMORY_COPY, body.data(),
                                         body.size());
        soup_server_message_unpause(msg);
        std::erase_if(paused_,
                      [msg](const GRef<SoupServerMessage>& held) { return held.get() == msg; });
    }

    static void respond(SoupServerMessage* msg, int status, const std::string& contentType,
                        const std::string& body,
                        const std::map<std::string, std::string>& headers = {}) {
        test::respond(msg, status, contentType, body, headers);
    }

  private:
    GRef<SoupServer> server_;
    std::string scheme_;
    int port_ = 0;
    std::vector<Handler> handlers_;
    std::vector<ReceivedRequest> received_;
    std::vector<GRef<SoupServerMessage>> paused_;

    static void onRequest(SoupServer* /*server*/, SoupServerMessage* msg, const char* path,
                          GHashTable* /*query*/, gpointer data) {
        auto* self = static_cast<TestServer*>(data);
        ReceivedRequest r;
        r.method = soup_server_message_get_method(msg);
        r.path = path;
        GUri* uri = soup_server_message_get_uri(msg);
        r.query = g_uri_get_query(uri) != nullptr ? g_uri_get_query(uri) : "";
        soup_message_headers_foreach(
            soup_server_message_get_request_headers(msg),
            [](const char* name, const char* value, gpointer p) {
                GCharPtr lower(g_ascii_strdown(name, -1));
                (*static_cast<std::map<std::string, std::string>*>(p))[lower.get()] = value;
            },
            &r.headers);
        SoupMessageBody* body = soup_server_message_get_request_body(msg);
        GBytesPtr flat(soup_message_body_flatten(body));
        gsize size = 0;
        const auto* data_ = static_cast<const char*>(g_bytes_get_data(flat.get(), &size));
        r.body.assign(data_ != nullptr ? data_ : "", size);
        self->received_.push_back(r);
        const size_t index = std::min(self->received_.size(), self->handlers_.size()) - 1;
        if (self->handlers_.empty()) {
            respond(msg, 404, "text/plain", "no handler");
            return;
        }
        self->handlers_[index](msg, self->received_.back());
    }
};

} // namespace imagegen::test
