// What the HTTP tests share: a client with no jitter, a request sent and waited for, and a
// loopback server's answers.
#pragma once

#include "core/service/http_client.h"
#include "test_server.h"

#include <gio/gio.h>

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

// `text` compressed as gzip (a Content-Encoding: gzip body).
inline std::string gzipped(const std::string& text) {
    const GRef<GZlibCompressor> compressor =
        adoptRef(g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9));
    std::string out;
    std::string buffer(1 << 16, '\0');
    size_t in = 0;
    for (;;) {
        gsize read = 0;
        gsize written = 0;
        GErrorPtr error;
        const GConverterResult r = g_converter_convert(
            G_CONVERTER(compressor.get()), text.data() + in, text.size() - in, buffer.data(),
            buffer.size(), G_CONVERTER_INPUT_AT_END, &read, &written, outPtr(error));
        if (r == G_CONVERTER_ERROR) {
            return out;
        }
        in += read;
        out.append(buffer.data(), written);
        if (r == G_CONVERTER_FINISHED) {
            return out;
        }
    }
}

// Answers with `status` and the start of a chunked body, then sends nothing more: a server that
// stalls in the middle of its answer.
inline TestServer::Handler stallAfter(int status, const std::string& contentType,
                                      const std::string& start) {
    return [status, contentType, start](SoupServerMessage* msg, const ReceivedRequest&) {
        soup_server_message_set_status(msg, static_cast<guint>(status), nullptr);
        SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
        soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
        soup_message_headers_set_content_type(h, contentType.c_str(), nullptr);
        soup_message_body_append(soup_server_message_get_response_body(msg), SOUP_MEMORY_COPY,
                                 start.data(), start.size());
    };
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
