#include "core/service/request_encoding.h"

#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"

#include <json-glib/json-glib.h>

namespace imagegen {

namespace {

// The optional scalar fields in the order both encoders write them.
struct Field {
    const char* name;
    enum { Text, Integer, Boolean } type;
    std::string text;
    int integer;
    bool present;
};

std::vector<Field> scalarFields(const ImageRequest& r, const std::string& modelField) {
    std::vector<Field> f;
    auto text = [&f](const char* name, const std::string& v) {
        f.push_back({name, Field::Text, v, 0, !v.empty()});
    };
    auto integer = [&f](const char* name, int v) {
        f.push_back({name, Field::Integer, {}, v, v != -1});
    };
    const bool edit = r.operation == Operation::Edit;
    text("model", modelField);
    text("prompt", r.prompt);
    integer("n", r.n);
    text("size", r.size);
    text("quality", r.quality);
    if (!edit) {
        text("style", r.style);
    }
    text("background", r.background);
    if (edit) {
        text("input_fidelity", r.inputFidelity);
    }
    text("output_format", r.outputFormat);
    integer("output_compression", r.outputCompression);
    if (!edit) {
        text("moderation", r.moderation);
    }
    text("response_format", r.responseFormat);
    text("user", r.user);
    f.push_back({"stream", Field::Boolean, {}, 0, r.stream});
    integer("partial_images", r.partialImages);
    return f;
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        if (c != '\r' && c != '\n') {
            out += c;
        }
    }
    return out + "\"";
}

void appendFilePart(std::string& body, const std::string& boundary, const char* name,
                    const InputImage& image) {
    body += "--" + boundary + "\r\n";
    body += std::string("Content-Disposition: form-data; name=\"") + name +
            "\"; filename=" + quoted(image.filename) + "\r\n";
    body += "Content-Type: " + image.mimeType + "\r\n\r\n";
    body += image.bytes;
    body += "\r\n";
}

} // namespace

std::string encodeGenerationJson(const ImageRequest& request, const std::string& modelField) {
    auto builder = adoptRef(json_builder_new());
    json_builder_begin_object(builder.get());
    for (const auto& f : scalarFields(request, modelField)) {
        if (!f.present) {
            continue;
        }
        json_builder_set_member_name(builder.get(), f.name);
        switch (f.type) {
        case Field::Text:
            json_builder_add_string_value(builder.get(), f.text.c_str());
            break;
        case Field::Integer:
            json_builder_add_int_value(builder.get(), f.integer);
            break;
        case Field::Boolean:
            json_builder_add_boolean_value(builder.get(), TRUE);
            break;
        }
    }
    json_builder_end_object(builder.get());
    return json::builderText(builder.get());
}

Multipart encodeEditMultipart(const ImageRequest& request, const std::string& modelField,
                              const std::string& boundary) {
    Multipart m;
    m.contentType = "multipart/form-data; boundary=" + boundary;
    size_t reserve = 1024;
    for (const auto& image : request.images) {
        reserve += image.bytes.size() + 256;
    }
    if (request.mask) {
        reserve += request.mask->bytes.size() + 256;
    }
    m.body.reserve(reserve);
    for (const auto& f : scalarFields(request, modelField)) {
        if (!f.present) {
            continue;
        }
        m.body += "--" + boundary + "\r\n";
        m.body += std::string("Content-Disposition: form-data; name=\"") + f.name + "\"\r\n\r\n";
        switch (f.type) {
        case Field::Text:
            m.body += f.text;
            break;
        case Field::Integer:
            m.body += std::to_string(f.integer);
            break;
        case Field::Boolean:
            m.body += "true";
            break;
        }
        m.body += "\r\n";
    }
    // One image goes as `image`; several as repeated `image[]`, as the SDKs send arrays.
    const char* imageName = request.images.size() == 1 ? "image" : "image[]";
    for (const auto& image : request.images) {
        appendFilePart(m.body, boundary, imageName, image);
    }
    if (request.mask) {
        appendFilePart(m.body, boundary, "mask", *request.mask);
    }
    m.body += "--" + boundary + "--\r\n";
    return m;
}

std::string randomBoundary() {
    GCharPtr uuid(g_uuid_string_random());
    std::string b = "imagegen-";
    for (const char* p = uuid.get(); *p != '\0'; ++p) {
        if (*p != '-') {
            b += *p;
        }
    }
    return b;
}

Result<HttpRequest> buildImagesRequest(const Connection& connection, const Credential& credential,
                                       const ImageRequest& request, const std::string& boundary) {
    auto url = operationUrl(connection, request.operation, request.model);
    if (!url) {
        return url.error();
    }
    if (credential.secret.empty()) {
        return makeError(
            ErrorKind::Configuration,
            textf(_("the connection %s has no API key or token"), connection.name.c_str()));
    }
    if (auto ca = checkCaFile(connection); !ca) {
        return ca.error();
    }
    HttpRequest http;
    http.url = *url;
    http.caFile = connection.caFile;
    http.headers.push_back(authHeader(credential));
    http.headers.emplace_back("Accept", request.stream ? "text/event-stream" : "application/json");
    const std::string modelField = bodyNamesModel(connection.kind) ? request.model : std::string();
    if (request.operation == Operation::Edit) {
        Multipart m = encodeEditMultipart(request, modelField,
                                          boundary.empty() ? randomBoundary() : boundary);
        http.contentType = std::move(m.contentType);
        http.body = std::move(m.body);
    } else {
        http.contentType = "application/json";
        http.body = encodeGenerationJson(request, modelField);
    }
    return http;
}

} // namespace imagegen
