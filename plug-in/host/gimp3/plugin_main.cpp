// The GIMP 3 side of the plug-in's entry: a GimpPlugIn subclass that registers the four
// procedures from the core's tables (core/run/procedures.h: the same names, labels, menus, help
// and arguments as in GIMP 2.10) and runs them. The run itself is shared with 2.10
// (host/procedure_run.cpp); what differs is how GIMP 3 passes arguments (a GimpProcedureConfig,
// which also keeps the last values) and takes results (objects, not IDs).
#include "core/run/procedures.h"
#include "core/run/run_parameters.h"
#include "core/util/data_files.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/timings.h"
#include "host/gimp_host.h"
#include "host/gimp_process.h"
#include "host/procedure_run.h"

#include <json-glib/json-glib.h>
#include <libgimp/gimp.h>

#include <clocale>

#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace {

using imagegen::ProcedureSpec;
using imagegen::Result;
using imagegen::RunParameters;

void bindCatalogues() {
    // GIMP 3 would look for catalogues in locale/ beside the program, under the plug-in's folder
    // name as domain; a system install keeps them under the prefix, so the plug-in binds its own
    // domain wherever they are (data_files.cpp knows) and GIMP is told it translates nothing.
    bindtextdomain(GETTEXT_PACKAGE, imagegen::localeDirectory().c_str());
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
}

// A bound wide enough for whatever a caller passes: the core refuses what is out of range, with
// its own message naming the parameter, as it does for 2.10.
constexpr gint kIntBound = G_MAXINT;
constexpr gdouble kDoubleBound = G_MAXDOUBLE;

// The default a parameter has in 2.10's sense ("" and -1 mean the connection's or the model's
// default; the margins 0): what a RunParameters holds before anything is set.
template <typename T> T defaultOf(const imagegen::ParamField& field, T fallback) {
    static const RunParameters defaults;
    if (const auto* member = std::get_if<T RunParameters::*>(&field)) {
        return defaults.*(*member);
    }
    return fallback;
}

void addArguments(GimpProcedure* procedure, const ProcedureSpec& spec) {
    for (size_t i = spec.fixedParams(); i < spec.params.size(); ++i) {
        const imagegen::ParamSpec& p = spec.params[i];
        switch (p.type) {
        case imagegen::PdbType::Int32:
            gimp_procedure_add_int_argument(procedure, p.name, p.name, _(p.description), -kIntBound,
                                            kIntBound, defaultOf<int>(p.field, -1),
                                            G_PARAM_READWRITE);
            break;
        case imagegen::PdbType::Float:
            gimp_procedure_add_double_argument(procedure, p.name, p.name, _(p.description),
                                               -kDoubleBound, kDoubleBound,
                                               defaultOf<double>(p.field, -1.0), G_PARAM_READWRITE);
            break;
        default:
            gimp_procedure_add_string_argument(procedure, p.name, p.name, _(p.description), "",
                                               G_PARAM_READWRITE);
            break;
        }
    }
    for (const imagegen::ReturnSpec& r : spec.returns) {
        switch (r.type) {
        case imagegen::PdbType::Int32Array: // the layers made, as GIMP 3's objects
            gimp_procedure_add_core_object_array_return_value(
                procedure, r.name, r.name, _(r.description), GIMP_TYPE_LAYER, G_PARAM_READWRITE);
            break;
        case imagegen::PdbType::Image:
            gimp_procedure_add_image_return_value(procedure, r.name, r.name, _(r.description),
                                                  FALSE, G_PARAM_READWRITE);
            break;
        default:
            // n-layers: a GIMP 3 array carries its own length, as in GIMP's own procedures.
            break;
        }
    }
}

// The arguments after run-mode, image and drawables, as the table types them.
Result<RunParameters> parametersFromConfig(const ProcedureSpec& spec, GimpProcedureConfig* config) {
    std::vector<imagegen::ArgValue> args;
    for (size_t i = spec.fixedParams(); i < spec.params.size(); ++i) {
        const imagegen::ParamSpec& p = spec.params[i];
        switch (p.type) {
        case imagegen::PdbType::Int32: {
            gint v = 0;
            g_object_get(config, p.name, &v, nullptr);
            args.emplace_back(static_cast<int32_t>(v));
            break;
        }
        case imagegen::PdbType::Float: {
            gdouble v = 0;
            g_object_get(config, p.name, &v, nullptr);
            args.emplace_back(static_cast<double>(v));
            break;
        }
        default: {
            // A plain pointer: g_object_get's varargs take no C++ object.
            gchar* raw = nullptr;
            g_object_get(config, p.name, &raw, nullptr);
            const imagegen::GCharPtr v(raw);
            args.emplace_back(std::string(v ? v.get() : ""));
            break;
        }
        }
    }
    return imagegen::parametersFromArgs(spec, args);
}

// The parameters of the dialog's last Generate into the config, which GIMP saves after an
// interactive run and gives back to the next (the last values). They go through the table's
// JSON of last values, keyed by parameter name, as GIMP 3's config is.
void parametersToConfig(const ProcedureSpec& spec, const RunParameters& p,
                        GimpProcedureConfig* config) {
    const std::string json = imagegen::lastValuesToJson(spec, p);
    const imagegen::GRef<JsonParser> parser = imagegen::adoptRef(json_parser_new());
    if (json_parser_load_from_data(parser.get(), json.c_str(), static_cast<gssize>(json.size()),
                                   nullptr) == FALSE) {
        return;
    }
    JsonNode* root = json_parser_get_root(parser.get());
    if (root == nullptr || !JSON_NODE_HOLDS_OBJECT(root)) {
        return;
    }
    JsonObject* values = json_node_get_object(root);
    for (size_t i = spec.fixedParams(); i < spec.params.size(); ++i) {
        const imagegen::ParamSpec& param = spec.params[i];
        JsonNode* v = json_object_get_member(values, param.name);
        if (v == nullptr || !JSON_NODE_HOLDS_VALUE(v)) {
            continue;
        }
        switch (param.type) {
        case imagegen::PdbType::Int32:
            g_object_set(config, param.name, static_cast<gint>(json_node_get_int(v)), nullptr);
            break;
        case imagegen::PdbType::Float:
            g_object_set(config, param.name, json_node_get_double(v), nullptr);
            break;
        default:
            if (json_node_get_value_type(v) == G_TYPE_STRING) {
                g_object_set(config, param.name, json_node_get_string(v), nullptr);
            }
            break;
        }
    }
}

GimpValueArray* failure(GimpProcedure* procedure, GimpPDBStatusType status,
                        const std::string& message) {
    // GIMP takes the error and hands its message to the caller (and shows it for a menu call).
    return gimp_procedure_new_return_values(
        procedure, status, g_error_new_literal(GIMP_PLUG_IN_ERROR, 0, message.c_str()));
}

// Success: the layers made (edit, generate, expand) or the new image. A cancel is no error and
// returns nothing.
GimpValueArray* answer(GimpProcedure* procedure, const ProcedureSpec& spec,
                       const imagegen::Inserted& inserted, bool cancelled) {
    if (cancelled) {
        return gimp_procedure_new_return_values(procedure, GIMP_PDB_CANCEL, nullptr);
    }
    GimpValueArray* values = gimp_procedure_new_return_values(procedure, GIMP_PDB_SUCCESS, nullptr);
    if (spec.procedure == imagegen::Procedure::NewImage) {
        GIMP_VALUES_SET_IMAGE(values, 1, gimp_image_get_by_id(inserted.image));
        return values;
    }
    std::vector<GObject*> layers;
    for (const int id : inserted.layers) {
        if (GimpLayer* layer = gimp_layer_get_by_id(id); layer != nullptr) {
            layers.push_back(G_OBJECT(layer));
        }
    }
    layers.push_back(nullptr); // GIMP 3's object arrays end with NULL
    GIMP_VALUES_SET_CORE_OBJECT_ARRAY(values, 1, layers.data());
    return values;
}

// GIMP 3 passes every selected layer. The plug-in works on one, as the menu entries say
// (they are greyed out unless exactly one drawable is selected): a script that passes several
// is told to pass one, rather than have the first taken silently.
Result<int> theDrawable(const ProcedureSpec& spec, GimpDrawable** drawables) {
    size_t count = 0;
    while (drawables != nullptr && drawables[count] != nullptr) {
        ++count;
    }
    if (count > 1) {
        return imagegen::makeError(
            imagegen::ErrorKind::InvalidRequest,
            imagegen::textf(_("%s works on one layer, and %d are selected: select only the "
                              "layer to work on, then try again."),
                            spec.name, static_cast<int>(count)));
    }
    return count == 1 ? gimp_item_get_id(GIMP_ITEM(drawables[0])) : -1;
}

GimpValueArray* runChecked(GimpProcedure* procedure, const ProcedureSpec& spec, GimpRunMode mode,
                           GimpImage* image, GimpDrawable** drawables,
                           GimpProcedureConfig* config) {
    imagegen::PhaseTimer timings; // from the call to the dialog on screen
    // Numbers stay in the C locale whatever libgimp set up, so that none the plug-in writes or
    // parses changes with the user's language.
    std::setlocale(LC_NUMERIC, "C");
    imagegen::RunContext ctx;
    ctx.image = image != nullptr ? gimp_image_get_id(image) : -1;
    ctx.interactive = mode == GIMP_RUN_INTERACTIVE;
    ctx.executableDir = imagegen::programDirectory();
    imagegen::host::initialise(ctx.executableDir);
    if (spec.takesImage()) {
        auto drawable = theDrawable(spec, drawables);
        if (!drawable) {
            return failure(procedure, GIMP_PDB_CALLING_ERROR, drawable.error().message);
        }
        ctx.drawable = *drawable;
    }

    // All three run modes read the config: GIMP 3 fills it with the arguments, or with the last
    // values it kept (WITH-LAST-VALS, and INTERACTIVE's defaults).
    auto p = parametersFromConfig(spec, config);
    if (!p) {
        return failure(procedure, GIMP_PDB_CALLING_ERROR, p.error().message);
    }
    imagegen::host::GimpHost host(ctx.image, ctx.drawable, ctx.interactive);
    if (spec.takesImage()) {
        if (auto s = host.checkImage(); !s) {
            return failure(procedure, GIMP_PDB_EXECUTION_ERROR, s.error().message);
        }
    }
    if (ctx.interactive) {
        auto outcome = imagegen::runDialogInGimp(spec, *p, ctx, &timings);
        if (!outcome) {
            return failure(procedure, GIMP_PDB_EXECUTION_ERROR, outcome.error().message);
        }
        if (const std::optional<RunParameters>& last = outcome->lastRun; last) {
            parametersToConfig(spec, *last, config);
        }
        return answer(procedure, spec, outcome->inserted, !outcome->insertedAny);
    }
    auto inserted = imagegen::runInGimp(spec.procedure, *p, host);
    const bool cancelled = !inserted && inserted.error().kind == imagegen::ErrorKind::Cancelled;
    if (!inserted && !cancelled) {
        return failure(procedure, GIMP_PDB_EXECUTION_ERROR, inserted.error().message);
    }
    return answer(procedure, spec, cancelled ? imagegen::Inserted{} : *inserted, cancelled);
}

// No exception may cross into libgimp's C code.
GimpValueArray* runGuarded(GimpProcedure* procedure, GimpRunMode mode, GimpImage* image,
                           GimpDrawable** drawables, GimpProcedureConfig* config, gpointer data) {
    try {
        const auto* spec = static_cast<const ProcedureSpec*>(data);
        return runChecked(procedure, *spec, mode, image, drawables, config);
    } catch (const std::exception& e) {
        return failure(procedure, GIMP_PDB_EXECUTION_ERROR,
                       imagegen::textf(_("internal error: %s"), e.what()));
    }
}

GimpValueArray* runImage(GimpProcedure* procedure, GimpRunMode mode, GimpImage* image,
                         GimpDrawable** drawables, GimpProcedureConfig* config, gpointer data) {
    return runGuarded(procedure, mode, image, drawables, config, data);
}

// New image: no image, no drawables; its run mode is an argument like the others.
GimpValueArray* runPlain(GimpProcedure* procedure, GimpProcedureConfig* config, gpointer data) {
    GimpRunMode mode = GIMP_RUN_NONINTERACTIVE;
    g_object_get(config, "run-mode", &mode, nullptr);
    return runGuarded(procedure, mode, nullptr, nullptr, config, data);
}

GimpProcedure* createProcedure(GimpPlugIn* plugIn, const gchar* name) {
    const ProcedureSpec* spec = imagegen::findProcedure(name);
    if (spec == nullptr) {
        return nullptr;
    }
    // The tables live for the whole process: the run data needs no destroy.
    auto* data = const_cast<ProcedureSpec*>(spec);
    GimpProcedure* procedure = nullptr;
    if (spec->takesImage()) {
        procedure = gimp_image_procedure_new(plugIn, name, GIMP_PDB_PROC_TYPE_PLUGIN, runImage,
                                             data, nullptr);
        gimp_procedure_set_image_types(procedure, spec->imageTypes);
        gimp_procedure_set_sensitivity_mask(procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
    } else {
        procedure =
            gimp_procedure_new(plugIn, name, GIMP_PDB_PROC_TYPE_PLUGIN, runPlain, data, nullptr);
        // The table's run-mode row, its description as 2.10 registers it.
        gimp_procedure_add_enum_argument(procedure, "run-mode", "run-mode",
                                         _(spec->params[0].description), GIMP_TYPE_RUN_MODE,
                                         GIMP_RUN_INTERACTIVE, G_PARAM_READWRITE);
        gimp_procedure_set_sensitivity_mask(procedure, GIMP_PROCEDURE_SENSITIVE_ALWAYS);
    }
    gimp_procedure_set_menu_label(procedure, _(spec->menuLabel));
    gimp_procedure_add_menu_path(procedure, imagegen::menuPath3(*spec).c_str());
    gimp_procedure_set_documentation(procedure, _(spec->blurb), _(spec->help), name);
    gimp_procedure_set_attribution(procedure, "Imagegen for GIMP developers", "GPL-3.0-or-later",
                                   "2026");
    // The menu entries' icon, from the data folder, only where it was installed (GIMP would
    // warn at each start about a file that is not there).
    const std::string icon = imagegen::dataFilePath("imagegen.svg");
    if (g_file_test(icon.c_str(), G_FILE_TEST_IS_REGULAR) != FALSE) {
        const imagegen::GRef<GFile> file = imagegen::adoptRef(g_file_new_for_path(icon.c_str()));
        gimp_procedure_set_icon_file(procedure, file.get());
    }
    addArguments(procedure, *spec);
    return procedure;
}

GList* queryProcedures(GimpPlugIn* /*plugIn*/) {
    GList* names = nullptr;
    for (const ProcedureSpec& spec : imagegen::procedureSpecs()) {
        names = g_list_append(names, g_strdup(spec.name));
    }
    return names;
}

gboolean setI18n(GimpPlugIn* /*plugIn*/, const gchar* /*procedure*/, gchar** /*domain*/,
                 gchar** /*catalogDir*/) {
    bindCatalogues();
    return FALSE;
}

// C entry points: nothing may throw out of them, and what they call does not.
GimpProcedure* createProcedureGuarded(GimpPlugIn* plugIn, const gchar* name) noexcept {
    try {
        return createProcedure(plugIn, name);
    } catch (const std::exception& e) {
        g_warning("imagegen: %s", e.what());
        return nullptr;
    }
}

} // namespace

// The GObject type of the plug-in (GimpPlugIn's subclass, as GIMP 3 wants it).
G_BEGIN_DECLS
#define IMAGEGEN_TYPE_PLUG_IN (imagegen_plug_in_get_type())
G_DECLARE_FINAL_TYPE(ImagegenPlugIn, imagegen_plug_in, IMAGEGEN, PLUG_IN, GimpPlugIn)
G_END_DECLS

struct _ImagegenPlugIn {
    GimpPlugIn parent_instance;
};

G_DEFINE_TYPE(ImagegenPlugIn, imagegen_plug_in, GIMP_TYPE_PLUG_IN)

static void imagegen_plug_in_class_init(ImagegenPlugInClass* klass) {
    GimpPlugInClass* plugInClass = GIMP_PLUG_IN_CLASS(klass);
    plugInClass->query_procedures = queryProcedures;
    plugInClass->create_procedure = createProcedureGuarded;
    plugInClass->set_i18n = setI18n;
}

static void imagegen_plug_in_init(ImagegenPlugIn* /*self*/) {}

// What GIMP_MAIN does, after the plug-in's catalogues are bound: every message, from the query
// on, is translated. The user's locale as GIMP's own plug-ins take it, except numbers.
int main(int argc, char* argv[]) {
    std::setlocale(LC_ALL, "");
    std::setlocale(LC_NUMERIC, "C");
    bindCatalogues();
    return gimp_main(IMAGEGEN_TYPE_PLUG_IN, argc, argv);
}
