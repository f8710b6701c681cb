#include "core/run_parameters.h"

#include "core/glib_ptr.h"
#include "core/json_util.h"

#include <set>

namespace imagegen {

namespace {
constexpr int kLastValuesVersion = 1;
} // namespace

Result<Options> parseOptions(const std::string& text) {
    Options o;
    if (text.empty()) {
        return o;
    }
    auto document = json::parseObject(text);
    JsonObject* root = document ? document->root() : nullptr;
    if (!document) {
        Error e = makeError(ErrorKind::InvalidRequest,
                            "options must be a JSON object, e.g. {\"background\":\"opaque\"}");
        e.param = "options";
        return e;
    }
    auto refuse = [](const std::string& key, const std::string& what) {
        Error e = makeError(ErrorKind::InvalidRequest, "options: " + key + " " + what);
        e.param = key;
        return e;
    };
    static const std::set<std::string> strings = {"background", "output_format", "moderation",
                                                  "user", "input_fidelity"};
    GList* members = json_object_get_members(root);
    std::optional<Error> problem;
    for (GList* m = members; m != nullptr && !problem; m = m->next) {
        const std::string key = static_cast<const char*>(m->data);
        if (strings.count(key) != 0) {
            auto v = json::string(root, key.c_str());
            if (!v) {
                problem = refuse(key, "must be a string");
                continue;
            }
            (key == "background"      ? o.background
             : key == "output_format" ? o.outputFormat
             : key == "moderation"    ? o.moderation
             : key == "user"          ? o.user
                                      : o.inputFidelity) = *v;
        } else if (key == "output_compression" || key == "partial_images") {
            auto v = json::integer(root, key.c_str());
            if (!v) {
                problem = refuse(key, "must be a whole number");
                continue;
            }
            (key == "output_compression" ? o.outputCompression : o.partialImages) =
                static_cast<int>(*v);
        } else if (key == "stream") {
            auto v = json::boolean(root, "stream");
            if (!v) {
                problem = refuse(key, "must be true or false");
                continue;
            }
            o.stream = *v;
        } else if (key == "references") {
            JsonArray* list = json::array(root, "references");
            if (list == nullptr) {
                problem = refuse(key, "must be a list of layer IDs");
                continue;
            }
            for (guint i = 0; i < json_array_get_length(list); ++i) {
                JsonNode* n = json_array_get_element(list, i);
                if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
                    problem = refuse(key, "must be a list of layer IDs");
                    break;
                }
                o.references.push_back(static_cast<int>(json_node_get_int(n)));
            }
        } else {
            problem = refuse(
                key, "is not an option this plug-in knows (known: background, output_format, "
                     "output_compression, moderation, user, input_fidelity, stream, "
                     "partial_images, references)");
        }
    }
    g_list_free(members);
    if (problem) {
        return *problem;
    }
    return o;
}

ImageRequest requestFrom(Procedure procedure, const RunParameters& p, const Options& o) {
    ImageRequest r;
    r.operation = procedure == Procedure::Edit ? Operation::Edit : Operation::Generate;
    r.prompt = p.prompt;
    r.n = p.n;
    r.size = p.size == "auto" ? std::string() : p.size;
    r.quality = p.quality;
    if (procedure == Procedure::Edit) {
        r.inputFidelity = !p.inputFidelity.empty() ? p.inputFidelity : o.inputFidelity;
    } else {
        r.style = p.style;
        r.moderation = o.moderation;
    }
    r.background = !p.background.empty() ? p.background : o.background;
    r.outputFormat = o.outputFormat;
    r.outputCompression = o.outputCompression;
    r.user = o.user;
    r.stream = o.stream;
    r.partialImages = o.partialImages;
    return r;
}

std::string lastValuesToJson(const RunParameters& p) {
    auto b = adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "version");
    json_builder_add_int_value(b.get(), kLastValuesVersion);
    for (const auto& [k, v] : std::initializer_list<std::pair<const char*, const std::string*>>{
             {"prompt", &p.prompt},
             {"model", &p.model},
             {"size", &p.size},
             {"quality", &p.quality},
             {"input_fidelity", &p.inputFidelity},
             {"style", &p.style},
             {"background", &p.background},
             {"connection", &p.connection},
             {"options", &p.options}}) {
        json_builder_set_member_name(b.get(), k);
        json_builder_add_string_value(b.get(), v->c_str());
    }
    json_builder_set_member_name(b.get(), "n");
    json_builder_add_int_value(b.get(), p.n);
    json_builder_set_member_name(b.get(), "context");
    json_builder_add_double_value(b.get(), p.context);
    json_builder_set_member_name(b.get(), "feather");
    json_builder_add_double_value(b.get(), p.feather);
    json_builder_end_object(b.get());
    return json::builderText(b.get());
}

Result<RunParameters> lastValuesFromJson(const std::string& text) {
    auto document = json::parseObject(text);
    JsonObject* root = document ? document->root() : nullptr;
    if (!document || json::integer(root, "version").value_or(0) != kLastValuesVersion) {
        return makeError(ErrorKind::InvalidRequest, "no usable last values");
    }
    RunParameters p;
    p.prompt = json::string(root, "prompt").value_or("");
    p.model = json::string(root, "model").value_or("");
    p.size = json::string(root, "size").value_or("");
    p.quality = json::string(root, "quality").value_or("");
    p.inputFidelity = json::string(root, "input_fidelity").value_or("");
    p.style = json::string(root, "style").value_or("");
    p.background = json::string(root, "background").value_or("");
    p.connection = json::string(root, "connection").value_or("");
    p.options = json::string(root, "options").value_or("");
    p.n = static_cast<int>(json::integer(root, "n").value_or(-1));
    p.context = json::number(root, "context").value_or(-1);
    p.feather = json::number(root, "feather").value_or(-1);
    return p;
}

} // namespace imagegen
