// What the HTTP tests share: a client with no jitter, a request sent and waited for, and a
// loopback server's answers.
#pragma once

#include "core/http_client.h"
#include "test_server.h"

#include <map>
#include <string>

namespace imagegen::test {

inline HttpOptions quickOptions() {
    HttpOptions o;
    o.random = [] {
        return 0.0;
    };
    return o;
}

inline Result<HttpResponse> sendAndWait(HttpClient& client, const HttpRequest& request,
                                        GCancellable* cancellable = nullptr) {
    bool done = false;
    Result<HttpResponse> result = makeError(ErrorKind::Network, "not run");
    client.send(request, cancellable, [&](Result<HttpResponse> r) {
        result = std::move(r);
        done = true;
    });
    iterateUntil(done);
    return result;
}

inline HttpRequest post(const TestServer& server, const char* path = "/v1/images/generations") {
    HttpRequest r;
    r.url = server.url(path);
    r.contentType = "application/json";
    r.body = R"({"prompt":"p"})";
    r.headers = {{"Authorization", "Bearer secret-key"}};
    return r;
}

inline const char* const kOkBody = R"({"created":1,"data":[{"b64_json":"aGk="}]})";

inline TestServer::Handler status(
    int code, const std::map<std::string, std::string>& headers = {},
    const std::string& body = R"({"error":{"message":"x","type":"t","param":null,"code":null}})") {
    return [code, headers, body](SoupServerMessage* msg, const ReceivedRequest&) {
        TestServer::respond(msg, code, "application/json", body, headers);
    };
}

inline TestServer::Handler ok() {
    return status(200, {}, kOkBody);
}

} // namespace imagegen::test
