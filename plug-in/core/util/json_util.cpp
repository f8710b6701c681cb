#include "core/util/json_util.h"

#include "core/util/i18n.h"

#include <algorithm>

namespace imagegen::json {

int nestingDepth(std::string_view text, int limit) {
    int depth = 0;
    int deepest = 0;
    bool inString = false;
    bool escaped = false;
    for (const char c : text) {
        if (inString) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                inString = false;
            }
        } else if (c == '"') {
            inString = true;
        } else if (c == '\'' || c == '/') {
            return limit + 1;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) {
                break;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

Result<Document> parseObject(std::string_view text) {
    if (nestingDepth(text) > kMaxJsonDepth) {
        return makeError(
            ErrorKind::MalformedResponse,
            textf(_("the JSON nests more than %d levels deep"), static_cast<int>(kMaxJsonDepth)));
    }
    auto parser = adoptRef(json_parser_new());
    GErrorPtr error;
    if (!json_parser_load_from_data(parser.get(), text.data(), static_cast<gssize>(text.size()),
                                    outPtr(error))) {
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("not valid JSON: %s"), error->message));
    }
    JsonNode* node = json_parser_get_root(parser.get());
    if (node == nullptr || !JSON_NODE_HOLDS_OBJECT(node)) {
        return makeError(ErrorKind::MalformedResponse, _("the JSON is not an object"));
    }
    return Document(JsonNodePtr(json_node_ref(node)));
}

static JsonNode* member(JsonObject* o, const char* name) {
    if (o == nullptr || !json_object_has_member(o, name)) {
        return nullptr;
    }
    return json_object_get_member(o, name);
}

JsonObject* object(JsonObject* o, const char* name) {
    JsonNode* n = member(o, name);
    return n != nullptr && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : nullptr;
}

JsonArray* array(JsonObject* o, const char* name) {
    JsonNode* n = member(o, name);
    return n != nullptr && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : nullptr;
}

std::optional<std::string> string(JsonObject* o, const char* name) {
    JsonNode* n = member(o, name);
    if (n == nullptr || json_node_get_value_type(n) != G_TYPE_STRING) {
        return std::nullopt;
    }
    const char* text = json_node_get_string(n);
    // json-glib turns a lone surrogate escape ("\ud83d") into bytes that are not UTF-8; what we
    // read is always valid text, so it can be shown, saved and written back as JSON.
    if (g_utf8_validate(text, -1, nullptr) == FALSE) {
        const GCharPtr valid(g_utf8_make_valid(text, -1));
        return std::string(valid.get());
    }
    return std::string(text);
}

std::optional<int64_t> integer(JsonObject* o, const char* name) {
    JsonNode* n = member(o, name);
    if (n == nullptr || json_node_get_value_type(n) != G_TYPE_INT64) {
        return std::nullopt;
    }
    return json_node_get_int(n);
}

std::optional<double> number(JsonObject* o, const char* name) {
    JsonNode* n = member(o, name);
    if (n == nullptr || !JSON_NODE_HOLDS_VALUE(n)) {
        return std::nullopt;
    }
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64) {
        return static_cast<double>(json_node_get_int(n));
    }
    if (t == G_TYPE_DOUBLE) {
        return json_node_get_double(n);
    }
    return std::nullopt;
}

std::optional<bool> boolean(JsonObject* o, const char* name) {
    JsonNode* n = member(o, name);
    if (n == nullptr || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
        return std::nullopt;
    }
    return json_node_get_boolean(n) != FALSE;
}

std::vector<std::string> stringArray(JsonObject* o, const char* name) {
    std::vector<std::string> out;
    JsonArray* a = array(o, name);
    if (a == nullptr) {
        return out;
    }
    for (guint i = 0; i < json_array_get_length(a); ++i) {
        JsonNode* n = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
            out.emplace_back(json_node_get_string(n));
        }
    }
    return out;
}

std::string builderText(JsonBuilder* builder) {
    const JsonNodePtr root(json_builder_get_root(builder));
    return toText(root.get());
}

std::string toText(JsonNode* node) {
    if (node == nullptr) {
        return {};
    }
    GCharPtr text(json_to_string(node, FALSE));
    return text ? std::string(text.get()) : std::string();
}

} // namespace imagegen::json
