// Presets from data/presets.json: the shipped presets are there and acceptable to the default
// model, and the reader refuses what it does not know, naming it.
#include "core/run/run_parameters.h"
#include "core/service/models.h"
#include "core/user/presets.h"
#include "core/util/data_files.h"
#include "test_util.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

// The presets of data/presets.json; if they cannot be read, the test fails and gets none.
static const std::vector<Preset>& shipped() {
    static const Result<std::vector<Preset>> loaded = loadDefaultPresets();
    static const std::vector<Preset> none;
    if (!loaded) {
        fail(IMAGEGEN_TEST_HERE, "cannot load the presets: " + loaded.error().message);
        return none;
    }
    return *loaded;
}

static const Preset* shippedPreset(const std::string& id) {
    const auto& all = shipped();
    auto it = std::find_if(all.begin(), all.end(), [&](const Preset& p) { return p.id == id; });
    return it == all.end() ? nullptr : &*it;
}

struct ShippedCase {
    const char* id;
    std::vector<Procedure> procedures;
};

static const ShippedCase kShipped[] = {
    {"remove-object", {Procedure::Edit}},
    {"replace-sky", {Procedure::Edit}},
    {"extend-background", {Procedure::Edit}},
    {"product-plain-background", {Procedure::Generate, Procedure::NewImage}},
    {"product-transparent-background", {Procedure::Generate, Procedure::NewImage}},
    {"change-clothing-colour", {Procedure::Edit}},
};

// Each shipped preset is there, applies where it should, and what it sets passes gpt-image-1's
// validation for every procedure it applies to (a preset must never lead to a refused request).
static void testShippedPreset(gconstpointer data) {
    const auto& c = *static_cast<const ShippedCase*>(data);
    const Preset* p = shippedPreset(c.id);
    if (p == nullptr) {
        fail(IMAGEGEN_TEST_HERE, std::string("no preset ") + c.id);
        return;
    }
    g_assert_false(p->title.empty());
    g_assert_cmpuint(p->prompt.size(), >, 100); // a real prompt, not a stub
    g_assert_true(p->procedures == c.procedures);
    for (Procedure procedure : {Procedure::Edit, Procedure::Generate, Procedure::NewImage}) {
        const bool expected =
            std::find(c.procedures.begin(), c.procedures.end(), procedure) != c.procedures.end();
        g_assert_cmpint(p->appliesTo(procedure), ==, expected);
        if (!expected) {
            continue;
        }
        RunParameters run;
        run.prompt = p->prompt;
        run.n = p->n;
        run.size = p->size;
        run.quality = p->quality;
        run.options.background = p->background;
        run.options.inputFidelity = p->inputFidelity;
        assertOk(validateFields(model("gpt-image-1"), requestFrom(procedure, run)));
    }
}

static void testRemoveObjectSettings() {
    const Preset* p = shippedPreset("remove-object");
    if (p == nullptr) {
        fail(IMAGEGEN_TEST_HERE, "no preset remove-object");
        return;
    }
    assertEq(p->title, "Remove the selected object");
    assertContains(p->prompt, "surrounding background");
    // More context than the default, so the model sees what to continue; a soft edge of a few
    // pixels.
    g_assert_cmpfloat(p->context, >, kDefaultContext);
    g_assert_cmpfloat(p->feather, >=, 2);
    g_assert_cmpfloat(p->feather, <=, 10);
    // The user's own size, quality and count stay.
    assertEq(p->size, "");
    assertEq(p->quality, "");
    g_assert_cmpint(p->n, ==, -1);
}

static void testProductSettings() {
    const Preset* plain = shippedPreset("product-plain-background");
    const Preset* clear = shippedPreset("product-transparent-background");
    if (plain == nullptr || clear == nullptr) {
        fail(IMAGEGEN_TEST_HERE, "a product preset is missing");
        return;
    }
    assertEq(plain->background, "opaque");
    assertEq(clear->background, "transparent");
    // Context and feather are edit settings: these presets leave them alone.
    g_assert_cmpfloat(plain->context, ==, -1);
    g_assert_cmpfloat(clear->feather, ==, -1);
}

// A preset a model cannot honour says why, for the dialog to grey it: a transparent background
// under dall-e-3 (which once applied it anyway).
static void testUnfitForTheModel() {
    const Preset* clear = shippedPreset("product-transparent-background");
    if (clear == nullptr) {
        fail(IMAGEGEN_TEST_HERE, "the transparent product preset is missing");
        return;
    }
    const auto unfit = presetUnfitFor(*clear, model("dall-e-3"));
    g_assert_true(unfit.has_value());
    assertEq(unfit.value_or(""), "dall-e-3 has no background choice");
    g_assert_false(presetUnfitFor(*clear, model("gpt-image-1")).has_value());
    Preset hd;
    hd.quality = "hd";
    assertEq(presetUnfitFor(hd, model("gpt-image-1")).value_or(""),
             "gpt-image-1 has no hd quality");
    Preset wide;
    wide.size = "1792x1024";
    assertEq(presetUnfitFor(wide, model("gpt-image-1")).value_or(""),
             "gpt-image-1 does not draw 1792x1024");
    for (const Preset& preset : shipped()) {
        g_assert_false(presetUnfitFor(preset, model("gpt-image-1")).has_value());
    }
}

static void testMinimalPreset() {
    auto presets = presetsFromJson(R"({"presets":[{"id":"a","title":"A","prompt":"p"}]})");
    if (!assertOk(presets) || !assertSize(*presets, 1)) {
        return;
    }
    const Preset& p = presets->front();
    assertEq(p.id, "a");
    g_assert_true(p.procedures.empty());
    g_assert_true(p.appliesTo(Procedure::NewImage));
    assertEq(p.size, "");
    assertEq(p.inputFidelity, "");
    g_assert_cmpint(p.n, ==, -1);
    g_assert_cmpfloat(p.context, ==, -1);
    g_assert_cmpfloat(p.feather, ==, -1);
}

static void testEveryField() {
    auto presets = presetsFromJson(R"({"comment":"c","presets":[{"id":"a","title":"A",
        "prompt":"p","procedures":["new-image","edit"],"size":"1536x1024","quality":"high",
        "background":"opaque","input_fidelity":"low","n":3,"context":0.4,"feather":6}]})");
    if (!assertOk(presets) || !assertSize(*presets, 1)) {
        return;
    }
    const Preset& p = presets->front();
    g_assert_true(p.procedures == (std::vector<Procedure>{Procedure::NewImage, Procedure::Edit}));
    assertEq(p.size, "1536x1024");
    assertEq(p.quality, "high");
    assertEq(p.background, "opaque");
    assertEq(p.inputFidelity, "low");
    g_assert_cmpint(p.n, ==, 3);
    g_assert_cmpfloat(p.context, ==, 0.4);
    g_assert_cmpfloat(p.feather, ==, 6); // a whole number is read as a number
}

struct RefusedCase {
    const char* name; // the test's path
    const char* json;
    const char* mentions; // what the error names
};

#define PRESET(fields) R"({"presets":[{"id":"x","title":"X","prompt":"p")" fields "}]}"

static const RefusedCase kRefused[] = {
    {"not-json", "{", "not valid"},
    {"no-list", R"({"comment":"c"})", "no \"presets\" list"},
    {"list-not-array", R"({"presets":{}})", "no \"presets\" list"},
    {"unknown-top-level-key", R"({"presets":[],"version":2})", "\"version\""},
    {"comment-not-text", R"({"comment":1,"presets":[]})", "comment"},
    {"preset-not-object", R"({"presets":["x"]})", "preset 1 is not an object"},
    {"unknown-key", PRESET(R"(,"contxt":0.5)"), "preset x has the unknown key \"contxt\""},
    {"id-not-text", R"({"presets":[{"id":7,"title":"X","prompt":"p"}]})", "id must be a string"},
    {"no-id", R"({"presets":[{"title":"X","prompt":"p"}]})", "preset 1 needs"},
    {"no-title", R"({"presets":[{"id":"x","prompt":"p"}]})", "preset x needs"},
    {"empty-prompt", R"({"presets":[{"id":"x","title":"X","prompt":""}]})", "preset x needs"},
    {"size-not-text", PRESET(R"(,"size":1024)"), "size must be a string"},
    {"size-not-wxh", PRESET(R"(,"size":"big")"), "size \"big\""},
    {"n-text", PRESET(R"(,"n":"2")"), "n must be a whole number"},
    {"n-zero", PRESET(R"(,"n":0)"), "n must be a whole number"},
    {"n-fraction", PRESET(R"(,"n":1.5)"), "n must be a whole number"},
    {"context-negative", PRESET(R"(,"context":-0.1)"), "context must be a number"},
    {"feather-text", PRESET(R"(,"feather":"4px")"), "feather must be a number"},
    {"procedures-not-list", PRESET(R"(,"procedures":"edit")"), "procedures must be a list"},
    {"procedure-unknown", PRESET(R"(,"procedures":["expand"])"), "procedures must be a list"},
    {"repeated-id", R"({"presets":[{"id":"x","title":"X","prompt":"p"},
                                   {"id":"x","title":"Y","prompt":"q"}]})",
     "\"x\" is used twice"},
};

static void testRefused(gconstpointer data) {
    const auto& c = *static_cast<const RefusedCase*>(data);
    const Error e = assertFails(presetsFromJson(c.json), ErrorKind::Configuration);
    assertContains(e.message, c.mentions);
}

static void testMissingFile() {
    const Error e = assertFails(loadPresets("/nonexistent/presets.json"), ErrorKind::Configuration);
    assertContains(e.message, "the presets");
    assertContains(e.message, "/nonexistent/presets.json");
}

// loadDefaultPresets looks where the model table is looked for: IMAGEGEN_DATADIR.
static void testDefaultFollowsDataDir() {
    GErrorPtr error;
    const GCharPtr dir(g_dir_make_tmp("imagegen-presets-XXXXXX", outPtr(error)));
    if (!dir) {
        fail(IMAGEGEN_TEST_HERE, error->message);
        return;
    }
    const std::string path = std::string(dir.get()) + "/presets.json";
    const std::string text = R"({"presets":[{"id":"only","title":"Only","prompt":"p"}]})";
    g_assert_true(g_file_set_contents(path.c_str(), text.c_str(), -1, nullptr));
    const std::string saved =
        g_getenv("IMAGEGEN_DATADIR") != nullptr ? g_getenv("IMAGEGEN_DATADIR") : std::string();
    g_setenv("IMAGEGEN_DATADIR", dir.get(), TRUE);
    assertEq(dataFilePath("presets.json"), path);
    auto presets = loadDefaultPresets();
    g_setenv("IMAGEGEN_DATADIR", saved.c_str(), TRUE);
    g_remove(path.c_str());
    g_rmdir(dir.get());
    if (assertOk(presets) && assertSize(*presets, 1)) {
        assertEq(presets->front().id, "only");
    }
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    for (const auto& c : kShipped) {
        g_test_add_data_func((std::string("/presets/shipped/") + c.id).c_str(), &c,
                             testShippedPreset);
    }
    g_test_add_func("/presets/shipped/remove-object-settings", testRemoveObjectSettings);
    g_test_add_func("/presets/shipped/product-settings", testProductSettings);
    g_test_add_func("/presets/read/minimal", testMinimalPreset);
    g_test_add_func("/presets/unfit-for-the-model", testUnfitForTheModel);
    g_test_add_func("/presets/read/every-field", testEveryField);
    for (const auto& c : kRefused) {
        g_test_add_data_func((std::string("/presets/refused/") + c.name).c_str(), &c, testRefused);
    }
    g_test_add_func("/presets/load/missing-file", testMissingFile);
    g_test_add_func("/presets/load/default-follows-datadir", testDefaultFollowsDataDir);
    return g_test_run();
}
