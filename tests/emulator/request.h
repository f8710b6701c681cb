// A request to the Images API as the emulator received it: its fields as text and its uploads,
// read from a JSON body (generations) or a multipart form (edits) and checked for the type of
// each field and the kind of each file. What the values may be is for the rules (rules.h).
#pragma once

#include "core/pixels/codec.h"
#include "core/util/glib_ptr.h"
#include "emulator/errors.h"

#include <libsoup/soup.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace emulator {

struct Upload {
    std::string part;
    std::string filename;
    std::string contentType;
    std::string bytes;
    imagegen::ImageInfo info;
};

struct Parsed {
    std::map<std::string, std::string> fields;
    std::vector<Upload> images;
    std::optional<Upload> mask;

    [[nodiscard]] bool has(const std::string& name) const { return fields.count(name) != 0; }
    // A field the caller knows is there.
    [[nodiscard]] const std::string& field(const std::string& name) const {
        return fields.at(name);
    }
    [[nodiscard]] std::string fieldOr(const std::string& name, const std::string& fallback) const {
        return has(name) ? field(name) : fallback;
    }
};

// The whole body of a request, and any bytes as text.
imagegen::GBytesPtr requestBody(SoupServerMessage* msg);
std::string bytesText(GBytes* bytes);

std::optional<ApiError> parseJsonBody(const std::string& contentType, const std::string& body,
                                      Parsed& out);

std::optional<ApiError> parseMultipartBody(SoupServerMessage* msg, const std::string& contentType,
                                           GBytes* body, Flavour flavour, Parsed& out);

} // namespace emulator
