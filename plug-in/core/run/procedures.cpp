#include "core/run/procedures.h"

#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

namespace imagegen {

namespace {

constexpr int kLastValuesVersion = 2;

using P = RunParameters;

// The rows the procedures share, in the order they appear.
const ParamSpec kRunMode{
    PdbType::Int32,
    "run-mode",
    N_("The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }"),
    {}};
const ParamSpec kImage{PdbType::Image, "image", N_("Input image"), {}};
const ParamSpec kPrompt{
    PdbType::String, "prompt",
    N_("What to draw, in words (required; at most 32000 characters for GPT image models, "
       "4000 for dall-e-3)"),
    &P::prompt};
const ParamSpec kModel{
    PdbType::String, "model",
    N_("Model name (gpt-image-1, gpt-image-1-mini, gpt-image-1.5, gpt-image-2, dall-e-3, "
       "dall-e-2) or Azure deployment name; \"\" for the connection's default"),
    &P::model};
const ParamSpec kCount{PdbType::Int32, "n-images", N_("Number of results, 1 to 10; -1 for 1"),
                       &P::n};
const ParamSpec kSize{
    PdbType::String, "size",
    N_("API image size such as 1536x1024, or \"auto\"; \"\" to choose the size nearest the "
       "region's shape"),
    &P::size};
const ParamSpec kQuality{
    PdbType::String, "quality",
    N_("low, medium, high or auto (GPT image models); standard or hd (dall-e-3); \"\" for the "
       "model's default"),
    &P::quality};
const ParamSpec kStyle{PdbType::String, "style",
                       N_("vivid or natural (dall-e-3); \"\" for the default"), &P::style};
const ParamSpec kBackground{
    PdbType::String, "background",
    N_("transparent, opaque or auto (GPT image models); \"\" for the default"),
    &Options::background};
const ParamSpec kConnection{
    PdbType::String, "connection",
    N_("Name of a saved connection; \"\" for the saved default, or else the "
       "AZURE_OPENAI_* / OPENAI_* environment variables"),
    &P::connection};
const ParamSpec kOptions{
    PdbType::String, "options",
    N_("JSON object of further fields, e.g. {\"background\":\"opaque\",\"output_format\":\"png\","
       "\"stream\":true,\"partial_images\":2,\"references\":[12,14]} (references: layer IDs sent "
       "as extra input images); \"\" for none"),
    &P::options};

// Rows of one procedure alone.
const ParamSpec kEditDrawable{PdbType::Drawable,
                              "drawable",
                              N_("The layer to edit (it is never changed: results are new layers)"),
                              {}};
const ParamSpec kEditFidelity{PdbType::String, "input-fidelity",
                              N_("high or low (gpt-image-1, -1.5, -2); \"\" for the default"),
                              &Options::inputFidelity};
const ParamSpec kEditContext{PdbType::Float, "context",
                             N_("Padding around the selection sent with it, as a fraction of the "
                                "selection's larger side; -1 for 0.15"),
                             &P::context};
const ParamSpec kEditFeather{
    PdbType::Float, "feather",
    N_("Width in pixels of the soft inner edge of each result's layer mask; -1 for 0"),
    &P::feather};
const ParamSpec kGenerateDrawable{
    PdbType::Drawable, "drawable", N_("The layer above which the results go"), {}};
const ParamSpec kNewImageSize{PdbType::String, "size",
                              N_("API image size such as 1536x1024; \"\" for the model's default"),
                              &P::size};

const ParamSpec kExpandDrawable{
    PdbType::Drawable,
    "drawable",
    N_("The layer whose picture is continued (it is never changed: results are new layers)"),
    {}};
const ParamSpec kExpandPromptParam{
    PdbType::String, "prompt",
    N_("What the new border shows, in words; \"\" to continue the picture naturally"), &P::prompt};
const ParamSpec kLeft{PdbType::Int32, "left", N_("Pixels added on the left, 0 or more"), &P::left};
const ParamSpec kTop{PdbType::Int32, "top", N_("Pixels added at the top, 0 or more"), &P::top};
const ParamSpec kRight{PdbType::Int32, "right", N_("Pixels added on the right, 0 or more"),
                       &P::right};
const ParamSpec kBottom{PdbType::Int32, "bottom", N_("Pixels added at the bottom, 0 or more"),
                        &P::bottom};
const ParamSpec kExpandSize{
    PdbType::String, "size",
    N_("API image size of each tile, such as 1536x1024; \"\" for 1024x1024"), &P::size};

const std::vector<ReturnSpec> kLayerReturns = {
    {PdbType::Int32, "n-layers", N_("Number of layers made")},
    {PdbType::Int32Array, "layers", N_("The layers made, first the one shown")},
};

ProcedureSpec editSpec() {
    return {
        Procedure::Edit,
        "plug-in-imagegen-edit",
        N_("Repaint the selection from a text prompt with an AI image model"),
        N_("Sends the selected part of the layer (with some context around it) and a mask of the "
           "selection to an OpenAI or Azure OpenAI image model, and adds each result as a new "
           "layer "
           "over the selection, with a layer mask so that nothing outside the selection changes. "
           "Without a selection the whole layer is repainted. Transparent pixels inside the region "
           "count as part of the area to paint, so enlarging the canvas and selecting the new "
           "border "
           "extends the picture. The source layer is never written to; all of it is one undo "
           "step."),
        N_("_Edit Selection…"),
        // TRANSLATORS: a menu path: keep "<Image>/Filters/" as it is and translate only
        // "Generative", the submenu under Filters (GIMP checks that the parts match).
        N_("<Image>/Filters/Generative"),
        "RGB*, GRAY*",
        {kRunMode, kImage, kEditDrawable, kPrompt, kModel, kCount, kSize, kQuality, kEditFidelity,
         kEditContext, kEditFeather, kConnection, kOptions},
        kLayerReturns,
    };
}

ProcedureSpec generateSpec() {
    return {
        Procedure::Generate,
        "plug-in-imagegen-generate",
        N_("Generate new layers from a text prompt with an AI image model"),
        N_("Generates images from a prompt and adds them as new layers covering the selection's "
           "bounds (or the whole canvas), scaled to cover and centred, masked by the selection "
           "when "
           "there is one."),
        N_("_Generate Layer…"),
        // TRANSLATORS: a menu path: keep "<Image>/Filters/" as it is and translate only
        // "Generative", the submenu under Filters (GIMP checks that the parts match).
        N_("<Image>/Filters/Generative"),
        "RGB*, GRAY*",
        {kRunMode, kImage, kGenerateDrawable, kPrompt, kModel, kCount, kSize, kQuality, kStyle,
         kBackground, kConnection, kOptions},
        kLayerReturns,
    };
}

ProcedureSpec newImageSpec() {
    return {
        Procedure::NewImage,
        "plug-in-imagegen-new-image",
        N_("Create a new image from a text prompt with an AI image model"),
        N_("Generates images from a prompt and opens them as a new image, one layer per result."),
        N_("_Generate Image…"),
        "<Image>/File/Create",
        nullptr,
        {kRunMode, kPrompt, kModel, kCount, kNewImageSize, kQuality, kStyle, kBackground,
         kConnection, kOptions},
        {{PdbType::Image, "image", N_("The new image")}},
    };
}

ProcedureSpec expandSpec() {
    return {
        Procedure::Expand,
        "plug-in-imagegen-expand",
        N_("Enlarge the canvas and paint the new border with an AI image model"),
        N_("Enlarges the canvas by the margins given and paints the new border from the picture: "
           "the border is sent in tiles of one API size, each with the picture next to it and the "
           "tiles already painted as context, one after another, so that neighbouring tiles "
           "continue each other. Each result is one new layer over the whole canvas, masked to the "
           "new border, so the original pixels stay exactly as they were. Canvas and layers are "
           "one "
           "undo step."),
        N_("Generative E_xpand…"),
        "<Image>/Image",
        "RGB*, GRAY*",
        {kRunMode, kImage, kExpandDrawable, kExpandPromptParam, kLeft, kTop, kRight, kBottom,
         kModel, kExpandSize, kQuality, kCount, kConnection, kOptions},
        kLayerReturns,
    };
}

// Sets the field if it holds a `Field` member and the argument an `Arg`.
template <typename Field, typename Arg>
bool assignAs(RunParameters& p, const ParamField& field, const ArgValue& value) {
    const auto* member = std::get_if<Field RunParameters::*>(&field);
    const auto* v = std::get_if<Arg>(&value);
    if (member == nullptr || v == nullptr) {
        return false;
    }
    p.*(*member) = *v;
    return true;
}

// Sets one field from one argument; false when the argument's type is not the field's.
bool assign(RunParameters& p, const ParamField& field, const ArgValue& value) {
    if (const auto* real = std::get_if<double>(&value); real != nullptr && !std::isfinite(*real)) {
        return false;
    }
    return assignAs<std::string, std::string>(p, field, value) ||
           assignAs<int, int32_t>(p, field, value) || assignAs<double, double>(p, field, value);
}

// What a saved value may be: anything else (a blob edited by hand, or written by a broken
// version) reads as the default, -1 or "", instead of reaching a run or the dialog.
// n-images: 1 to 10, else -1; a margin: 0 to GIMP's largest side, else 0.
int savedInt(JsonObject* root, const ParamSpec& param) {
    if (param.field != ParamField(&P::n)) {
        const int64_t v = json::integer(root, param.name).value_or(0);
        constexpr int64_t kMaxMargin = 524288;
        return v >= 0 && v <= kMaxMargin ? static_cast<int>(v) : 0;
    }
    const int64_t v = json::integer(root, param.name).value_or(-1);
    constexpr int64_t kMaxImages = 10;
    return v >= 1 && v <= kMaxImages ? static_cast<int>(v) : -1;
}

// Context and feather: any size a run took, but not infinity, NaN or a negative number.
double savedReal(JsonObject* root, const ParamSpec& param) {
    const double v = json::number(root, param.name).value_or(-1.0);
    return std::isfinite(v) && v >= 0 ? v : -1.0;
}

// The most bytes a text parameter may take: the longest prompt a model takes (32000 characters
// of up to 4 bytes), options of up to a megabyte, and names (model, size, connection…) that are
// short.
size_t maxTextBytes(const ParamSpec& param) {
    return param.field == ParamField(&P::prompt)    ? size_t{32000} * 4
           : param.field == ParamField(&P::options) ? size_t{1024} * 1024
                                                    : 4096;
}

std::string savedText(JsonObject* root, const ParamSpec& param) {
    std::string v = json::string(root, param.name).value_or("");
    return v.size() <= maxTextBytes(param) ? v : std::string();
}

// "4096 bytes", or "1.0 MB" from a megabyte on.
std::string sizeText(size_t bytes) {
    return bytes >= (size_t{1} << 20) ? megabytes(bytes)
                                      : textf(g_dngettext(GETTEXT_PACKAGE, "%lu byte", "%lu bytes",
                                                          static_cast<gulong>(bytes)),
                                              static_cast<unsigned long>(bytes));
}

Error tooLong(const ParamSpec& param, size_t bytes) {
    Error e = makeError(ErrorKind::InvalidRequest,
                        textf(_("the parameter %s is %s long; it takes at most %s"), param.name,
                              sizeText(bytes).c_str(), sizeText(maxTextBytes(param)).c_str()));
    e.param = param.name;
    return e;
}

const ParamSpec* optionsParam(const ProcedureSpec& spec) {
    for (const ParamSpec& param : spec.params) {
        if (std::holds_alternative<Options P::*>(param.field)) {
            return &param;
        }
    }
    return nullptr;
}

// The options as the `options` parameter carries them: the fields that have a parameter of their
// own in this procedure go there, not here, so that they are saved in one place.
std::string optionsText(const ProcedureSpec& spec, const Options& options) {
    Options rest = options;
    const Options unset;
    for (const ParamSpec& param : spec.params) {
        if (const auto* own = std::get_if<std::string Options::*>(&param.field)) {
            rest.*(*own) = unset.*(*own);
        }
    }
    return optionsToJson(rest);
}

// A text parameter's value as it is saved and bounded; nullopt for a number or a fixed parameter.
std::optional<std::string> savedTextOf(const ProcedureSpec& spec, const ParamSpec& param,
                                       const RunParameters& p) {
    if (const auto* text = std::get_if<std::string P::*>(&param.field)) {
        return p.*(*text);
    }
    if (const auto* option = std::get_if<std::string Options::*>(&param.field)) {
        return p.options.*(*option);
    }
    if (std::holds_alternative<Options P::*>(param.field)) {
        return optionsText(spec, p.options);
    }
    return std::nullopt;
}

// Background or input fidelity given as a parameter: it goes into the options, and is refused
// when the options give it otherwise (which of the two was meant cannot be told).
Status giveOption(Options& options, const ParamSpec& param, const std::string& value) {
    std::string& field = options.*std::get<std::string Options::*>(param.field);
    if (value.empty() || value == field) {
        return Ok{};
    }
    if (!field.empty()) {
        // TRANSLATORS: "the parameter background says "opaque" and the options say
        // "transparent": give it in one place only".
        Error e = makeError(ErrorKind::InvalidRequest,
                            textf(_("the parameter %s says \"%s\" and the options say \"%s\": "
                                    "give it in one place only"),
                                  param.name, value.c_str(), field.c_str()));
        e.param = param.name;
        return e;
    }
    field = value;
    return Ok{};
}

} // namespace

const MenuBranch& generativeMenu() {
    static const MenuBranch branch{
        "<Image>/Filters",
        // TRANSLATORS: the submenu under Filters, with its mnemonic: the same word as in the menu
        // path, with a letter that no other entry of GIMP's Filters menu uses; in English, Generic
        // takes G.
        N_("Generati_ve")};
    return branch;
}

const MenuBranch& generativeMenu3() {
    static const MenuBranch branch{
        "<Image>/Filters",
        // TRANSLATORS: the same submenu in GIMP 3, whose Filters menu has other letters: the
        // same word as in the menu path, with a letter that none of GIMP 3's Filters entries
        // (in GIMP 3's own translation) uses. In English every letter of the word is taken
        // (Generic G, Noise N, Render R, Artistic A, Edge-De_tect T, An_imation I, De_velopment
        // V), E only by R_e-Show once a filter has been used, so E.
        N_("G_enerative")};
    return branch;
}

std::string menuWord(std::string_view label) {
    std::string word(label);
    // "(_X)" at the end, as Japanese and Chinese labels carry their mnemonic.
    if (const size_t open = word.rfind("(_");
        open != std::string::npos && open + 4 == word.size() && word.back() == ')') {
        word.erase(open);
    }
    std::erase(word, '_');
    return word;
}

std::optional<std::string> generativeMenu3Label() {
    const std::string path = _(specOf(Procedure::Edit).menuPath);
    const std::string submenu = path.substr(path.rfind('/') + 1);
    for (const char* label : {generativeMenu3().label, generativeMenu().label}) {
        if (const char* translated = _(label); menuWord(translated) == submenu) {
            return std::string(translated);
        }
    }
    return std::nullopt;
}

std::string menuPath3(const ProcedureSpec& spec) {
    const MenuBranch& branch = generativeMenu3();
    const std::string generative =
        std::string(branch.parentPath) + "/" + menuWord(generativeMenu().label);
    if (spec.menuPath == generative) {
        if (const std::optional<std::string> label = generativeMenu3Label(); label) {
            return std::string(branch.parentPath) + "/" + *label;
        }
    }
    return _(spec.menuPath);
}

const std::vector<ProcedureSpec>& procedureSpecs() {
    static const std::vector<ProcedureSpec> specs = {editSpec(), generateSpec(), newImageSpec(),
                                                     expandSpec()};
    return specs;
}

const ProcedureSpec* findProcedure(std::string_view name) {
    for (const auto& spec : procedureSpecs()) {
        if (name == spec.name) {
            return &spec;
        }
    }
    return nullptr;
}

const ProcedureSpec& specOf(Procedure procedure) {
    for (const auto& spec : procedureSpecs()) {
        if (spec.procedure == procedure) {
            return spec;
        }
    }
    return procedureSpecs().front();
}

Result<RunParameters> parametersFromArgs(const ProcedureSpec& spec,
                                         const std::vector<ArgValue>& args) {
    const size_t expected = spec.params.size() - spec.fixedParams();
    if (args.size() != expected) {
        return makeError(ErrorKind::InvalidRequest,
                         textf(_("%s takes %d parameters, not %d"), spec.name,
                               static_cast<int>(spec.params.size()),
                               static_cast<int>(args.size() + spec.fixedParams())));
    }
    RunParameters p;
    std::string optionsText;
    std::vector<std::pair<const ParamSpec*, std::string>> optionParams;
    for (size_t i = 0; i < args.size(); ++i) {
        const ParamSpec& param = spec.params[spec.fixedParams() + i];
        const auto* text = std::get_if<std::string>(&args[i]);
        bool taken = false;
        if (std::holds_alternative<Options P::*>(param.field)) {
            taken = text != nullptr;
            optionsText = taken ? *text : "";
        } else if (std::holds_alternative<std::string Options::*>(param.field)) {
            taken = text != nullptr;
            optionParams.emplace_back(&param, taken ? *text : "");
        } else {
            taken = assign(p, param.field, args[i]);
        }
        if (!taken) {
            Error e = makeError(ErrorKind::InvalidRequest,
                                textf(_("the parameter %s has the wrong type"), param.name));
            e.param = param.name;
            return e;
        }
    }
    // A text past its bound is refused before it is parsed (checkParameterSizes says why).
    if (const ParamSpec* options = optionsParam(spec);
        options != nullptr && optionsText.size() > maxTextBytes(*options)) {
        return tooLong(*options, optionsText.size());
    }
    auto options = parseOptions(optionsText);
    if (!options) {
        return options.error();
    }
    p.options = std::move(*options);
    for (const auto& [param, value] : optionParams) {
        if (auto given = giveOption(p.options, *param, value); !given) {
            return given.error();
        }
    }
    return p;
}

Status checkParameterSizes(const ProcedureSpec& spec, const RunParameters& p) {
    for (const ParamSpec& param : spec.params) {
        if (const auto text = savedTextOf(spec, param, p);
            text && text->size() > maxTextBytes(param)) {
            return tooLong(param, text->size());
        }
    }
    // What GIMP keeps is the JSON and a NUL after it; JSON escapes may make it longer than the
    // texts themselves.
    const size_t saved = lastValuesToJson(spec, p).size() + 1;
    if (saved > kMaxLastValuesBytes) {
        return makeError(ErrorKind::InvalidRequest,
                         textf(_("the parameters together take %s, more than the %s that the "
                                 "last values of a run can keep: shorten the prompt or the "
                                 "options"),
                               megabytes(saved).c_str(), megabytes(kMaxLastValuesBytes).c_str()));
    }
    return Ok{};
}

std::string lastValuesToJson(const ProcedureSpec& spec, const RunParameters& p) {
    auto b = adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "version");
    json_builder_add_int_value(b.get(), kLastValuesVersion);
    for (const ParamSpec& param : spec.params) {
        if (std::holds_alternative<std::monostate>(param.field)) {
            continue;
        }
        json_builder_set_member_name(b.get(), param.name);
        if (const auto text = savedTextOf(spec, param, p)) {
            json_builder_add_string_value(b.get(), text->c_str());
        } else if (const auto* whole = std::get_if<int RunParameters::*>(&param.field)) {
            json_builder_add_int_value(b.get(), p.*(*whole));
        } else {
            const double v = p.*std::get<double RunParameters::*>(param.field);
            // JSON has no infinity; a value that is not finite is saved as "the default".
            json_builder_add_double_value(b.get(), std::isfinite(v) ? v : -1.0);
        }
    }
    json_builder_end_object(b.get());
    return json::builderText(b.get());
}

Result<RunParameters> lastValuesFromJson(const ProcedureSpec& spec, const std::string& text) {
    auto document = json::parseObject(text);
    JsonObject* root = document ? document->root() : nullptr;
    if (root == nullptr || json::integer(root, "version").value_or(0) != kLastValuesVersion) {
        return makeError(ErrorKind::InvalidRequest, "no usable last values");
    }
    RunParameters p;
    // The options first, so that background and input fidelity, saved beside them, go into them.
    if (const ParamSpec* options = optionsParam(spec)) {
        auto saved = parseOptions(savedText(root, *options));
        p.options = saved ? std::move(*saved) : Options{};
    }
    for (const ParamSpec& param : spec.params) {
        if (const auto* text = std::get_if<std::string RunParameters::*>(&param.field)) {
            p.*(*text) = savedText(root, param);
        } else if (const auto* option = std::get_if<std::string Options::*>(&param.field)) {
            // Empty means "not given": an older version may have kept the value in the options.
            if (std::string v = savedText(root, param); !v.empty()) {
                p.options.*(*option) = std::move(v);
            }
        } else if (const auto* whole = std::get_if<int RunParameters::*>(&param.field)) {
            p.*(*whole) = savedInt(root, param);
        } else if (const auto* real = std::get_if<double RunParameters::*>(&param.field)) {
            p.*(*real) = savedReal(root, param);
        }
    }
    return p;
}

} // namespace imagegen
