// The GIMP side of the plug-in's entry: the three procedures' registration (query) and the
// choice of procedure and run mode (run). The work itself is in procedure_run.cpp.
#include "core/glib_ptr.h"
#include "core/run_parameters.h"
#include "host/gimp_host.h"
#include "procedure_run.h"

#include <glib/gi18n-lib.h>
#include <libgimp/gimp.h>

#include <exception>
#include <string>

namespace {

constexpr const char* kEditProc = "plug-in-imagegen-edit";
constexpr const char* kGenerateProc = "plug-in-imagegen-generate";
constexpr const char* kNewImageProc = "plug-in-imagegen-new-image";

// GimpParamDef's fields are gchar*, not const.
GimpParamDef param(GimpPDBArgType type, const char* name, const char* description) {
    return {type, const_cast<gchar*>(name), const_cast<gchar*>(description)};
}

const char* kPromptHelp =
    "What to draw, in words (required; at most 32000 characters for GPT image models, "
    "4000 for dall-e-3)";
const char* kModelHelp =
    "Model name (gpt-image-1, gpt-image-1-mini, gpt-image-1.5, gpt-image-2, dall-e-3, "
    "dall-e-2) or Azure deployment name; \"\" for the connection's default";
const char* kNHelp = "Number of results, 1 to 10; -1 for 1";
const char* kSizeHelp =
    "API image size such as 1536x1024, or \"auto\"; \"\" to choose the size nearest the "
    "region's shape";
const char* kQualityHelp =
    "low, medium, high or auto (GPT image models); standard or hd (dall-e-3); \"\" for the "
    "model's default";
const char* kConnectionHelp = "Name of a saved connection; \"\" for the saved default, or else the "
                              "AZURE_OPENAI_* / OPENAI_* environment variables";
const char* kOptionsHelp =
    "JSON object of further fields, e.g. {\"background\":\"opaque\",\"output_format\":\"png\","
    "\"stream\":true,\"partial_images\":2,\"references\":[12,14]} (references: layer IDs sent "
    "as extra input images); \"\" for none";

void query() {
    gimp_plugin_domain_register(GETTEXT_PACKAGE, LOCALEDIR);
    static const GimpParamDef editArgs[] = {
        param(
            GIMP_PDB_INT32, "run-mode",
            "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }"),
        param(GIMP_PDB_IMAGE, "image", "Input image"),
        param(GIMP_PDB_DRAWABLE, "drawable",
              "The layer to edit (it is never changed: results are new layers)"),
        param(GIMP_PDB_STRING, "prompt", kPromptHelp),
        param(GIMP_PDB_STRING, "model", kModelHelp),
        param(GIMP_PDB_INT32, "n-images", kNHelp),
        param(GIMP_PDB_STRING, "size", kSizeHelp),
        param(GIMP_PDB_STRING, "quality", kQualityHelp),
        param(GIMP_PDB_STRING, "input-fidelity",
              "high or low (gpt-image-1, -1.5, -2); \"\" for the default"),
        param(GIMP_PDB_FLOAT, "context",
              "Padding around the selection sent with it, as a fraction of the selection's "
              "larger side; -1 for 0.15"),
        param(GIMP_PDB_FLOAT, "feather",
              "Width in pixels of the soft inner edge of each result's layer mask; -1 for 0"),
        param(GIMP_PDB_STRING, "connection", kConnectionHelp),
        param(GIMP_PDB_STRING, "options", kOptionsHelp),
    };
    static const GimpParamDef generateArgs[] = {
        param(
            GIMP_PDB_INT32, "run-mode",
            "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }"),
        param(GIMP_PDB_IMAGE, "image", "Input image"),
        param(GIMP_PDB_DRAWABLE, "drawable", "The layer above which the results go"),
        param(GIMP_PDB_STRING, "prompt", kPromptHelp),
        param(GIMP_PDB_STRING, "model", kModelHelp),
        param(GIMP_PDB_INT32, "n-images", kNHelp),
        param(GIMP_PDB_STRING, "size", kSizeHelp),
        param(GIMP_PDB_STRING, "quality", kQualityHelp),
        param(GIMP_PDB_STRING, "style", "vivid or natural (dall-e-3); \"\" for the default"),
        param(GIMP_PDB_STRING, "background",
              "transparent, opaque or auto (GPT image models); \"\" for the default"),
        param(GIMP_PDB_STRING, "connection", kConnectionHelp),
        param(GIMP_PDB_STRING, "options", kOptionsHelp),
    };
    static const GimpParamDef newImageArgs[] = {
        param(
            GIMP_PDB_INT32, "run-mode",
            "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }"),
        param(GIMP_PDB_STRING, "prompt", kPromptHelp),
        param(GIMP_PDB_STRING, "model", kModelHelp),
        param(GIMP_PDB_INT32, "n-images", kNHelp),
        param(GIMP_PDB_STRING, "size",
              "API image size such as 1536x1024; \"\" for the model's default"),
        param(GIMP_PDB_STRING, "quality", kQualityHelp),
        param(GIMP_PDB_STRING, "style", "vivid or natural (dall-e-3); \"\" for the default"),
        param(GIMP_PDB_STRING, "background",
              "transparent, opaque or auto (GPT image models); \"\" for the default"),
        param(GIMP_PDB_STRING, "connection", kConnectionHelp),
        param(GIMP_PDB_STRING, "options", kOptionsHelp),
    };
    static const GimpParamDef layerReturns[] = {
        param(GIMP_PDB_INT32, "n-layers", "Number of layers made"),
        param(GIMP_PDB_INT32ARRAY, "layers", "The layers made, first the one shown"),
    };
    static const GimpParamDef imageReturns[] = {
        param(GIMP_PDB_IMAGE, "image", "The new image"),
    };
    const char* author = "Imagegen for GIMP developers";
    const char* copyright = "GPL-3.0-or-later";
    const char* date = "2026";

    gimp_install_procedure(
        kEditProc, N_("Repaint the selection from a text prompt with an AI image model"),
        "Sends the selected part of the layer (with some context around it) and a mask of the "
        "selection to an "
        "OpenAI or Azure OpenAI image model, and adds each result as a new layer over the "
        "selection, with a "
        "layer mask so that nothing outside the selection changes. Without a selection the whole "
        "layer is "
        "repainted. Transparent pixels inside the region count as part of the area to paint, so "
        "enlarging the "
        "canvas and selecting the new border extends the picture. The source layer is never "
        "written to; all "
        "of it is one undo step.",
        author, copyright, date, N_("_Edit Selection…"), "RGB*, GRAY*", GIMP_PLUGIN,
        G_N_ELEMENTS(editArgs), G_N_ELEMENTS(layerReturns), editArgs, layerReturns);
    gimp_plugin_menu_register(kEditProc, "<Image>/Filters/Generative");

    gimp_install_procedure(
        kGenerateProc, N_("Generate new layers from a text prompt with an AI image model"),
        "Generates images from a prompt and adds them as new layers covering the selection's "
        "bounds (or the "
        "whole canvas), scaled to cover and centred, masked by the selection when there is one.",
        author, copyright, date, N_("_Generate Layer…"), "RGB*, GRAY*", GIMP_PLUGIN,
        G_N_ELEMENTS(generateArgs), G_N_ELEMENTS(layerReturns), generateArgs, layerReturns);
    gimp_plugin_menu_register(kGenerateProc, "<Image>/Filters/Generative");

    gimp_install_procedure(
        kNewImageProc, N_("Create a new image from a text prompt with an AI image model"),
        "Generates images from a prompt and opens them as a new image, one layer per result.",
        author, copyright, date, N_("_Generate Image…"), nullptr, GIMP_PLUGIN,
        G_N_ELEMENTS(newImageArgs), G_N_ELEMENTS(imageReturns), newImageArgs, imageReturns);
    gimp_plugin_menu_register(kNewImageProc, "<Image>/File/Create");
}

std::string str(const GimpParam& p) {
    return p.data.d_string != nullptr ? p.data.d_string : "";
}

// The parameters after run-mode (and image, drawable), in each procedure's order.
imagegen::RunParameters fromArgs(imagegen::Procedure proc, const GimpParam* a) {
    imagegen::RunParameters p;
    p.prompt = str(a[0]);
    p.model = str(a[1]);
    p.n = a[2].data.d_int32;
    p.size = str(a[3]);
    p.quality = str(a[4]);
    if (proc == imagegen::Procedure::Edit) {
        p.inputFidelity = str(a[5]);
        p.context = a[6].data.d_float;
        p.feather = a[7].data.d_float;
        p.connection = str(a[8]);
        p.options = str(a[9]);
    } else {
        p.style = str(a[5]);
        p.background = str(a[6]);
        p.connection = str(a[7]);
        p.options = str(a[8]);
    }
    return p;
}

std::string executableDir() {
    imagegen::GCharPtr exe(g_file_read_link("/proc/self/exe", nullptr));
    if (!exe) {
        return {};
    }
    imagegen::GCharPtr dir(g_path_get_dirname(exe.get()));
    return dir.get();
}

void run(const gchar* name, gint nparams, const GimpParam* params, gint* nreturn,
         GimpParam** returns) {
    // Static: libgimp reads them after run() returns.
    static GimpParam values[3];
    static std::string errorText;
    static std::vector<gint32> layerIds;
    *returns = values;
    *nreturn = 1;
    values[0].type = GIMP_PDB_STATUS;
    values[0].data.d_status = GIMP_PDB_EXECUTION_ERROR;

    // An error goes back as [status, message, 0]. GIMP 2.10 pads a shorter answer with the declared
    // return values, and the padded INT32ARRAY would then take its length from the message's
    // pointer; a plain INT32 in third place keeps the message without any array after it.
    auto failWith = [&](GimpPDBStatusType status, const std::string& message) {
        errorText = message;
        values[0].data.d_status = status;
        values[1].type = GIMP_PDB_STRING;
        values[1].data.d_string = const_cast<gchar*>(errorText.c_str());
        values[2].type = GIMP_PDB_INT32;
        values[2].data.d_int32 = 0;
        *nreturn = 3;
    };

    try {
        const std::string proc = name;
        const auto procedure = proc == kEditProc       ? imagegen::Procedure::Edit
                               : proc == kGenerateProc ? imagegen::Procedure::Generate
                                                       : imagegen::Procedure::NewImage;
        const bool takesImage = procedure != imagegen::Procedure::NewImage;
        const int fixed = takesImage ? 3 : 1;
        const int expected = fixed + (procedure == imagegen::Procedure::Edit ? 10 : 9);
        const auto mode = static_cast<GimpRunMode>(params[0].data.d_int32);

        imagegen::RunContext ctx;
        ctx.image = takesImage ? params[1].data.d_image : -1;
        ctx.drawable = takesImage ? params[2].data.d_drawable : -1;
        ctx.interactive = mode == GIMP_RUN_INTERACTIVE;
        ctx.executableDir = executableDir();
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
        imagegen::host::initialise(ctx.executableDir);

        imagegen::RunParameters p;
        if (mode == GIMP_RUN_NONINTERACTIVE) {
            if (nparams != expected) {
                failWith(GIMP_PDB_CALLING_ERROR, proc + " takes " + std::to_string(expected) +
                                                     " parameters, not " + std::to_string(nparams));
                return;
            }
            p = fromArgs(procedure, params + fixed);
        } else {
            // Until the dialog exists, an interactive call repeats the last values, as
            // RUN-WITH-LAST-VALS does.
            auto saved = imagegen::host::loadLastValues(name);
            auto parsed = saved ? imagegen::lastValuesFromJson(*saved)
                                : imagegen::Result<imagegen::RunParameters>(
                                      imagegen::makeError(imagegen::ErrorKind::InvalidRequest, ""));
            if (!parsed) {
                imagegen::GCharPtr text(g_strdup_printf(
                    _("There is no earlier run of %s to repeat: run it once with its parameters "
                      "(from Script-Fu or the Procedure Browser) first."),
                    proc.c_str()));
                failWith(GIMP_PDB_CALLING_ERROR, text.get());
                if (ctx.interactive) {
                    imagegen::host::message(errorText);
                }
                return;
            }
            p = *parsed;
        }
        if (takesImage) {
            if (auto s = imagegen::host::checkImage(ctx.image); !s) {
                failWith(GIMP_PDB_EXECUTION_ERROR, s.error().message);
                if (ctx.interactive) {
                    imagegen::host::message(errorText);
                }
                return;
            }
        }

        imagegen::RunOutcome outcome = imagegen::runProcedure(procedure, p, ctx);
        const bool cancelled =
            !outcome.status && outcome.status.error().kind == imagegen::ErrorKind::Cancelled;
        if (!outcome.status && !cancelled) {
            failWith(GIMP_PDB_EXECUTION_ERROR, outcome.status.error().message);
            if (ctx.interactive) {
                imagegen::host::message(errorText);
            }
            return;
        }
        // A cancel is no error: Script-Fu hands the values back as they are, so they are the
        // declared ones, with no layers (or no image).
        if (!cancelled) {
            imagegen::host::saveLastValues(name, imagegen::lastValuesToJson(p));
        }
        values[0].data.d_status = cancelled ? GIMP_PDB_CANCEL : GIMP_PDB_SUCCESS;
        if (procedure == imagegen::Procedure::NewImage) {
            values[1].type = GIMP_PDB_IMAGE;
            values[1].data.d_image = outcome.image;
            *nreturn = 2;
        } else {
            layerIds.assign(outcome.layers.begin(), outcome.layers.end());
            values[1].type = GIMP_PDB_INT32;
            values[1].data.d_int32 = static_cast<gint32>(layerIds.size());
            values[2].type = GIMP_PDB_INT32ARRAY;
            values[2].data.d_int32array = layerIds.data();
            *nreturn = 3;
        }
    } catch (const std::exception& e) {
        failWith(GIMP_PDB_EXECUTION_ERROR, std::string("internal error: ") + e.what());
    }
}

} // namespace

const GimpPlugInInfo PLUG_IN_INFO = {nullptr, nullptr, query, run};

MAIN()
