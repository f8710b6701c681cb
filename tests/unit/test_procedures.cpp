// The procedure tables: what GIMP registers, how arguments fill the parameters by position, and
// the last values saved and read by the same table.
#include "core/run/procedures.h"
#include "core/run/run_parameters.h"
#include "core/util/json_util.h"
#include "test_util.h"

#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>

using namespace imagegen;
using namespace imagegen::test;

namespace {

// Options with only the background and input fidelity given (the rest unset, as parsed from "").
Options optionsOf(std::string background, std::string inputFidelity, bool stream = false) {
    Options o;
    o.background = std::move(background);
    o.inputFidelity = std::move(inputFidelity);
    o.stream = stream;
    return o;
}

void testTablesMatchThePublicInterface(gconstpointer data) {
    const auto* spec = static_cast<const ProcedureSpec*>(data);
    g_assert_true(findProcedure(spec->name) == spec);
    g_assert_true(&specOf(spec->procedure) == spec);
    assertEq(spec->params.at(0).name, "run-mode");
    std::set<std::string> names;
    size_t fields = 0;
    for (size_t i = 0; i < spec->params.size(); ++i) {
        const ParamSpec& p = spec->params[i];
        g_assert_true(names.insert(p.name).second);
        g_assert_cmpuint(std::string(p.description).size(), >, 5);
        const bool fixed = i < spec->fixedParams();
        g_assert_true(std::holds_alternative<std::monostate>(p.field) == fixed);
        fields += fixed ? 0 : 1;
    }
    // DESIGN.md's parameter counts: the fixed ones, then the fields.
    const size_t expected = spec->procedure == Procedure::Edit     ? 10
                            : spec->procedure == Procedure::Expand ? 11
                                                                   : 9;
    g_assert_cmpuint(fields, ==, expected);
    if (spec->takesImage()) {
        g_assert_true(spec->params[1].type == PdbType::Image);
        g_assert_true(spec->params[2].type == PdbType::Drawable);
    }
}

void testEditArgumentsFillEveryFieldByPosition() {
    const std::vector<ArgValue> args = {
        std::string("prompt"), std::string("model"), int32_t{3}, std::string("1536x1024"),
        std::string("high"),   std::string("low"),   0.25,       4.0,
        std::string("studio"), std::string("{}")};
    auto p = parametersFromArgs(specOf(Procedure::Edit), args);
    if (!assertOk(p)) {
        return;
    }
    assertEq(p->prompt, "prompt");
    assertEq(p->model, "model");
    g_assert_cmpint(p->n, ==, 3);
    assertEq(p->size, "1536x1024");
    assertEq(p->quality, "high");
    assertEq(p->options.inputFidelity, "low");
    g_assert_cmpfloat(p->context, ==, 0.25);
    g_assert_cmpfloat(p->feather, ==, 4.0);
    assertEq(p->connection, "studio");
    g_assert_true(p->options == optionsOf("", "low"));
}

void testGenerateArgumentsFillStyleAndBackground() {
    const std::vector<ArgValue> args = {
        std::string("p"),      std::string(""), int32_t{-1},
        std::string(""),       std::string(""), std::string("vivid"),
        std::string("opaque"), std::string(""), std::string("")};
    auto p = parametersFromArgs(specOf(Procedure::Generate), args);
    if (!assertOk(p)) {
        return;
    }
    assertEq(p->style, "vivid");
    assertEq(p->options.background, "opaque");
    g_assert_cmpint(p->n, ==, -1);
}

// DESIGN's order: prompt, left, top, right, bottom, model, size, quality, n-images,
// connection, options.
void testExpandArgumentsFillTheMargins() {
    const std::vector<ArgValue> args = {std::string("the sea"),
                                        int32_t{10},
                                        int32_t{20},
                                        int32_t{30},
                                        int32_t{40},
                                        std::string("gpt-image-1"),
                                        std::string("1536x1024"),
                                        std::string("low"),
                                        int32_t{2},
                                        std::string("studio"),
                                        std::string("{}")};
    const ProcedureSpec& spec = specOf(Procedure::Expand);
    assertEq(spec.name, "plug-in-imagegen-expand");
    assertEq(spec.menuPath, "<Image>/Image");
    assertEq(spec.imageTypes, "RGB*, GRAY*");
    auto p = parametersFromArgs(spec, args);
    if (!assertOk(p)) {
        return;
    }
    assertEq(p->prompt, "the sea");
    g_assert_cmpint(p->left, ==, 10);
    g_assert_cmpint(p->top, ==, 20);
    g_assert_cmpint(p->right, ==, 30);
    g_assert_cmpint(p->bottom, ==, 40);
    assertEq(p->model, "gpt-image-1");
    assertEq(p->size, "1536x1024");
    assertEq(p->quality, "low");
    g_assert_cmpint(p->n, ==, 2);
    assertEq(p->connection, "studio");
    g_assert_true(p->options == Options{});
    // A saved margin past GIMP's largest image, or negative, reads as 0.
    auto odd = lastValuesFromJson(spec, R"({"version":2,"left":-4,"right":99999999})");
    if (assertOk(odd)) {
        g_assert_cmpint(odd->left, ==, 0);
        g_assert_cmpint(odd->right, ==, 0);
    }
}

void testWrongCountOrTypeIsRefused() {
    const ProcedureSpec& spec = specOf(Procedure::NewImage);
    const Error count =
        assertFails(parametersFromArgs(spec, {std::string("p")}), ErrorKind::InvalidRequest);
    assertContains(count.message, "takes 10 parameters, not 2");
    std::vector<ArgValue> args(9, std::string(""));
    args[2] = std::string("three"); // n-images is a whole number
    const Error type = assertFails(parametersFromArgs(spec, args), ErrorKind::InvalidRequest);
    assertEq(type.param, "n-images");
}

void testLastValuesRoundTrip(gconstpointer data) {
    const auto* spec = static_cast<const ProcedureSpec*>(data);
    RunParameters p;
    p.prompt = "a \"quoted\" prompt\nwith a second line";
    p.model = "dall-e-3";
    p.n = 4;
    p.size = "1024x1792";
    p.quality = "hd";
    p.connection = "studio";
    p.options = optionsOf("opaque", "high", true);
    p.style = "natural";
    p.context = 0.5;
    p.feather = 3;
    p.left = 120;
    p.bottom = 2000;
    auto back = lastValuesFromJson(*spec, lastValuesToJson(*spec, p));
    if (!assertOk(back)) {
        return;
    }
    assertEq(back->prompt, p.prompt);
    assertEq(back->model, p.model);
    g_assert_cmpint(back->n, ==, 4);
    assertEq(back->size, p.size);
    assertEq(back->connection, p.connection);
    // Every procedure keeps every option: as its own parameter where it has one (background for
    // the generations, input fidelity for Edit), else in the options.
    g_assert_true(back->options == p.options);
    // Only the procedure's own parameters are kept.
    const bool edit = spec->procedure == Procedure::Edit;
    const bool expand = spec->procedure == Procedure::Expand;
    assertEq(back->style, edit || expand ? "" : "natural");
    g_assert_cmpint(back->left, ==, expand ? 120 : 0);
    g_assert_cmpint(back->bottom, ==, expand ? 2000 : 0);
    g_assert_cmpint(back->top, ==, 0);
    g_assert_cmpfloat(back->context, ==, edit ? 0.5 : -1);
}

// Background and input fidelity have a parameter and an options key: each arrives in one field,
// and the two saying different things is refused rather than one of them dropped.
void testOptionFieldsArriveOnce() {
    const ProcedureSpec& generate = specOf(Procedure::Generate);
    auto generateWith = [&](const char* background, const char* options) {
        return parametersFromArgs(generate,
                                  {std::string("p"), std::string(""), int32_t{-1}, std::string(""),
                                   std::string(""), std::string(""), std::string(background),
                                   std::string(""), std::string(options)});
    };
    const Error twice = assertFails(generateWith("opaque", R"({"background":"transparent"})"),
                                    ErrorKind::InvalidRequest);
    assertEq(twice.param, "background");
    assertContains(twice.message, "the parameter background says \"opaque\" and the options say "
                                  "\"transparent\": give it in one place only");
    for (const auto& [parameter, options] :
         {std::pair{"opaque", R"({"background":"opaque"})"}, std::pair{"opaque", ""},
          std::pair{"", R"({"background":"opaque"})"}}) {
        auto p = generateWith(parameter, options);
        if (assertOk(p)) {
            g_assert_true(p->options == optionsOf("opaque", ""));
        }
    }
    const Error fidelity = assertFails(
        parametersFromArgs(specOf(Procedure::Edit),
                           {std::string("p"), std::string(""), int32_t{1}, std::string(""),
                            std::string(""), std::string("low"), -1.0, -1.0, std::string(""),
                            std::string(R"({"input_fidelity":"high"})")}),
        ErrorKind::InvalidRequest);
    assertEq(fidelity.param, "input-fidelity");
    // Options that do not parse are refused where they come in, naming the key.
    const Error unknown =
        assertFails(generateWith("", R"({"colour":"red"})"), ErrorKind::InvalidRequest);
    assertEq(unknown.param, "colour");

    // Saved once too: the generation's background under its parameter, not in the options.
    RunParameters p;
    p.options = optionsOf("opaque", "", true);
    auto saved = json::parseObject(lastValuesToJson(generate, p));
    if (!assertOk(saved)) {
        return;
    }
    assertEq(json::string(saved->root(), "background").value_or(""), "opaque");
    assertEq(json::string(saved->root(), "options").value_or(""), R"({"stream":true})");
    // An empty parameter saved beside options that give the field (as an older version may have
    // kept it) reads as the options' value.
    auto older = lastValuesFromJson(
        generate, R"({"version":2,"background":"","options":"{\"background\":\"opaque\"}"})");
    if (assertOk(older)) {
        assertEq(older->options.background, "opaque");
    }
}

void testLastValuesThatCannotBeUsed() {
    const ProcedureSpec& edit = specOf(Procedure::Edit);
    assertFails(lastValuesFromJson(edit, "not json"), ErrorKind::InvalidRequest);
    assertFails(lastValuesFromJson(edit, R"({"version":1,"prompt":"old format"})"),
                ErrorKind::InvalidRequest);
    // Numbers JSON cannot hold, or an int cannot, read as "the default".
    auto odd = lastValuesFromJson(
        edit, R"({"version":2,"prompt":"p","context":1e999,"n-images":99999999999})");
    if (assertOk(odd)) {
        g_assert_cmpfloat(odd->context, ==, -1);
        g_assert_cmpint(odd->n, ==, -1);
        assertEq(odd->prompt, "p");
    }
    auto outOfRange = lastValuesFromJson(
        edit, R"({"version":2,"prompt":"p","n-images":0,"context":-3,"feather":5000,"model":")" +
                  std::string(5000, 'm') + "\"}");
    if (assertOk(outOfRange)) {
        g_assert_cmpint(outOfRange->n, ==, -1);
        g_assert_cmpfloat(outOfRange->context, ==, -1);
        g_assert_cmpfloat(outOfRange->feather, ==, 5000); // large, but a run may take it
        assertEq(outOfRange->model, "");
    }
    RunParameters infinite;
    infinite.context = std::numeric_limits<double>::infinity();
    const std::string saved = lastValuesToJson(edit, infinite);
    g_assert_true(saved.find("inf") == std::string::npos);
    g_assert_true(lastValuesFromJson(edit, saved).ok());
}

void testOptionsReadEveryKnownField() {
    auto o = parseOptions(R"({"background":"opaque","output_format":"webp","output_compression":80,
        "moderation":"low","user":"u1","input_fidelity":"high","stream":true,"partial_images":2,
        "references":[12,14],"match_colors":false,"upload_format":"png"})");
    if (!assertOk(o)) {
        return;
    }
    assertEq(o->background, "opaque");
    assertEq(o->outputFormat, "webp");
    g_assert_cmpint(o->outputCompression, ==, 80);
    assertEq(o->moderation, "low");
    assertEq(o->user, "u1");
    assertEq(o->inputFidelity, "high");
    g_assert_true(o->stream);
    g_assert_cmpint(o->partialImages, ==, 2);
    g_assert_true(o->references == (std::vector<int>{12, 14}));
    g_assert_false(o->matchColors);
    assertEq(o->uploadFormat, "png");
    g_assert_true(parseOptions(R"({"upload_format":"auto"})").ok());
    // Colour matching is on unless the options turn it off.
    g_assert_true(parseOptions("")->matchColors);
    g_assert_true(parseOptions(R"({"match_colors":true})")->matchColors);
}

// An option of the wrong type: the text, and what the error says it must be.
struct BadOption {
    const char* json;
    const char* key;
    const char* says;
};

const BadOption kBadOptions[] = {
    {R"({"background":1})", "background", "must be a string"},
    {R"({"output_compression":"high"})", "output_compression", "must be a whole number"},
    {R"({"output_compression":1e12})", "output_compression", "must be a whole number"},
    {R"({"partial_images":99999999999})", "partial_images", "out of range"},
    {R"({"stream":"yes"})", "stream", "must be true or false"},
    {R"({"match_colors":0})", "match_colors", "must be true or false"},
    {R"({"references":[1,"two"]})", "references", "must be a list of layer IDs"},
    {R"({"references":3})", "references", "must be a list of layer IDs"},
    // JPEG cannot be forced: where it would lose alpha the model must see, PNG is the only way.
    {R"({"upload_format":"jpeg"})", "upload_format", "must be \"auto\" or \"png\""},
    {R"({"upload_format":1})", "upload_format", "must be a string"},
    {R"({"colour":"red"})", "colour", "known: background, output_format"},
    {R"(["background"])", "options", "must be a JSON object"},
};

void testBadOptionIsNamed(gconstpointer data) {
    const auto* bad = static_cast<const BadOption*>(data);
    const Error e = assertFails(parseOptions(bad->json), ErrorKind::InvalidRequest);
    assertEq(e.param, bad->key);
    assertContains(e.message, bad->says);
}

// optionsToJson writes what parseOptions reads: one field set at a time, and all of them.
struct OptionsCase {
    const char* name;
    void (*set)(Options&);
    const char* json; // what optionsToJson writes
};

const OptionsCase kOptionsCases[] = {
    {"none", [](Options&) {}, ""},
    {"background", [](Options& o) { o.background = "transparent"; },
     R"({"background":"transparent"})"},
    {"output_format", [](Options& o) { o.outputFormat = "webp"; }, R"({"output_format":"webp"})"},
    {"output_compression", [](Options& o) { o.outputCompression = 0; },
     R"({"output_compression":0})"},
    {"moderation", [](Options& o) { o.moderation = "low"; }, R"({"moderation":"low"})"},
    {"user", [](Options& o) { o.user = "u-42"; }, R"({"user":"u-42"})"},
    {"input_fidelity", [](Options& o) { o.inputFidelity = "high"; },
     R"({"input_fidelity":"high"})"},
    {"stream", [](Options& o) { o.stream = true; }, R"({"stream":true})"},
    {"match_colors", [](Options& o) { o.matchColors = false; }, R"({"match_colors":false})"},
    {"partial_images", [](Options& o) { o.partialImages = 0; }, R"({"partial_images":0})"},
    {"upload_format", [](Options& o) { o.uploadFormat = "png"; }, R"({"upload_format":"png"})"},
    {"references",
     [](Options& o) {
         o.references = {12, 14, 3};
     },
     R"({"references":[12,14,3]})"},
    {"every-field",
     [](Options& o) {
         o.background = "opaque";
         o.outputFormat = "jpeg";
         o.outputCompression = 85;
         o.moderation = "auto";
         o.user = "someone";
         o.inputFidelity = "low";
         o.stream = true;
         o.partialImages = 3;
         o.references = {7};
         o.matchColors = false;
         o.uploadFormat = "png";
     },
     R"({"background":"opaque","output_format":"jpeg","output_compression":85,)"
     R"("moderation":"auto","user":"someone","input_fidelity":"low","stream":true,)"
     R"("partial_images":3,"references":[7],"match_colors":false,"upload_format":"png"})"},
    // A user string JSON must escape, and one that is not ASCII.
    {"user-escaped", [](Options& o) { o.user = "a \"quoted\" \\ back\\slash\ttab"; },
     R"({"user":"a \"quoted\" \\ back\\slash\ttab"})"},
    {"user-non-ascii", [](Options& o) { o.user = "Jürgen 日本 🎨"; }, nullptr},
};

void assertSameOptions(const Options& a, const Options& b) {
    assertEq(a.background, b.background);
    assertEq(a.outputFormat, b.outputFormat);
    g_assert_cmpint(a.outputCompression, ==, b.outputCompression);
    assertEq(a.moderation, b.moderation);
    assertEq(a.user, b.user);
    assertEq(a.inputFidelity, b.inputFidelity);
    g_assert_true(a.stream == b.stream);
    g_assert_cmpint(a.partialImages, ==, b.partialImages);
    g_assert_true(a.references == b.references);
    g_assert_true(a.matchColors == b.matchColors);
    assertEq(a.uploadFormat, b.uploadFormat);
}

void testOptionsToJsonRoundTrip(gconstpointer data) {
    const auto* c = static_cast<const OptionsCase*>(data);
    Options options;
    c->set(options);
    const std::string json = optionsToJson(options);
    if (c->json != nullptr) {
        assertEq(json, c->json);
    }
    auto read = parseOptions(json);
    if (!assertOk(read)) {
        return;
    }
    assertSameOptions(*read, options);
    // Written again, the same text: nothing is lost or added on the way.
    assertEq(optionsToJson(*read), json);
}

// A `user` option of 10 MB was sent as is; it is an ID, refused past 256 characters.
void testUserOptionIsAnId() {
    const std::string atBound = R"({"user":")" + std::string(256, 'u') + "\"}";
    assertOk(parseOptions(atBound));
    const Error e = assertFails(parseOptions(R"({"user":")" + std::string(10 << 20, 'u') + "\"}"),
                                ErrorKind::InvalidRequest);
    assertEq(e.param, "user");
    assertContains(e.message, "options: user is 10485760 characters long");
    assertContains(e.message, "at most 256");
}

// What the last values could not keep is refused before the run, naming the parameter and the
// bound, instead of being sent and then dropped from the last values without a word.
void testParametersTheLastValuesCannotKeep() {
    const ProcedureSpec& spec = specOf(Procedure::Edit);
    RunParameters p;
    p.prompt = "a red balloon";
    p.model = "gpt-image-1";
    assertOk(checkParameterSizes(spec, p));

    RunParameters connection = p;
    connection.connection = std::string(4097, 'c');
    Error e = assertFails(checkParameterSizes(spec, connection), ErrorKind::InvalidRequest);
    assertEq(e.param, "connection");
    assertContains(e.message, "the parameter connection is 4097 bytes long; it takes at most "
                              "4096 bytes");

    RunParameters options = p;
    options.options.user = std::string((1 << 20), 'u');
    e = assertFails(checkParameterSizes(spec, options), ErrorKind::InvalidRequest);
    assertEq(e.param, "options");
    assertContains(e.message, "it takes at most 1.0 MB");

    // Each within its bound, together more than the last values keep.
    RunParameters together = p;
    together.prompt = std::string(120000, 'p');
    together.options.user = std::string(1000000, 'u');
    e = assertFails(checkParameterSizes(spec, together), ErrorKind::InvalidRequest);
    assertContains(e.message, "more than the 1.0 MB that the last values of a run can keep");
    // And what is accepted is kept: read back whole.
    RunParameters kept = p;
    kept.prompt = std::string(120000, 'p');
    kept.options.user = std::string(256, 'u');
    if (assertOk(checkParameterSizes(spec, kept))) {
        const std::string json = lastValuesToJson(spec, kept);
        g_assert_cmpuint(json.size() + 1, <=, kMaxLastValuesBytes);
        auto read = lastValuesFromJson(spec, json);
        if (assertOk(read)) {
            assertEq(read->prompt, kept.prompt);
            g_assert_true(read->options == kept.options);
        }
    }
}

// GIMP 3 takes the Generative submenu's mnemonic from the menu path: the entries that go there
// carry GIMP 3's label, whose word is the path's; the others keep their path as it is.
void testGimp3MenuPathsCarryTheMnemonic() {
    assertEq(menuWord("Generati_ve"), std::string("Generative"));
    assertEq(menuWord("_Generativ"), std::string("Generativ"));
    assertEq(menuWord("生成AI(_V)"), std::string("生成AI"));
    assertEq(menuWord("Generative"), std::string("Generative"));
    const std::optional<std::string> label = generativeMenu3Label();
    g_assert_true(label.has_value());
    assertEq(*label, std::string("G_enerative"));
    assertEq(menuPath3(specOf(Procedure::Edit)), std::string("<Image>/Filters/G_enerative"));
    assertEq(menuPath3(specOf(Procedure::Generate)), std::string("<Image>/Filters/G_enerative"));
    assertEq(menuPath3(specOf(Procedure::NewImage)),
             std::string(specOf(Procedure::NewImage).menuPath));
    assertEq(menuPath3(specOf(Procedure::Expand)), std::string(specOf(Procedure::Expand).menuPath));
}

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    for (const ProcedureSpec& spec : procedureSpecs()) {
        const std::string name = spec.name;
        g_test_add_data_func(("/procedures/table/" + name).c_str(), &spec,
                             testTablesMatchThePublicInterface);
        g_test_add_data_func(("/procedures/last-values/round-trip/" + name).c_str(), &spec,
                             testLastValuesRoundTrip);
    }
    g_test_add_func("/procedures/menu/gimp3-mnemonic", testGimp3MenuPathsCarryTheMnemonic);
    g_test_add_func("/procedures/arguments/edit", testEditArgumentsFillEveryFieldByPosition);
    g_test_add_func("/procedures/arguments/generate", testGenerateArgumentsFillStyleAndBackground);
    g_test_add_func("/procedures/arguments/expand", testExpandArgumentsFillTheMargins);
    g_test_add_func("/procedures/arguments/refused", testWrongCountOrTypeIsRefused);
    g_test_add_func("/procedures/last-values/unusable", testLastValuesThatCannotBeUsed);
    g_test_add_func("/procedures/arguments/option-fields-arrive-once", testOptionFieldsArriveOnce);
    g_test_add_func("/options/every-known-field", testOptionsReadEveryKnownField);
    g_test_add_func("/options/user-is-an-id", testUserOptionIsAnId);
    g_test_add_func("/procedures/sizes/what-the-last-values-cannot-keep",
                    testParametersTheLastValuesCannotKeep);
    for (const OptionsCase& c : kOptionsCases) {
        g_test_add_data_func((std::string("/options/to-json/") + c.name).c_str(), &c,
                             testOptionsToJsonRoundTrip);
    }
    for (const BadOption& bad : kBadOptions) {
        g_test_add_data_func((std::string("/options/refused/") + bad.json).c_str(), &bad,
                             testBadOptionIsNamed);
    }
    return g_test_run();
}
