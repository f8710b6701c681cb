#include "emulator/request.h"

#include "core/util/glib_ptr.h"
#include "core/util/json_util.h"
#include "emulator/rules.h"

#include <memory>
#include <set>

using imagegen::GCharPtr;
using imagegen::GFreeWith;
using imagegen::GListPtr;
using imagegen::outPtr;

namespace emulator {

namespace {

using MultipartPtr = std::unique_ptr<SoupMultipart, GFreeWith<soup_multipart_free>>;
using GHashTablePtr = std::unique_ptr<GHashTable, GFreeWith<g_hash_table_destroy>>;

ApiError unknownParameter(const std::string& name) {
    return invalid(name, "Unknown parameter: '" + name + "'.", "unknown_parameter");
}

ApiError wrongJsonType(const std::string& name, const std::string& expected) {
    return invalid(name,
                   "Invalid type for '" + name + "': expected " + expected +
                       ", but got another type instead.",
                   "invalid_type");
}

// One member of a JSON body; null stands for the default, as the schema makes every field
// nullable.
std::optional<ApiError> readJsonMember(const std::string& name, JsonNode* node, Parsed& out) {
    static const std::set<std::string> strings = {
        "prompt",     "model",         "size",       "quality",         "style",
        "background", "output_format", "moderation", "response_format", "user"};
    static const std::set<std::string> integers = {"n", "output_compression", "partial_images"};
    if (JSON_NODE_HOLDS_NULL(node)) {
        return std::nullopt;
    }
    const GType type =
        JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
    if (strings.count(name) != 0) {
        if (type != G_TYPE_STRING) {
            return wrongJsonType(name, "a string");
        }
        out.fields[name] = json_node_get_string(node);
    } else if (integers.count(name) != 0) {
        if (type != G_TYPE_INT64) {
            return wrongJsonType(name, "an integer");
        }
        out.fields[name] = std::to_string(json_node_get_int(node));
    } else if (name == "stream") {
        if (type != G_TYPE_BOOLEAN) {
            return wrongJsonType(name, "a boolean");
        }
        out.fields[name] = json_node_get_boolean(node) != FALSE ? "true" : "false";
    } else {
        return unknownParameter(name);
    }
    return std::nullopt;
}

// The file's declared type must be one the service takes, and its bytes must be that type.
std::optional<ApiError> checkUpload(Upload& u, Flavour flavour, int index) {
    const std::string which = u.part == "mask" ? "mask" : "image";
    std::vector<std::string> accepted = {"image/jpeg", "image/png", "image/webp"};
    if (flavour != Flavour::OpenAI && which == "image") {
        accepted = {"image/jpeg", "image/png"}; // Azure: "must be a PNG or JPG file"
    }
    if (u.part == "mask") {
        accepted = {"image/png"};
    }
    if (!contains(accepted, u.contentType)) {
        return invalid(which,
                       "Invalid file '" + which + "': unsupported mimetype ('" + u.contentType +
                           "'). Supported file formats are " + oneOf(accepted) + ".",
                       "unsupported_file_mimetype");
    }
    auto info = imagegen::probeImage(u.bytes);
    const bool matches = info && std::string(imagegen::mimeTypeOf(info->format)) == u.contentType;
    if (!matches) {
        return invalid(which,
                       "Invalid image file or mode for " + which + " " + std::to_string(index) +
                           ", please check your image file.",
                       "invalid_image_format");
    }
    u.info = *info;
    return std::nullopt;
}

// Reads a form's parts one by one, remembering which spelling of the image field it has seen.
struct FormReader {
    Flavour flavour;
    Parsed& out;
    bool sawImage = false;
    bool sawImageArray = false;

    std::optional<ApiError> addUpload(Upload u) {
        auto problem = checkUpload(u, flavour, static_cast<int>(out.images.size()) + 1);
        if (problem) {
            return problem;
        }
        if (u.part == "mask") {
            if (out.mask) {
                problem = invalid("mask", "Only one mask may be given.", "invalid_value");
            }
            out.mask = std::move(u); // the log shows the mask that was refused
            return problem;
        }
        sawImage = sawImage || u.part == "image";
        sawImageArray = sawImageArray || u.part == "image[]";
        out.images.push_back(std::move(u));
        return std::nullopt;
    }

    std::optional<ApiError> readPart(SoupMessageHeaders* headers, GBytes* bytes) {
        static const std::set<std::string> textFields = {"prompt",
                                                         "model",
                                                         "n",
                                                         "size",
                                                         "quality",
                                                         "background",
                                                         "input_fidelity",
                                                         "output_format",
                                                         "output_compression",
                                                         "response_format",
                                                         "user",
                                                         "stream",
                                                         "partial_images"};
        GCharPtr disposition;
        GHashTablePtr params;
        if (!soup_message_headers_get_content_disposition(headers, outPtr(disposition),
                                                          outPtr(params))) {
            return invalid("", "A multipart part has no Content-Disposition.", "invalid_multipart");
        }
        const char* nameRaw = static_cast<const char*>(g_hash_table_lookup(params.get(), "name"));
        const char* filename =
            static_cast<const char*>(g_hash_table_lookup(params.get(), "filename"));
        const std::string name = nameRaw != nullptr ? nameRaw : "";
        std::string value = bytesText(bytes);
        if (name == "image" || name == "image[]" || name == "mask") {
            const char* partType = soup_message_headers_get_content_type(headers, nullptr);
            return addUpload({name,
                              filename != nullptr ? filename : "",
                              partType != nullptr ? partType : "",
                              std::move(value),
                              {}});
        }
        if (textFields.count(name) == 0) {
            return unknownParameter(name);
        }
        if (filename != nullptr) {
            return invalid(
                name, "Invalid type for '" + name + "': expected a string, but got a file instead.",
                "invalid_type");
        }
        out.fields[name] = std::move(value);
        return std::nullopt;
    }
};

} // namespace

imagegen::GBytesPtr requestBody(SoupServerMessage* msg) {
    return imagegen::GBytesPtr(
        soup_message_body_flatten(soup_server_message_get_request_body(msg)));
}

std::string bytesText(GBytes* bytes) {
    gsize size = 0;
    const auto* data = static_cast<const char*>(g_bytes_get_data(bytes, &size));
    return {data != nullptr ? data : "", size};
}

std::optional<ApiError> parseJsonBody(const std::string& contentType, const std::string& body,
                                      Parsed& out) {
    if (contentType.find("application/json") == std::string::npos) {
        return invalid("",
                       "Unsupported content type: '" + contentType +
                           "'. This API method only accepts 'application/json' requests, but you "
                           "specified the header 'Content-Type: " +
                           contentType +
                           "'. Please try again with a "
                           "supported content type.",
                       "unsupported_content_type");
    }
    auto document = imagegen::json::parseObject(body);
    if (!document) {
        return invalid(
            "",
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)",
            "");
    }
    JsonObject* root = document->root();
    GListPtr members(json_object_get_members(root));
    for (GList* m = members.get(); m != nullptr; m = m->next) {
        const std::string name = static_cast<const char*>(m->data);
        if (auto problem = readJsonMember(name, json_object_get_member(root, name.c_str()), out)) {
            return problem;
        }
    }
    return std::nullopt;
}

std::optional<ApiError> parseMultipartBody(SoupServerMessage* msg, const std::string& contentType,
                                           GBytes* body, Flavour flavour, Parsed& out) {
    if (contentType.rfind("multipart/form-data", 0) != 0) {
        return invalid("",
                       "Unsupported content type: '" + contentType +
                           "'. This API method only accepts 'multipart/form-data' requests.",
                       "unsupported_content_type");
    }
    MultipartPtr multipart(
        soup_multipart_new_from_message(soup_server_message_get_request_headers(msg), body));
    if (!multipart) {
        return invalid("", "The multipart body could not be parsed: check the boundary.",
                       "invalid_multipart");
    }
    FormReader reader{flavour, out};
    for (int i = 0; i < soup_multipart_get_length(multipart.get()); ++i) {
        SoupMessageHeaders* headers = nullptr;
        GBytes* bytes = nullptr;
        soup_multipart_get_part(multipart.get(), i, &headers, &bytes);
        if (auto problem = reader.readPart(headers, bytes)) {
            return problem;
        }
    }
    if (reader.sawImage && (reader.sawImageArray || out.images.size() > 1)) {
        return invalid("image",
                       "Send one image as 'image', or several as repeated 'image[]', not both.",
                       "invalid_value");
    }
    return std::nullopt;
}

} // namespace emulator
