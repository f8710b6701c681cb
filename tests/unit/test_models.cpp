// Model capabilities from data/models.json and the validation of requests against them.
#include "core/service/models.h"
#include "test_util.h"

#include <string>

using namespace imagegen;
using namespace imagegen::test;

static ImageRequest generation(const char* modelName, const char* prompt = "a red fox") {
    ImageRequest r;
    r.model = modelName;
    r.prompt = prompt;
    return r;
}

static const char* const kModelNames[] = {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5",
                                          "gpt-image-2", "dall-e-3",         "dall-e-2"};

static void testCatalogHasModel(gconstpointer data) {
    const auto* name = static_cast<const char*>(data);
    g_assert_nonnull(catalog().find(name));
}

static void testCatalogLoadsEveryModel() {
    g_assert_cmpint(model("dall-e-3").promptMax, ==, 4000);
    g_assert_cmpint(model("dall-e-2").promptMax, ==, 1000);
    g_assert_cmpint(model("gpt-image-1").promptMax, ==, 32000);
    g_assert_cmpint(model("gpt-image-1").maxInputImages, ==, 16);
    g_assert_false(model("gpt-image-1-mini").inputFidelity);
    g_assert_true(model("gpt-image-1.5").inputFidelity);
    g_assert_true(model("gpt-image-2").freeSizes.has_value());
    g_assert_false(model("gpt-image-1").freeSizes.has_value());
    g_assert_false(model("dall-e-3").edits);
    g_assert_true(model("dall-e-3").style);
}

static void testCatalogRejectsBrokenTables() {
    assertFails(ModelCatalog::fromJson("{"), ErrorKind::Configuration);
    assertFails(ModelCatalog::fromJson("{\"models\": []}"), ErrorKind::Configuration);
    assertFails(ModelCatalog::fromJson("{\"models\": [{\"sizes\": []}]}"),
                ErrorKind::Configuration);
    assertFails(ModelCatalog::fromFile("/nonexistent/models.json"), ErrorKind::Configuration);
}

static void testFamilyOfDeployments() {
    assertEq(catalog().familyOf("gpt-image-1").name, "gpt-image-1");
    assertEq(catalog().familyOf("prod-gpt-image-1-mini-eu").name, "gpt-image-1-mini");
    assertEq(catalog().familyOf("my-gpt-image-1.5").name, "gpt-image-1.5");
    assertEq(catalog().familyOf("Dall-E-3-team").name, "dall-e-3");
    assertEq(catalog().familyOf("dalle3").name, "dall-e-3");
    assertEq(catalog().familyOf("gpt-image-2-2026-04-21").name, "gpt-image-2");
    // Nothing recognisable: taken as gpt-image-1.
    assertEq(catalog().familyOf("images-prod").name, "gpt-image-1");
}

static void testSizeParsing() {
    g_assert_true(parseSize("1536x1024") == (Size{1536, 1024}));
    g_assert_false(parseSize("auto").has_value());
    g_assert_false(parseSize("1536x").has_value());
    g_assert_false(parseSize("1536x1024px").has_value());
    g_assert_false(parseSize("0x1024").has_value());
    assertEq(formatSize({1024, 1792}), "1024x1792");
    assertEq(joinAlternatives({"a"}), "a");
    assertEq(joinAlternatives({"a", "b"}), "a or b");
    assertEq(joinAlternatives({"a", "b", "c"}), "a, b or c");
}

// Only plain digits, "x", plain digits: sscanf took a sign, spaces and overflowing figures
// ("99999999999x1024" became 1215752191x1024), and a free-size model then sent that raw text.
static void testSizeParsingIsStrict() {
    for (const char* bad :
         {" 1024x1024", "+1024x1024", "1024x 1024", "1024x+1024", "1024 x1024", "1024x1024 ",
          "-1024x1024", "99999999999x1024", "1024x99999999999", "2147483648x1024", "01024x1024",
          "1024X1024", "x1024", "1024x1024x", "", "0x0"}) {
        if (parseSize(bad)) {
            g_error("parseSize accepted \"%s\"", bad);
        }
    }
    g_assert_true(parseSize("1x1") == (Size{1, 1}));
    g_assert_true(parseSize("2147483647x1024") == (Size{2147483647, 1024}));
    const ModelCaps& free = model("gpt-image-2");
    g_assert_true(free.offersSize("1024x1024"));
    g_assert_false(free.offersSize("+1024x1024"));
    g_assert_false(free.offersSize(" 1024x1024"));
    g_assert_false(free.offersSize("1024x 1024"));
    ImageRequest r = generation("gpt-image-2");
    r.size = "+1024x1024";
    assertFails(validateRequest(free, r), ErrorKind::InvalidRequest);
}

static void testSizeMessageNamesAlternatives() {
    ImageRequest r = generation("dall-e-3");
    r.size = "1536x1024";
    const Error e = assertFails(validateRequest(model("dall-e-3"), r), ErrorKind::InvalidRequest);
    assertEq(e.message,
             "size 1536x1024 is not offered by dall-e-3: use 1024x1024, 1792x1024 or 1024x1792");
    assertEq(e.param, "size");
    r.size = "1792x1024";
    assertOk(validateRequest(model("dall-e-3"), r));
}

static void testFreeSizes() {
    const ModelCaps& m = model("gpt-image-2");
    g_assert_true(m.offersSize("1536x864"));
    g_assert_true(m.offersSize("3840x2160"));
    g_assert_true(m.offersSize("auto"));
    g_assert_false(m.offersSize("1530x864"));  // not a multiple of 16
    g_assert_false(m.offersSize("3200x1024")); // aspect wider than 3:1
    g_assert_false(m.offersSize("3856x2160")); // edge above 3840
    g_assert_false(m.offersSize("3840x2176")); // more pixels than 3840x2160
    g_assert_false(model("gpt-image-1").offersSize("1536x864"));
    ImageRequest r = generation("gpt-image-2");
    r.size = "1530x864";
    const Error e = assertFails(validateRequest(m, r), ErrorKind::InvalidRequest);
    assertContains(e.message, "multiples of 16");
}

static void testPromptLimits() {
    ImageRequest r = generation("dall-e-3", "");
    assertContains(
        assertFails(validateRequest(model("dall-e-3"), r), ErrorKind::InvalidRequest).message,
        "empty");
    r.prompt = std::string(4000, 'a');
    assertOk(validateRequest(model("dall-e-3"), r));
    r.prompt = std::string(4001, 'a');
    const Error e = assertFails(validateRequest(model("dall-e-3"), r), ErrorKind::InvalidRequest);
    assertEq(e.message, "the prompt is 4001 characters long; dall-e-3 takes at most 4000");
    // Characters, not bytes: 1000 two-byte characters fit dall-e-2's limit.
    r.prompt.clear();
    for (int i = 0; i < 1000; ++i) {
        r.prompt += "é";
    }
    assertOk(validateRequest(model("dall-e-2"), r));
    r.prompt = std::string(32001, 'a');
    assertFails(validateRequest(model("gpt-image-1"), r), ErrorKind::InvalidRequest);
}

struct FieldRule {
    const char* name; // with the model, the test's path
    const char* model;
    void (*set)(ImageRequest&);
    const char* param; // nullptr: accepted
};

static const FieldRule kFieldRules[] = {
    {"n-10", "gpt-image-1", [](ImageRequest& r) { r.n = 10; }, nullptr},
    {"n-11", "gpt-image-1", [](ImageRequest& r) { r.n = 11; }, "n"},
    {"n-0", "gpt-image-1", [](ImageRequest& r) { r.n = 0; }, "n"},
    {"n-3-is-a-plan", "dall-e-3", [](ImageRequest& r) { r.n = 3; }, nullptr},
    {"quality-high", "gpt-image-1", [](ImageRequest& r) { r.quality = "high"; }, nullptr},
    {"quality-hd", "gpt-image-1", [](ImageRequest& r) { r.quality = "hd"; }, "quality"},
    {"quality-hd", "dall-e-3", [](ImageRequest& r) { r.quality = "hd"; }, nullptr},
    {"quality-high", "dall-e-3", [](ImageRequest& r) { r.quality = "high"; }, "quality"},
    {"style-natural", "dall-e-3", [](ImageRequest& r) { r.style = "natural"; }, nullptr},
    {"style-natural", "gpt-image-1", [](ImageRequest& r) { r.style = "natural"; }, "style"},
    {"style-cartoon", "dall-e-3", [](ImageRequest& r) { r.style = "cartoon"; }, "style"},
    {"response-format-url", "gpt-image-1", [](ImageRequest& r) { r.responseFormat = "url"; },
     "response_format"},
    {"response-format-url", "dall-e-3", [](ImageRequest& r) { r.responseFormat = "url"; }, nullptr},
    {"background-transparent", "gpt-image-1", [](ImageRequest& r) { r.background = "transparent"; },
     nullptr},
    {"transparent-jpeg", "gpt-image-1",
     [](ImageRequest& r) {
         r.background = "transparent";
         r.outputFormat = "jpeg";
     },
     "background"},
    {"transparent-webp", "gpt-image-1",
     [](ImageRequest& r) {
         r.background = "transparent";
         r.outputFormat = "webp";
     },
     nullptr},
    {"background-opaque", "dall-e-3", [](ImageRequest& r) { r.background = "opaque"; },
     "background"},
    {"jpeg-compression-80", "gpt-image-1",
     [](ImageRequest& r) {
         r.outputFormat = "jpeg";
         r.outputCompression = 80;
     },
     nullptr},
    {"compression-without-format", "gpt-image-1", [](ImageRequest& r) { r.outputCompression = 80; },
     "output_compression"},
    {"jpeg-compression-101", "gpt-image-1",
     [](ImageRequest& r) {
         r.outputFormat = "jpeg";
         r.outputCompression = 101;
     },
     "output_compression"},
    {"output-format-gif", "gpt-image-1", [](ImageRequest& r) { r.outputFormat = "gif"; },
     "output_format"},
    {"moderation-low", "gpt-image-1", [](ImageRequest& r) { r.moderation = "low"; }, nullptr},
    {"moderation-none", "gpt-image-1", [](ImageRequest& r) { r.moderation = "none"; },
     "moderation"},
    {"stream-2-partials", "gpt-image-1",
     [](ImageRequest& r) {
         r.stream = true;
         r.partialImages = 2;
     },
     nullptr},
    {"stream-4-partials", "gpt-image-1",
     [](ImageRequest& r) {
         r.stream = true;
         r.partialImages = 4;
     },
     "partial_images"},
    {"partials-without-stream", "gpt-image-1", [](ImageRequest& r) { r.partialImages = 2; },
     "partial_images"},
    {"stream", "dall-e-3", [](ImageRequest& r) { r.stream = true; }, "stream"},
    {"input-fidelity-in-a-generation", "gpt-image-1",
     [](ImageRequest& r) { r.inputFidelity = "high"; }, "input_fidelity"},
};

static void testFieldRule(gconstpointer data) {
    const auto& c = *static_cast<const FieldRule*>(data);
    ImageRequest r = generation(c.model);
    c.set(r);
    Status s = validateRequest(model(c.model), r);
    if (c.param == nullptr) {
        assertOk(s);
    } else {
        const Error e = assertFails(s, ErrorKind::InvalidRequest);
        assertEq(e.param, c.param);
    }
}

static InputImage png(int w, int h, size_t bytes = 100) {
    InputImage image;
    image.bytes = std::string(bytes, 'x');
    image.width = w;
    image.height = h;
    return image;
}

static void testEditRules() {
    ImageRequest r = generation("gpt-image-1");
    r.operation = Operation::Edit;
    r.images = {png(1024, 1024)};
    r.mask = png(1024, 1024);
    r.inputFidelity = "high";
    assertOk(validateRequest(model("gpt-image-1"), r));
    // mini has no input_fidelity
    assertFails(validateRequest(model("gpt-image-1-mini"), r), ErrorKind::InvalidRequest);
    r.inputFidelity.clear();
    assertOk(validateRequest(model("gpt-image-1-mini"), r));

    const Error dalle3 =
        assertFails(validateRequest(model("dall-e-3"), r), ErrorKind::InvalidRequest);
    assertContains(dalle3.message, "does not edit");

    ImageRequest noImage = r;
    noImage.images.clear();
    assertFails(validateRequest(model("gpt-image-1"), noImage), ErrorKind::InvalidRequest);

    ImageRequest many = r;
    many.images.assign(16, png(1024, 1024));
    assertOk(validateRequest(model("gpt-image-1"), many));
    many.images.push_back(png(1024, 1024));
    const Error tooMany =
        assertFails(validateRequest(model("gpt-image-1"), many), ErrorKind::InvalidRequest);
    assertEq(tooMany.message, "gpt-image-1 takes at most 16 input images, not 17");

    ImageRequest wrongMask = r;
    wrongMask.mask = png(1024, 1536);
    const Error m =
        assertFails(validateRequest(model("gpt-image-1"), wrongMask), ErrorKind::InvalidRequest);
    assertEq(m.param, "mask");
    assertContains(m.message, "same size");

    ImageRequest bigMask = r;
    bigMask.mask = png(1024, 1024, 4 * 1024 * 1024 + 1);
    assertFails(validateRequest(model("gpt-image-1"), bigMask), ErrorKind::InvalidRequest);

    ImageRequest octet = r;
    octet.images[0].mimeType = "application/octet-stream";
    assertFails(validateRequest(model("gpt-image-1"), octet), ErrorKind::InvalidRequest);

    ImageRequest dalle2 = r;
    dalle2.images = {png(512, 512)};
    dalle2.mask = png(512, 512);
    assertOk(validateRequest(model("dall-e-2"), dalle2));
    dalle2.images = {png(512, 256)};
    dalle2.mask = png(512, 256);
    assertContains(
        assertFails(validateRequest(model("dall-e-2"), dalle2), ErrorKind::InvalidRequest).message,
        "square");
    dalle2.images = {png(512, 512, 4 * 1024 * 1024 + 1)};
    dalle2.mask = png(512, 512);
    assertFails(validateRequest(model("dall-e-2"), dalle2), ErrorKind::InvalidRequest);

    ImageRequest styled = r;
    styled.style = "vivid";
    assertFails(validateRequest(model("gpt-image-1"), styled), ErrorKind::InvalidRequest);
}

static void testFieldsBeforeImages() {
    ImageRequest r = generation("gpt-image-1", "");
    r.operation = Operation::Edit;
    // No image yet: the fields are judged alone, so the empty prompt is what is refused.
    assertEq(assertFails(validateFields(model("gpt-image-1"), r), ErrorKind::InvalidRequest).param,
             "prompt");
    r.prompt = "p";
    assertOk(validateFields(model("gpt-image-1"), r));
    assertEq(assertFails(validateRequest(model("gpt-image-1"), r), ErrorKind::InvalidRequest).param,
             "image");
    assertEq(assertFails(validateFields(model("dall-e-3"), r), ErrorKind::InvalidRequest).param,
             "model");
}

static void testPlans() {
    ImageRequest r = generation("dall-e-3");
    r.n = 3;
    auto plan = planRequests(model("dall-e-3"), r);
    assertSize(plan, 3);
    for (const auto& p : plan) {
        g_assert_cmpint(p.n, ==, -1); // one image each, n left out
        assertEq(p.prompt, "a red fox");
    }
    r.model = "gpt-image-1";
    r.n = 3;
    plan = planRequests(model("gpt-image-1"), r);
    if (assertSize(plan, 1)) {
        g_assert_cmpint(plan[0].n, ==, 3);
    }
    r.n = -1;
    g_assert_cmpuint(planRequests(model("dall-e-3"), r).size(), ==, 1);
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    for (const char* name : kModelNames) {
        g_test_add_data_func((std::string("/models/catalog/has/") + name).c_str(), name,
                             testCatalogHasModel);
    }
    g_test_add_func("/models/catalog/loads-every-model", testCatalogLoadsEveryModel);
    g_test_add_func("/models/catalog/rejects-broken-tables", testCatalogRejectsBrokenTables);
    g_test_add_func("/models/catalog/family-of-deployments", testFamilyOfDeployments);
    g_test_add_func("/models/size/parsing", testSizeParsing);
    g_test_add_func("/models/size/parsing-is-strict", testSizeParsingIsStrict);
    g_test_add_func("/models/validate/size-message", testSizeMessageNamesAlternatives);
    g_test_add_func("/models/validate/free-sizes", testFreeSizes);
    g_test_add_func("/models/validate/prompt-limits", testPromptLimits);
    for (const auto& rule : kFieldRules) {
        g_test_add_data_func(
            (std::string("/models/validate/field-rules/") + rule.model + "/" + rule.name).c_str(),
            &rule, testFieldRule);
    }
    g_test_add_func("/models/validate/edit-rules", testEditRules);
    g_test_add_func("/models/validate/fields-before-images", testFieldsBeforeImages);
    g_test_add_func("/models/plan/one-image-models", testPlans);
    return g_test_run();
}
