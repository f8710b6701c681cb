// The output-token estimate of a run, from the "output_tokens" tables of data/models.json, and
// the model table's strict reading of those tables; the money estimate from the dated prices of
// the same file, and their lenient reading (a bad price is no price, never an error).
#include "core/run/estimate.h"
#include "core/service/models.h"
#include "test_util.h"

#include <cmath>
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

struct CostCase {
    const char* name; // the test's path
    const char* model;
    CostRequest request;
    std::optional<std::pair<double, double>> expected; // low, high
};

static CostRequest costOf(Size size, const char* quality, int images, int partialImages = 0,
                          int requests = 1, size_t promptBytes = 0) {
    CostRequest r;
    r.size = size;
    r.quality = quality;
    r.images = images;
    r.partialImages = partialImages;
    r.requests = requests;
    r.promptBytes = promptBytes;
    return r;
}

// gpt-image-1: $40 per 1M image output tokens, $5 per 1M text input tokens; gpt-image-1-mini: $8
// and $2; dall-e-3 $0.04 a standard 1024x1024 image; dall-e-2 $0.016, $0.018, $0.02 by size.
static const CostCase kCostCases[] = {
    // 4,160 tokens x $40 / 1M: OpenAI's page gives $0.167 a high-quality square image.
    {"gpt-image-1/square-high-no-prompt", "gpt-image-1", costOf({1024, 1024}, "high", 1),
     std::pair{0.1664, 0.1664}},
    // A 100-byte prompt is at most 100 text tokens: up to $0.0005 more.
    {"gpt-image-1/prompt-bounds-the-high-end", "gpt-image-1",
     costOf({1024, 1024}, "high", 1, 0, 1, 100), std::pair{0.1664, 0.1669}},
    // Partial images are output tokens too: (6,208 + 2 x 100) x 3.
    {"gpt-image-1/three-with-partials", "gpt-image-1", costOf({1536, 1024}, "high", 3, 2),
     std::pair{0.76896, 0.76896}},
    // An expand of 2 tiles, 2 images each: 4 images, the prompt billed in each of 2 requests.
    {"gpt-image-1/expand-two-tiles", "gpt-image-1", costOf({1024, 1536}, "medium", 4, 0, 2, 50),
     std::pair{0.25344, 0.25394}},
    {"gpt-image-1-mini/square-low", "gpt-image-1-mini", costOf({1024, 1024}, "low", 1, 0, 1, 1000),
     std::pair{0.002176, 0.004176}},
    // No OpenAI page gives these prices, or no table gives the tokens.
    {"gpt-image-1.5/no-price", "gpt-image-1.5", costOf({1024, 1024}, "high", 1), std::nullopt},
    {"gpt-image-2/no-price", "gpt-image-2", costOf({1024, 1024}, "high", 1), std::nullopt},
    {"gpt-image-1/auto-quality", "gpt-image-1", costOf({1024, 1024}, "auto", 1), std::nullopt},
    {"gpt-image-1/default-quality", "gpt-image-1", costOf({1024, 1024}, "", 1), std::nullopt},
    // dall-e: so much an image, exact; the default quality is standard.
    {"dall-e-3/three-standard", "dall-e-3", costOf({1024, 1024}, "standard", 3, 0, 3, 400),
     std::pair{0.12, 0.12}},
    {"dall-e-3/default-quality", "dall-e-3", costOf({1024, 1024}, "", 1), std::pair{0.04, 0.04}},
    {"dall-e-3/hd-has-no-price", "dall-e-3", costOf({1024, 1024}, "hd", 1), std::nullopt},
    {"dall-e-3/wide-has-no-price", "dall-e-3", costOf({1792, 1024}, "standard", 1), std::nullopt},
    {"dall-e-2/two-512", "dall-e-2", costOf({512, 512}, "", 2), std::pair{0.036, 0.036}},
    {"dall-e-2/ten-256", "dall-e-2", costOf({256, 256}, "standard", 10), std::pair{0.16, 0.16}},
    {"dall-e-2/1024", "dall-e-2", costOf({1024, 1024}, "standard", 1), std::pair{0.02, 0.02}},
};

static void assertDollars(double got, double expected, const char* which) {
    if (std::fabs(got - expected) > 1e-9) {
        fail(IMAGEGEN_TEST_HERE, std::string(which) + ": expected $" + std::to_string(expected) +
                                     ", got $" + std::to_string(got));
    }
}

static void testCost(gconstpointer data) {
    const auto& c = *static_cast<const CostCase*>(data);
    const auto got = estimateCost(model(c.model), c.request);
    if (!c.expected) {
        if (got) {
            fail(IMAGEGEN_TEST_HERE, "expected no price, got $" + std::to_string(got->low));
        }
        return;
    }
    if (!got) {
        fail(IMAGEGEN_TEST_HERE, "expected a price, got none");
        return;
    }
    assertDollars(got->low, c.expected->first, "low");
    assertDollars(got->high, c.expected->second, "high");
    assertEq(got->asOf, "2026-12-06");
}

// The real table: dated, sourced from OpenAI's pages, and priced only where a page gives a price.
static void testPriceTable() {
    int priced = 0;
    for (const auto& m : catalog().models()) {
        if (!m.price) {
            continue;
        }
        ++priced;
        assertEq(m.price->asOf, "2026-12-06");
        assertContains(m.price->source, "https://developers.openai.com/");
        // A GPT Image model is priced by its tokens, a dall-e model by the image.
        if (m.isGptImage()) {
            g_assert_true(m.price->imageOutputPer1M > 0 && m.price->textInputPer1M > 0);
            g_assert_true(m.price->perImage.empty());
            g_assert_false(m.outputTokens.empty());
        } else {
            g_assert_true(m.price->perImage.size() == 1 &&
                          m.price->perImage.count("standard") == 1);
            g_assert_cmpfloat(m.price->imageOutputPer1M, ==, 0);
        }
    }
    g_assert_cmpint(priced, ==, 4);
    g_assert_cmpfloat(model("gpt-image-1").price->imageOutputPer1M, ==, 40.0);
    g_assert_cmpfloat(model("gpt-image-1-mini").price->imageOutputPer1M, ==, 8.0);
    g_assert_false(model("gpt-image-1.5").price.has_value());
    g_assert_false(model("gpt-image-2").price.has_value());
}

// A model table with one gpt-image model priced by `price`, dated by `prices`.
static std::string pricedWith(const std::string& price,
                              const std::string& prices = R"({"as_of":"2026-12-06"})") {
    return R"({"prices":)" + prices +
           R"(,"models":[{"name":"m","sizes":["auto","1024x1024"],"qualities":["auto","low"],)"
           R"("output_tokens":{"low":{"1024x1024":100}},"price":)" +
           price + "}]}";
}

static void testPriceIsRead() {
    auto catalog = ModelCatalog::fromJson(pricedWith(
        R"({"source":"https://example.invalid/","image_output_per_1m":10,"text_input_per_1m":1})",
        R"({"as_of":"2026-01-02","source":"elsewhere"})"));
    if (!assertOk(catalog)) {
        return;
    }
    const ModelCaps& m = catalog->models().front();
    g_assert_true(m.price.has_value());
    assertEq(m.price->asOf, "2026-01-02");
    assertEq(m.price->source, "https://example.invalid/");
    const auto cost = estimateCost(m, costOf({1024, 1024}, "low", 2, 0, 1, 10));
    g_assert_true(cost.has_value());
    assertDollars(cost->low, 0.002, "low");
    assertDollars(cost->high, 0.00201, "high");
    // A model's price without a source of its own takes the table's.
    auto sourced = ModelCatalog::fromJson(
        pricedWith(R"({"image_output_per_1m":10})", R"({"as_of":"2026-01-02","source":"s"})"));
    if (assertOk(sourced)) {
        assertEq(sourced->models().front().price->source, "s");
    }
}

struct BadPrice {
    const char* name; // the test's path
    const char* price;
    const char* prices;
};

static const BadPrice kBadPrices[] = {
    {"no-date", R"({"image_output_per_1m":40})", R"({"source":"s"})"},
    {"date-not-iso", R"({"image_output_per_1m":40})", R"({"as_of":"6 December 2026"})"},
    {"prices-not-an-object", R"({"image_output_per_1m":40})", R"("2026-12-06")"},
    {"other-currency", R"({"image_output_per_1m":40})",
     R"({"as_of":"2026-12-06","currency":"EUR"})"},
    {"price-not-an-object", R"(40)", R"({"as_of":"2026-12-06"})"},
    {"zero", R"({"image_output_per_1m":0})", R"({"as_of":"2026-12-06"})"},
    {"negative", R"({"image_output_per_1m":-40})", R"({"as_of":"2026-12-06"})"},
    {"text", R"({"image_output_per_1m":"40"})", R"({"as_of":"2026-12-06"})"},
    {"bad-text-price", R"({"image_output_per_1m":40,"text_input_per_1m":null})",
     R"({"as_of":"2026-12-06"})"},
    {"nothing-priced", R"({"text_input_per_1m":5})", R"({"as_of":"2026-12-06"})"},
    {"per-image-unknown-quality", R"({"per_image":{"hd":{"1024x1024":0.04}}})",
     R"({"as_of":"2026-12-06"})"},
    {"per-image-unknown-size", R"({"per_image":{"low":{"512x512":0.04}}})",
     R"({"as_of":"2026-12-06"})"},
    {"per-image-not-a-number", R"({"per_image":{"low":{"1024x1024":[1]}}})",
     R"({"as_of":"2026-12-06"})"},
    {"per-image-not-an-object", R"({"per_image":[0.04]})", R"({"as_of":"2026-12-06"})"},
    // Half good is no price: the good half could sit under the wrong key.
    {"per-image-half-good", R"({"per_image":{"low":{"1024x1024":0.04,"auto":0.04}}})",
     R"({"as_of":"2026-12-06"})"},
};

// A malformed price leaves the model without one, and the table loads: never an error.
static void testBadPrice(gconstpointer data) {
    const auto& c = *static_cast<const BadPrice*>(data);
    auto catalog = ModelCatalog::fromJson(pricedWith(c.price, c.prices));
    if (!assertOk(catalog)) {
        return;
    }
    const ModelCaps& m = catalog->models().front();
    g_assert_false(m.price.has_value());
    g_assert_false(estimateCost(m, costOf({1024, 1024}, "low", 1)).has_value());
    // The tokens are still known.
    g_assert_true(estimateOutputTokens(m, {1024, 1024}, "low", 1).has_value());
}

static void testDollarDecimals() {
    g_assert_cmpint(dollarDecimals(12.5), ==, 2);
    g_assert_cmpint(dollarDecimals(0.1664), ==, 2);
    g_assert_cmpint(dollarDecimals(0.1), ==, 2);
    g_assert_cmpint(dollarDecimals(0.0435), ==, 3);
    g_assert_cmpint(dollarDecimals(0.002176), ==, 4);
    g_assert_cmpint(dollarDecimals(0.00001), ==, 4);
    g_assert_cmpint(dollarDecimals(0), ==, 2);
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
    for (const auto& c : kCostCases) {
        g_test_add_data_func((std::string("/estimate/cost/") + c.name).c_str(), &c, testCost);
    }
    g_test_add_func("/estimate/prices/table", testPriceTable);
    g_test_add_func("/estimate/prices/read", testPriceIsRead);
    for (const auto& c : kBadPrices) {
        g_test_add_data_func((std::string("/estimate/prices/no-price/") + c.name).c_str(), &c,
                             testBadPrice);
    }
    g_test_add_func("/estimate/cost/decimals", testDollarDecimals);
    return g_test_run();
}
