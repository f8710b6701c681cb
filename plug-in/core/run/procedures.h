// The public procedures, one table each: name, menu, blurb, help, and each parameter's type,
// name, description and the field of RunParameters it fills. query() registers from the table,
// run() reads arguments by it and the last values are saved by it, so the three cannot drift
// apart by position. Parameters may only be appended (Script-Fu calls them by position).
#pragma once

#include "core/run/run_parameters.h"
#include "core/util/error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace imagegen {

enum class PdbType { Int32, Float, String, Image, Drawable, Int32Array };

// The field a parameter fills; none for run-mode, image and drawable. `options` fills the typed
// options from its JSON text, and background and input fidelity fill a field of those options, so
// that each field has one place whichever way it came.
using ParamField =
    std::variant<std::monostate, std::string RunParameters::*, int RunParameters::*,
                 double RunParameters::*, Options RunParameters::*, std::string Options::*>;

struct ParamSpec {
    PdbType type;
    const char* name;
    const char* description;
    ParamField field;
};

struct ReturnSpec {
    PdbType type;
    const char* name;
    const char* description;
};

struct ProcedureSpec {
    Procedure procedure;
    const char* name;
    const char* blurb; // marked for translation
    const char* help;
    const char* menuLabel; // marked for translation
    const char* menuPath;
    const char* imageTypes; // nullptr: the procedure needs no image
    std::vector<ParamSpec> params;
    std::vector<ReturnSpec> returns;

    [[nodiscard]] bool takesImage() const { return imageTypes != nullptr; }
    // run-mode, and image and drawable where the procedure takes them: what a menu call passes.
    [[nodiscard]] size_t fixedParams() const { return takesImage() ? 3 : 1; }
};

const std::vector<ProcedureSpec>& procedureSpecs();

// The submenu of Filters the menu entries go in. A menu path alone makes a submenu without a
// mnemonic; the branch gives it one. Both parts untranslated: GIMP translates them with the
// plug-in's catalogue.
struct MenuBranch {
    const char* parentPath;
    const char* label;
};
const MenuBranch& generativeMenu();
// The same submenu in GIMP 3, whose Filters menu is not 2.10's (De_velopment takes V there).
const MenuBranch& generativeMenu3();
// The word a menu label shows, without its mnemonic: "Generative" for "Generati_ve", "生成AI" for
// "生成AI(_V)" (the Japanese style), as GIMP compares a branch with a menu path.
std::string menuWord(std::string_view label);
// GIMP 3's label of the branch, translated: its own where the catalogue translates it, else
// 2.10's, whichever names the submenu the translated menu path makes; none when neither does,
// since a branch of another name would make a second, empty submenu beside the entries.
std::optional<std::string> generativeMenu3Label();
// The translated menu path GIMP 3 is given, with the Generative submenu's mnemonic in it: GIMP 3
// takes a submenu's label from the menu paths that name it, mnemonic included (its menu model
// compares paths without mnemonics), and a branch (gimp_plug_in_add_menu_branch), given at query
// or at each start, changed nothing there (tests/gui3 open).
std::string menuPath3(const ProcedureSpec& spec);
const ProcedureSpec* findProcedure(std::string_view name);
const ProcedureSpec& specOf(Procedure procedure);

// One argument after the fixed ones, as the caller passed it.
using ArgValue = std::variant<int32_t, double, std::string>;

// The parameters after the fixed ones, in the table's order; an argument of the wrong type or
// count is refused, and so are options that parseOptions refuses, or that give background or input
// fidelity otherwise than their own parameter does.
Result<RunParameters> parametersFromArgs(const ProcedureSpec& spec,
                                         const std::vector<ArgValue>& args);

// Last values: versioned JSON keyed by parameter name, so that an older or foreign blob is
// ignored instead of misread. A number that is not finite is refused on both sides. The options
// are kept as the text Script-Fu would pass, without the fields that have a parameter of their
// own; saved options that no longer parse read as none.
std::string lastValuesToJson(const ProcedureSpec& spec, const RunParameters& p);
Result<RunParameters> lastValuesFromJson(const ProcedureSpec& spec, const std::string& json);

// The most the last values may take: the plug-in reads back no more than this from GIMP
// (host::loadLastValues), and lastValuesFromJson drops a text parameter past its own bound.
inline constexpr size_t kMaxLastValuesBytes = size_t{1} << 20;

// Refuses, before anything is read or sent, parameters the last values could not keep: a text
// parameter past its bound (the prompt 128,000 bytes, the options 1 MB, any other 4096 bytes),
// or all of them together past kMaxLastValuesBytes. Otherwise a run would succeed and its last
// values be dropped without a word.
Status checkParameterSizes(const ProcedureSpec& spec, const RunParameters& p);

} // namespace imagegen
