// Presets: a prompt and the settings that suit it, for the jobs people come to the plug-in for
// (remove an object, replace a sky, …). They are data (data/presets.json), not code, so that
// adding one needs no build.
#pragma once

#include "core/run/run_parameters.h"
#include "core/util/error.h"

#include <optional>
#include <string>
#include <vector>

namespace imagegen {

struct Preset {
    std::string id;    // "remove-object"
    std::string title; // English, shown in the dialog ("Remove the selected object")
    std::string prompt;
    std::vector<Procedure> procedures; // where it applies; empty = all
    // Fields it sets; empty / -1 = leave as the user has them (same meaning as RunParameters).
    std::string size, quality, background, inputFidelity;
    int n = -1;
    double context = -1, feather = -1;

    [[nodiscard]] bool appliesTo(Procedure procedure) const;
};

struct ModelCaps;

// Why `caps`'s model cannot do what the preset sets (a transparent background under dall-e-3, a
// quality or size it does not offer), in a few words for the dialog; nothing when it can.
std::optional<std::string> presetUnfitFor(const Preset& preset, const ModelCaps& caps);

// The procedure names presets.json uses: "edit", "generate", "new-image".
const char* presetProcedureName(Procedure procedure);

// {"presets": [{…}, …]}, with an optional top-level "comment". Unknown keys, values of the wrong
// type, a preset without id, title or prompt and a repeated id are refused, the error naming the
// preset and the key.
Result<std::vector<Preset>> presetsFromJson(const std::string& json);
Result<std::vector<Preset>> loadPresets(const std::string& path);
// data/presets.json in the data folder (dataFilePath, as the model table is found).
Result<std::vector<Preset>> loadDefaultPresets();

} // namespace imagegen
