// The GIMP side of the plug-in's entry: the procedures' registration (query) and the choice of
// procedure and run mode (run), both driven by the core's procedure tables. The work itself is
// in procedure_run.cpp.
#include "core/run/procedures.h"
#include "core/run/run_parameters.h"
#include "core/util/data_files.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/timings.h"
#include "host/gimp_host.h"
#include "host/gimp_process.h"
#include "host/procedure_run.h"

#include <libgimp/gimp.h>

#include <clocale>

#include <exception>
#include <string>
#include <vector>

namespace {

using imagegen::ProcedureSpec;
using imagegen::Result;
using imagegen::RunParameters;

// In the order of imagegen::PdbType.
constexpr GimpPDBArgType kPdbTypes[] = {GIMP_PDB_INT32, GIMP_PDB_FLOAT,    GIMP_PDB_STRING,
                                        GIMP_PDB_IMAGE, GIMP_PDB_DRAWABLE, GIMP_PDB_INT32ARRAY};

// GimpParamDef's fields are gchar*, not const; GIMP copies them during the call.
// The descriptions are translated here, in the language GIMP runs in when it queries the
// plug-in: GIMP keeps them (and the help text) in pluginrc as they were given, while it
// translates the menu label, the menu path and the blurb itself whenever it shows them.
template <typename Spec> std::vector<GimpParamDef> paramDefs(const std::vector<Spec>& specs) {
    std::vector<GimpParamDef> defs;
    defs.reserve(specs.size());
    for (const Spec& s : specs) {
        defs.push_back({kPdbTypes[static_cast<size_t>(s.type)], const_cast<gchar*>(s.name),
                        const_cast<gchar*>(_(s.description))});
    }
    return defs;
}

// GIMP translates the menu labels, the menu path and the blurbs through the domain registered
// here, with the catalogues in the folder given; it keeps both in pluginrc until the plug-in
// changes, so the folder is the one the catalogues are in when GIMP first queries the plug-in.
// GIMP 2.10 keeps no menu branch between its starts (pluginrc has none), so the branch is given
// at each start, in the init that GIMP calls then.
void init() {
    const imagegen::MenuBranch& menu = imagegen::generativeMenu();
    gimp_plugin_menu_branch_register(menu.parentPath, menu.label);
}

void query() {
    gimp_plugin_domain_register(GETTEXT_PACKAGE, imagegen::localeDirectory().c_str());
    // The menu entries' icon, from the data folder. GIMP loads it from this path whenever it
    // starts, so it is registered only where it was installed (GIMP would warn at each start).
    const std::string icon = imagegen::dataFilePath("imagegen.svg");
    const bool withIcon = g_file_test(icon.c_str(), G_FILE_TEST_IS_REGULAR) != FALSE;
    for (const ProcedureSpec& spec : imagegen::procedureSpecs()) {
        const std::vector<GimpParamDef> params = paramDefs(spec.params);
        const std::vector<GimpParamDef> returns = paramDefs(spec.returns);
        gimp_install_procedure(spec.name, spec.blurb, _(spec.help), "Imagegen for GIMP developers",
                               "GPL-3.0-or-later", "2026", spec.menuLabel, spec.imageTypes,
                               GIMP_PLUGIN, static_cast<gint>(params.size()),
                               static_cast<gint>(returns.size()), params.data(), returns.data());
        gimp_plugin_menu_register(spec.name, spec.menuPath);
        if (withIcon) {
            gimp_plugin_icon_register(spec.name, GIMP_ICON_TYPE_IMAGE_FILE,
                                      reinterpret_cast<const guint8*>(icon.c_str()));
        }
    }
}

// The arguments after the fixed ones, as the table types them.
Result<RunParameters> parametersFromGimp(const ProcedureSpec& spec, const GimpParam* params) {
    std::vector<imagegen::ArgValue> args;
    for (size_t i = spec.fixedParams(); i < spec.params.size(); ++i) {
        const GimpParam& p = params[i];
        switch (spec.params[i].type) {
        case imagegen::PdbType::Int32:
            args.emplace_back(static_cast<int32_t>(p.data.d_int32));
            break;
        case imagegen::PdbType::Float:
            args.emplace_back(static_cast<double>(p.data.d_float));
            break;
        default:
            args.emplace_back(std::string(p.data.d_string != nullptr ? p.data.d_string : ""));
            break;
        }
    }
    return imagegen::parametersFromArgs(spec, args);
}

// The saved last values; an interactive call without them opens the dialog with the defaults,
// and RUN-WITH-LAST-VALS refuses.
Result<RunParameters> lastValues(const ProcedureSpec& spec, bool interactive) {
    auto saved = imagegen::host::loadLastValues(spec.name);
    std::string reset;
    if (saved) {
        auto parsed = imagegen::lastValuesFromJson(spec, *saved);
        if (parsed) {
            return parsed;
        }
        // Unreadable (written by another version, or broken): dropped, so the next run saves
        // good ones.
        imagegen::host::saveLastValues(spec.name, "");
        reset = std::string(" ") + _("(The saved last values could not be read and were reset.)");
    }
    if (interactive) {
        return RunParameters{};
    }
    const imagegen::GCharPtr text(
        g_strdup_printf(_("There is no earlier run of %s to repeat: run it once from its menu "
                          "entry (or with its parameters from Script-Fu) first."),
                        spec.name));
    return imagegen::makeError(imagegen::ErrorKind::InvalidRequest, text.get() + reset);
}

// What run() hands back. Static storage: libgimp reads it after run() returns.
class Answer {
  public:
    Answer(gint* nreturn, GimpParam** returns) : nreturn_(nreturn) {
        *returns = values_;
        *nreturn = 1;
        values_[0].type = GIMP_PDB_STATUS;
        values_[0].data.d_status = GIMP_PDB_EXECUTION_ERROR;
    }

    // An error goes back as [status, message, 0]. GIMP 2.10 pads a shorter answer with the
    // declared return values, and a padded INT32ARRAY would then take its length from the
    // message's pointer; a plain INT32 in third place keeps the message without an array after
    // it.
    void fail(GimpPDBStatusType status, const std::string& message) {
        text_ = message;
        values_[0].data.d_status = status;
        values_[1].type = GIMP_PDB_STRING;
        values_[1].data.d_string = const_cast<gchar*>(text_.c_str());
        values_[2].type = GIMP_PDB_INT32;
        values_[2].data.d_int32 = 0;
        *nreturn_ = 3;
    }

    // A cancel is no error: Script-Fu hands the values back as they are, so they are the
    // declared ones, with no layers (or no image).
    void succeed(imagegen::Procedure procedure, const imagegen::Inserted& inserted,
                 bool cancelled) {
        values_[0].data.d_status = cancelled ? GIMP_PDB_CANCEL : GIMP_PDB_SUCCESS;
        if (procedure == imagegen::Procedure::NewImage) {
            values_[1].type = GIMP_PDB_IMAGE;
            values_[1].data.d_image = inserted.image;
            *nreturn_ = 2;
            return;
        }
        layers_.assign(inserted.layers.begin(), inserted.layers.end());
        values_[1].type = GIMP_PDB_INT32;
        values_[1].data.d_int32 = static_cast<gint32>(layers_.size());
        values_[2].type = GIMP_PDB_INT32ARRAY;
        values_[2].data.d_int32array = layers_.data();
        *nreturn_ = 3;
    }

  private:
    static inline GimpParam values_[3];
    static inline std::string text_;
    static inline std::vector<gint32> layers_;
    gint* nreturn_;
};

// The parameters by run mode: the arguments, or the last values.
Result<RunParameters> parametersFor(const ProcedureSpec& spec, GimpRunMode mode, gint nparams,
                                    const GimpParam* params) {
    if (mode != GIMP_RUN_NONINTERACTIVE) {
        return lastValues(spec, mode == GIMP_RUN_INTERACTIVE);
    }
    if (nparams != static_cast<gint>(spec.params.size())) {
        return imagegen::makeError(imagegen::ErrorKind::InvalidRequest,
                                   imagegen::textf(_("%s takes %d parameters, not %d"), spec.name,
                                                   static_cast<int>(spec.params.size()),
                                                   static_cast<int>(nparams)));
    }
    return parametersFromGimp(spec, params);
}

// The dialog: it inserts what the user chooses, one undo step per Insert. Closing it without
// inserting anything is a cancel.
void runInteractive(const ProcedureSpec& spec, const RunParameters& initial,
                    const imagegen::RunContext& ctx, imagegen::PhaseTimer& timings,
                    Answer& answer) {
    auto outcome = imagegen::runDialogInGimp(spec, initial, ctx, &timings);
    if (!outcome) {
        answer.fail(GIMP_PDB_EXECUTION_ERROR, outcome.error().message);
        return;
    }
    if (outcome->lastRun) {
        imagegen::host::saveLastValues(spec.name,
                                       imagegen::lastValuesToJson(spec, *outcome->lastRun));
    }
    answer.succeed(spec.procedure, outcome->inserted, !outcome->insertedAny);
}

// An error goes back to the caller only: for a call from a menu, GIMP shows the returned
// message itself, so it is said once.
void runChecked(const ProcedureSpec& spec, gint nparams, const GimpParam* params, Answer& answer) {
    imagegen::PhaseTimer timings; // from the call to the dialog on screen
    const auto mode = static_cast<GimpRunMode>(params[0].data.d_int32);
    imagegen::RunContext ctx;
    ctx.image = spec.takesImage() ? params[1].data.d_image : -1;
    ctx.drawable = spec.takesImage() ? params[2].data.d_drawable : -1;
    ctx.interactive = mode == GIMP_RUN_INTERACTIVE;
    ctx.executableDir = imagegen::programDirectory();
    imagegen::host::initialise(ctx.executableDir);

    auto p = parametersFor(spec, mode, nparams, params);
    if (!p) {
        answer.fail(GIMP_PDB_CALLING_ERROR, p.error().message);
        return;
    }
    // The one host of a call (the dialog makes its own for each Generate and Insert, reading
    // the active layer and the selection as they are then).
    imagegen::host::GimpHost host(ctx.image, ctx.drawable, ctx.interactive);
    if (spec.takesImage()) {
        if (auto s = host.checkImage(); !s) {
            answer.fail(GIMP_PDB_EXECUTION_ERROR, s.error().message);
            return;
        }
    }
    if (ctx.interactive) {
        runInteractive(spec, *p, ctx, timings, answer);
        return;
    }
    auto inserted = imagegen::runInGimp(spec.procedure, *p, host);
    const bool cancelled = !inserted && inserted.error().kind == imagegen::ErrorKind::Cancelled;
    if (!inserted && !cancelled) {
        answer.fail(GIMP_PDB_EXECUTION_ERROR, inserted.error().message);
        return;
    }
    if (!cancelled) {
        imagegen::host::saveLastValues(spec.name, imagegen::lastValuesToJson(spec, *p));
    }
    answer.succeed(spec.procedure, cancelled ? imagegen::Inserted{} : *inserted, cancelled);
}

void run(const gchar* name, gint nparams, const GimpParam* params, gint* nreturn,
         GimpParam** returns) {
    Answer answer(nreturn, returns);
    // No exception may cross into libgimp's C code.
    try {
        const ProcedureSpec* spec = imagegen::findProcedure(name);
        if (spec == nullptr) {
            answer.fail(GIMP_PDB_CALLING_ERROR, imagegen::textf(_("unknown procedure %s"), name));
            return;
        }
        runChecked(*spec, nparams, params, answer);
    } catch (const std::exception& e) {
        answer.fail(GIMP_PDB_EXECUTION_ERROR, imagegen::textf(_("internal error: %s"), e.what()));
    }
}

} // namespace

const GimpPlugInInfo PLUG_IN_INFO = {init, nullptr, query, run};

// What libgimp's MAIN() does, after the plug-in's catalogues are bound: every message, from
// query() on, is translated. The user's locale as GIMP's own plug-ins take it, except numbers,
// which stay in the C locale so that no number the plug-in writes or parses changes with it.
int main(int argc, char* argv[]) {
    std::setlocale(LC_ALL, "");
    std::setlocale(LC_NUMERIC, "C");
    bindtextdomain(GETTEXT_PACKAGE, imagegen::localeDirectory().c_str());
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    return gimp_main(&PLUG_IN_INFO, argc, argv);
}
