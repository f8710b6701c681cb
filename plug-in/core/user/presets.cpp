#include "core/user/presets.h"

#include "core/service/models.h"
#include "core/util/data_files.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

namespace imagegen {

namespace {

// The titles of data/presets.json, for the catalogues: xgettext cannot read JSON, and the dialog
// shows each title through the plug-in's domain. tests/i18n/check-catalogues fails when a title
// of the file is missing here. (The prompts stay English: they go to the model, which follows
// English best, and the user edits them.)
[[maybe_unused]] constexpr const char* kPresetTitles[] = {
    // TRANSLATORS: the titles of the dialog's presets.
    N_("Remove the selected object"),
    N_("Replace the sky"),
    N_("Extend the background"),
    N_("Product on a plain background"),
    N_("Product on a transparent background"),
    N_("Change the clothing colour"),
};

using PresetField = std::variant<std::string Preset::*, int Preset::*, double Preset::*,
                                 std::vector<Procedure> Preset::*>;

// The keys of a preset, in the order an error for an unknown one lists them.
const std::pair<const char*, PresetField> kPresetFields[] = {
    {"id", &Preset::id},
    {"title", &Preset::title},
    {"prompt", &Preset::prompt},
    {"procedures", &Preset::procedures},
    {"size", &Preset::size},
    {"quality", &Preset::quality},
    {"background", &Preset::background},
    {"input_fidelity", &Preset::inputFidelity},
    {"n", &Preset::n},
    {"context", &Preset::context},
    {"feather", &Preset::feather},
};

constexpr Procedure kProcedures[] = {Procedure::Edit, Procedure::Generate, Procedure::NewImage};

Error refuse(const std::string& message) {
    return makeError(ErrorKind::Configuration, textf(_("the presets: %s"), message.c_str()));
}

// "preset 2" until the preset's id is known, then "preset remove-object".
std::string presetName(const Preset& p, guint index) {
    return p.id.empty() ? textf(_("preset %u"), index + 1) : textf(_("preset %s"), p.id.c_str());
}

std::string knownKeys() {
    std::string names;
    for (const auto& [name, field] : kPresetFields) {
        names += std::string(names.empty() ? "" : ", ") + name;
    }
    return names;
}

const PresetField* findField(const std::string& key) {
    for (const auto& [name, field] : kPresetFields) {
        if (key == name) {
            return &field;
        }
    }
    return nullptr;
}

std::optional<Procedure> procedureNamed(const std::string& name) {
    for (Procedure p : kProcedures) {
        if (name == presetProcedureName(p)) {
            return p;
        }
    }
    return std::nullopt;
}

std::optional<std::vector<Procedure>> procedureList(JsonObject* o, const char* key) {
    JsonArray* list = json::array(o, key);
    if (list == nullptr) {
        return std::nullopt;
    }
    std::vector<Procedure> out;
    for (guint i = 0; i < json_array_get_length(list); ++i) {
        JsonNode* n = json_array_get_element(list, i);
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
            return std::nullopt;
        }
        auto p = procedureNamed(json_node_get_string(n));
        if (!p) {
            return std::nullopt;
        }
        out.push_back(*p);
    }
    return out;
}

// Reads one known key into `p`; the error says what its value must be.
std::optional<std::string> readField(JsonObject* o, const char* key, const PresetField& field,
                                     Preset& p) {
    if (const auto* text = std::get_if<std::string Preset::*>(&field)) {
        auto v = json::string(o, key);
        if (!v) {
            return _("must be a string");
        }
        p.*(*text) = std::move(*v);
    } else if (const auto* whole = std::get_if<int Preset::*>(&field)) {
        auto v = json::integer(o, key);
        if (!v || *v < 1 || *v > INT32_MAX) {
            return _("must be a whole number, 1 or more");
        }
        p.*(*whole) = static_cast<int>(*v);
    } else if (const auto* number = std::get_if<double Preset::*>(&field)) {
        auto v = json::number(o, key);
        if (!v || !std::isfinite(*v) || *v < 0) {
            return _("must be a number, 0 or more");
        }
        p.*(*number) = *v;
    } else {
        auto list = procedureList(o, key);
        if (!list) {
            return _("must be a list of \"edit\", \"generate\" or \"new-image\"");
        }
        p.*std::get<std::vector<Procedure> Preset::*>(field) = std::move(*list);
    }
    return std::nullopt;
}

// What a preset needs beyond well-typed keys, or an empty string when it is complete.
std::string presetProblem(const Preset& p) {
    if (p.id.empty() || p.title.empty() || p.prompt.empty()) {
        return _("needs a non-empty id, title and prompt");
    }
    if (!p.size.empty() && p.size != "auto" && !parseSize(p.size)) {
        return textf(_("has size \"%s\": use auto or WIDTHxHEIGHT"), p.size.c_str());
    }
    return {};
}

Result<Preset> readPreset(JsonNode* node, guint index) {
    Preset p;
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        return refuse(textf(_("%s is not an object"), presetName(p, index).c_str()));
    }
    JsonObject* o = json_node_get_object(node);
    // The id first, so that every later error can name the preset.
    if (auto id = json::string(o, "id")) {
        p.id = *id;
    }
    const GListPtr members(json_object_get_members(o));
    for (GList* m = members.get(); m != nullptr; m = m->next) {
        const std::string key = static_cast<const char*>(m->data);
        const PresetField* field = findField(key);
        if (field == nullptr) {
            return refuse(textf(_("%s has the unknown key \"%s\" (known: %s)"),
                                presetName(p, index).c_str(), key.c_str(), knownKeys().c_str()));
        }
        if (auto problem = readField(o, key.c_str(), *field, p)) {
            // TRANSLATORS: "preset 2: n must be a whole number, 1 or more".
            return refuse(
                textf(_("%s: %s %s"), presetName(p, index).c_str(), key.c_str(), problem->c_str()));
        }
    }
    if (auto problem = presetProblem(p); !problem.empty()) {
        // TRANSLATORS: "preset 2 needs a non-empty id, title and prompt".
        return refuse(textf(_("%s %s"), presetName(p, index).c_str(), problem.c_str()));
    }
    return p;
}

} // namespace

std::optional<std::string> presetUnfitFor(const Preset& preset, const ModelCaps& caps) {
    const char* model = caps.name.c_str();
    if (!preset.background.empty() && !caps.background) {
        // TRANSLATORS: shown after a preset's title, e.g. "… — dall-e-3 has no transparent or
        // opaque background choice".
        return textf(_("%s has no background choice"), model);
    }
    if (!preset.quality.empty() && std::find(caps.qualities.begin(), caps.qualities.end(),
                                             preset.quality) == caps.qualities.end()) {
        return textf(_("%s has no %s quality"), model, preset.quality.c_str());
    }
    if (!preset.size.empty() && preset.size != "auto" && !caps.offersSize(preset.size)) {
        return textf(_("%s does not draw %s"), model, preset.size.c_str());
    }
    if (!preset.inputFidelity.empty() && !caps.inputFidelity) {
        return textf(_("%s has no input fidelity"), model);
    }
    return std::nullopt;
}

bool Preset::appliesTo(Procedure procedure) const {
    return procedures.empty() ||
           std::find(procedures.begin(), procedures.end(), procedure) != procedures.end();
}

const char* presetProcedureName(Procedure procedure) {
    switch (procedure) {
    case Procedure::Edit:
        return "edit";
    case Procedure::Generate:
        return "generate";
    case Procedure::NewImage:
        return "new-image";
    case Procedure::Expand:
        return "expand";
    }
    return "edit";
}

Result<std::vector<Preset>> presetsFromJson(const std::string& text) {
    auto document = json::parseObject(text);
    if (!document) {
        return refuse(textf(_("not valid: %s"), document.error().message.c_str()));
    }
    JsonObject* root = document->root();
    const GListPtr members(json_object_get_members(root));
    for (GList* m = members.get(); m != nullptr; m = m->next) {
        const std::string key = static_cast<const char*>(m->data);
        if (key != "comment" && key != "presets") {
            return refuse(
                textf(_("unknown top-level key \"%s\" (known: comment, presets)"), key.c_str()));
        }
        if (key == "comment" && !json::string(root, "comment")) {
            return refuse(_("the comment must be a string"));
        }
    }
    JsonArray* list = json::array(root, "presets");
    if (list == nullptr) {
        return refuse(_("no \"presets\" list"));
    }
    std::vector<Preset> presets;
    for (guint i = 0; i < json_array_get_length(list); ++i) {
        auto preset = readPreset(json_array_get_element(list, i), i);
        if (!preset) {
            return preset.error();
        }
        const bool repeated = std::any_of(presets.begin(), presets.end(),
                                          [&](const Preset& p) { return p.id == preset->id; });
        if (repeated) {
            return refuse(textf(_("the id \"%s\" is used twice"), preset->id.c_str()));
        }
        presets.push_back(std::move(*preset));
    }
    return presets;
}

Result<std::vector<Preset>> loadPresets(const std::string& path) {
    auto text = readDataFile(path, _("the presets"));
    if (!text) {
        return text.error();
    }
    return presetsFromJson(*text);
}

Result<std::vector<Preset>> loadDefaultPresets() {
    return loadPresets(dataFilePath("presets.json"));
}

} // namespace imagegen
