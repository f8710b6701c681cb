#include "core/run_parameters.h"

#include "core/glib_ptr.h"
#include "core/json_util.h"

#include <set>

namespace imagegen {

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

} // namespace imagegen
