#include "core/run/run_parameters.h"

#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

namespace imagegen {

namespace {

// The options a caller may give, in the order the error for an unknown one lists them.
using OptionField = std::variant<std::string Options::*, int Options::*, bool Options::*,
                                 std::vector<int> Options::*>;
const std::pair<const char*, OptionField> kOptionFields[] = {
    {"background", &Options::background},
    {"output_format", &Options::outputFormat},
    {"output_compression", &Options::outputCompression},
    {"moderation", &Options::moderation},
    {"user", &Options::user},
    {"input_fidelity", &Options::inputFidelity},
    {"stream", &Options::stream},
    {"partial_images", &Options::partialImages},
    {"references", &Options::references},
    {"match_colors", &Options::matchColors},
    {"upload_format", &Options::uploadFormat},
    {"source", &Options::source},
};

// OpenAI's and Azure's `user` is an ID of the end user ("user-1234"). Their schemas give it no
// length; safety_identifier, the field that replaces it, takes at most 64 characters. 256 leaves
// room for any ID (an e-mail address has at most 254) and refuses a text pasted there by mistake.
constexpr glong kMaxUserChars = 256;

Error refuseOption(const std::string& key, const std::string& what) {
    // TRANSLATORS: "options: stream must be true or false".
    Error e =
        makeError(ErrorKind::InvalidRequest, textf(_("options: %s %s"), key.c_str(), what.c_str()));
    e.param = key;
    return e;
}

std::optional<std::vector<int>> layerIds(JsonObject* root, const char* key) {
    JsonArray* list = json::array(root, key);
    if (list == nullptr) {
        return std::nullopt;
    }
    std::vector<int> ids;
    for (guint i = 0; i < json_array_get_length(list); ++i) {
        JsonNode* n = json_array_get_element(list, i);
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
            return std::nullopt;
        }
        ids.push_back(static_cast<int>(json_node_get_int(n)));
    }
    return ids;
}

// Reads one known option into `o`; an error says what its value must be.
Status readOption(JsonObject* root, const char* key, const OptionField& field, Options& o) {
    if (const auto* text = std::get_if<std::string Options::*>(&field)) {
        auto v = json::string(root, key);
        if (!v) {
            return refuseOption(key, _("must be a string"));
        }
        o.*(*text) = *v;
    } else if (const auto* whole = std::get_if<int Options::*>(&field)) {
        auto v = json::integer(root, key);
        if (!v) {
            return refuseOption(key, _("must be a whole number"));
        }
        if (*v < INT32_MIN || *v > INT32_MAX) {
            return refuseOption(key, _("is out of range"));
        }
        o.*(*whole) = static_cast<int>(*v);
    } else if (const auto* flag = std::get_if<bool Options::*>(&field)) {
        auto v = json::boolean(root, key);
        if (!v) {
            return refuseOption(key, _("must be true or false"));
        }
        o.*(*flag) = *v;
    } else {
        auto ids = layerIds(root, key);
        if (!ids) {
            return refuseOption(key, _("must be a list of layer IDs"));
        }
        o.*std::get<std::vector<int> Options::*>(field) = std::move(*ids);
    }
    return Ok{};
}

const OptionField* findOption(const std::string& key) {
    for (const auto& [name, field] : kOptionFields) {
        if (key == name) {
            return &field;
        }
    }
    return nullptr;
}

std::string knownOptions() {
    std::string names;
    for (const auto& [name, field] : kOptionFields) {
        names += std::string(names.empty() ? "" : ", ") + name;
    }
    return names;
}

} // namespace

Result<Options> parseOptions(const std::string& text) {
    Options o;
    if (text.empty()) {
        return o;
    }
    auto document = json::parseObject(text);
    if (!document) {
        Error e = makeError(ErrorKind::InvalidRequest,
                            _("options must be a JSON object, e.g. {\"background\":\"opaque\"}"));
        e.param = "options";
        return e;
    }
    JsonObject* root = document->root();
    const GListPtr members(json_object_get_members(root));
    for (GList* m = members.get(); m != nullptr; m = m->next) {
        const std::string key = static_cast<const char*>(m->data);
        const OptionField* field = findOption(key);
        if (field == nullptr) {
            return refuseOption(key, textf(_("is not an option this plug-in knows (known: %s)"),
                                           knownOptions().c_str()));
        }
        if (auto read = readOption(root, key.c_str(), *field, o); !read) {
            return read.error();
        }
    }
    if (const auto length = g_utf8_strlen(o.user.c_str(), -1); length > kMaxUserChars) {
        return refuseOption(
            "user", textf(_("is %ld characters long; it is an ID of the end user, of at most %ld"),
                          static_cast<long>(length), static_cast<long>(kMaxUserChars)));
    }
    if (!o.uploadFormat.empty() && o.uploadFormat != "auto" && o.uploadFormat != "png") {
        return refuseOption("upload_format", _("must be \"auto\" or \"png\""));
    }
    if (!o.source.empty() && o.source != Options::kSourceVisible &&
        o.source != Options::kSourceLayer) {
        return refuseOption("source", _("must be \"visible\" (the picture as you see it) or "
                                        "\"layer\" (the active layer alone)"));
    }
    return o;
}

ImageRequest requestFrom(Procedure procedure, const RunParameters& p) {
    const Options& o = p.options;
    ImageRequest r;
    const bool edits = procedure == Procedure::Edit || procedure == Procedure::Expand;
    r.operation = edits ? Operation::Edit : Operation::Generate;
    r.prompt = procedure == Procedure::Expand && p.prompt.empty() ? kExpandPrompt : p.prompt;
    r.n = p.n;
    r.size = p.size == "auto" ? std::string() : p.size;
    r.quality = p.quality;
    // Every field goes into the request, whatever the procedure, so that one given where it does
    // not apply is refused by validateFields rather than dropped without a word.
    r.inputFidelity = o.inputFidelity;
    r.style = p.style;
    r.moderation = o.moderation;
    r.background = o.background;
    r.outputFormat = o.outputFormat;
    r.outputCompression = o.outputCompression;
    r.user = o.user;
    r.stream = o.stream;
    r.partialImages = o.partialImages;
    return r;
}

std::string optionsToJson(const Options& o) {
    const Options unset;
    const GRef<JsonBuilder> builder = adoptRef(json_builder_new());
    JsonBuilder* b = builder.get();
    json_builder_begin_object(b);
    for (const auto& [name, field] : kOptionFields) {
        if (const auto* text = std::get_if<std::string Options::*>(&field)) {
            if (o.*(*text) != unset.*(*text)) {
                json_builder_set_member_name(b, name);
                json_builder_add_string_value(b, (o.*(*text)).c_str());
            }
        } else if (const auto* whole = std::get_if<int Options::*>(&field)) {
            if (o.*(*whole) != unset.*(*whole)) {
                json_builder_set_member_name(b, name);
                json_builder_add_int_value(b, o.*(*whole));
            }
        } else if (const auto* flag = std::get_if<bool Options::*>(&field)) {
            if (o.*(*flag) != unset.*(*flag)) {
                json_builder_set_member_name(b, name);
                json_builder_add_boolean_value(b, o.*(*flag) ? TRUE : FALSE);
            }
        } else if (const auto& ids = o.*std::get<std::vector<int> Options::*>(field);
                   !ids.empty()) {
            json_builder_set_member_name(b, name);
            json_builder_begin_array(b);
            for (const int id : ids) {
                json_builder_add_int_value(b, id);
            }
            json_builder_end_array(b);
        }
    }
    json_builder_end_object(b);
    const JsonNodePtr root(json_builder_get_root(b));
    if (json_object_get_size(json_node_get_object(root.get())) == 0) {
        return {};
    }
    const GRef<JsonGenerator> generator = adoptRef(json_generator_new());
    json_generator_set_root(generator.get(), root.get());
    const GCharPtr text(json_generator_to_data(generator.get(), nullptr));
    return text.get();
}

} // namespace imagegen
