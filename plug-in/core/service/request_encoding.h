// The bytes on the wire: JSON for generations, multipart/form-data for edits, as the official
// SDKs send them (PROTOCOL.md §3, §4.2). Fields left at their defaults are not sent.
#pragma once

#include "core/service/connection.h"
#include "core/service/image_request.h"
#include "core/util/error.h"

#include <string>
#include <vector>

namespace imagegen {

struct HttpRequest {
    std::string method = "POST";
    std::string url;
    std::vector<Header> headers; // besides Content-Type
    std::string contentType;
    std::string body;
    size_t maxBodyBytes = 0; // a longer answer is refused; 0: HttpOptions::maxBodyBytes
    std::string caFile;      // also trust certificates this CA signs (Connection::caFile)
    // A request with a credential never follows a redirect: libsoup would send the api-key
    // header on to wherever it leads. A 3xx is then the answer.
    bool followRedirects = false;
};

// `modelField` is the value of `model` in the body, or empty to leave it out.
std::string encodeGenerationJson(const ImageRequest& request, const std::string& modelField);

struct Multipart {
    std::string contentType; // multipart/form-data; boundary=…
    std::string body;
};
Multipart encodeEditMultipart(const ImageRequest& request, const std::string& modelField,
                              const std::string& boundary);
std::string randomBoundary();

// The whole request for a connection: URL, auth header, content type and body. An empty
// boundary picks a random one.
Result<HttpRequest> buildImagesRequest(const Connection& connection, const Credential& credential,
                                       const ImageRequest& request,
                                       const std::string& boundary = {});

} // namespace imagegen
