// The output-token estimate of a run, from the "output_tokens" tables of data/models.json, and
// the model table's strict reading of those tables.
#include "core/run/estimate.h"
#include "core/service/models.h"
#include "test_util.h"

#include <optional>
#include <string>

using namespace imagegen;
using namespace imagegen::test;

struct EstimateCase {
    const char* name; // the test's path
    const char* model;
    Size size;
    const char* quality;
    int n;
    int partialImages;
    std::optional<TokenEstimate> expected;
};

// The figures of OpenAI's image generation guide ("Cost and latency"), for the GPT Image models
// before gpt-image-2; 100 more output tokens per streamed partial image.
static const EstimateCase kEstimateCases[] = {
    {"gpt-image-1/square-low", "gpt-image-1", {1024, 1024}, "low", 1, 0, TokenEstimate{272, 272}},
    {"gpt-image-1/portrait-medium-default-n",
     "gpt-image-1",
     {1024, 1536},
     "medium",
     -1,
     0,
     TokenEstimate{1584, 1584}},
    {"gpt-image-1/landscape-high-3",
     "gpt-image-1",
     {1536, 1024},
     "high",
     3,
     0,
     TokenEstimate{6208, 18624}},
    {"gpt-image-1/portrait-high-10",
     "gpt-image-1",
     {1024, 1536},
     "high",
     10,
     0,
     TokenEstimate{6240, 62400}},
    {"gpt-image-1/two-partials-each",
     "gpt-image-1",
     {1024, 1024},
     "low",
     2,
     2,
     TokenEstimate{472, 944}},
    {"gpt-image-1.5/landscape-low",
     "gpt-image-1.5",
     {1536, 1024},
     "low",
     1,
     0,
     TokenEstimate{400, 400}},
    {"gpt-image-1-mini/square-medium-2",
     "gpt-image-1-mini",
     {1024, 1024},
     "medium",
     2,
     0,
     TokenEstimate{1056, 2112}},
    // No source says what "auto" quality costs, nor gives figures for these.
    {"gpt-image-1/auto-quality", "gpt-image-1", {1024, 1024}, "auto", 1, 0, std::nullopt},
    {"gpt-image-1/no-quality", "gpt-image-1", {1024, 1024}, "", 1, 0, std::nullopt},
    {"gpt-image-1/unlisted-size", "gpt-image-1", {512, 512}, "low", 1, 0, std::nullopt},
    {"gpt-image-1/swapped-size", "gpt-image-1", {1536, 1536}, "high", 1, 0, std::nullopt},
    {"gpt-image-2/no-table", "gpt-image-2", {1024, 1024}, "low", 1, 0, std::nullopt},
    {"dall-e-3/no-table", "dall-e-3", {1024, 1024}, "standard", 1, 0, std::nullopt},
    {"dall-e-2/no-table", "dall-e-2", {512, 512}, "standard", 1, 0, std::nullopt},
};

static void testEstimate(gconstpointer data) {
    const auto& c = *static_cast<const EstimateCase*>(data);
    const auto got = estimateOutputTokens(model(c.model), c.size, c.quality, c.n, c.partialImages);
    if (!c.expected) {
        if (got) {
            fail(IMAGEGEN_TEST_HERE,
                 "expected no estimate, got " + std::to_string(got->total) + " tokens");
        }
        return;
    }
    if (!got) {
        fail(IMAGEGEN_TEST_HERE, "expected an estimate, got none");
        return;
    }
    g_assert_cmpint(got->perImage, ==, c.expected->perImage);
    g_assert_cmpint(got->total, ==, c.expected->total);
}

// Each table in models.json covers every quality but auto and every listed size but auto: a
// model with a table never leaves the dialog without an estimate for a fixed size and quality.
static void testTablesAreComplete() {
    int modelsWithTables = 0;
    for (const auto& m : catalog().models()) {
        if (m.outputTokens.empty()) {
            continue;
        }
        ++modelsWithTables;
        for (const auto& quality : m.qualities) {
            for (const auto& size : m.sizes) {
                if (quality == "auto" || size == "auto") {
                    continue;
                }
                const auto got = estimateOutputTokens(m, *parseSize(size), quality, 1);
                if (!got) {
                    std::string what = m.name;
                    what.append(" has no figure for ").append(quality).append(" ").append(size);
                    fail(IMAGEGEN_TEST_HERE, what);
                }
            }
        }
    }
    g_assert_cmpint(modelsWithTables, ==, 3);
}

// A model table with one gpt-image model whose output_tokens is `table`.
static std::string tableWith(const std::string& table) {
    return R"({"models":[{"name":"m","sizes":["auto","1024x1024","1536x1024"],)"
           R"("qualities":["auto","low","high"],"output_tokens":)" +
           table + "}]}";
}

static void testTableIsRead() {
    auto catalog = ModelCatalog::fromJson(
        tableWith(R"({"low":{"1024x1024":10,"1536x1024":15},"auto":{"1024x1024":99}})"));
    if (!assertOk(catalog)) {
        return;
    }
    const ModelCaps& m = catalog->models().front();
    g_assert_cmpint(estimateOutputTokens(m, {1536, 1024}, "low", 2)->total, ==, 30);
    // A table that lists "auto" is believed.
    g_assert_cmpint(estimateOutputTokens(m, {1024, 1024}, "auto", 1)->total, ==, 99);
    g_assert_false(estimateOutputTokens(m, {1024, 1024}, "high", 1).has_value());
}

struct BadTable {
    const char* name; // the test's path
    const char* table;
    const char* mentions; // what the error names
};

static const BadTable kBadTables[] = {
    {"not-an-object", R"([272])", "not an object of qualities"},
    {"unknown-quality", R"({"ultra":{"1024x1024":1}})", "\"ultra\""},
    {"quality-not-an-object", R"({"low":272})", "\"low\""},
    {"size-not-wxh", R"({"low":{"square":1}})", "\"square\""},
    {"size-not-offered", R"({"low":{"1024x1536":1}})", "\"1024x1536\""},
    {"size-auto", R"({"low":{"auto":1}})", "\"auto\""},
    {"zero", R"({"low":{"1024x1024":0}})", "positive whole number"},
    {"negative", R"({"low":{"1024x1024":-5}})", "positive whole number"},
    {"fraction", R"({"low":{"1024x1024":2.5}})", "positive whole number"},
    {"text", R"({"low":{"1024x1024":"272"}})", "positive whole number"},
};

static void testBadTable(gconstpointer data) {
    const auto& c = *static_cast<const BadTable*>(data);
    const Error e =
        assertFails(ModelCatalog::fromJson(tableWith(c.table)), ErrorKind::Configuration);
    assertContains(e.message, "output_tokens of m");
    assertContains(e.message, c.mentions);
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    for (const auto& c : kEstimateCases) {
        g_test_add_data_func((std::string("/estimate/tokens/") + c.name).c_str(), &c, testEstimate);
    }
    g_test_add_func("/estimate/tables/complete", testTablesAreComplete);
    g_test_add_func("/estimate/tables/read", testTableIsRead);
    for (const auto& c : kBadTables) {
        g_test_add_data_func((std::string("/estimate/tables/refused/") + c.name).c_str(), &c,
                             testBadTable);
    }
    return g_test_run();
}
