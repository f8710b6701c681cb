// The results kept on disk per image (core/user/result_history.h): what is kept comes back whole,
// the limits drop the oldest and their files, the files are the user's alone, and a damaged,
// foreign or hostile folder gives fewer results, never a crash or a read outside the store.
#include "core/user/result_history.h"
#include "core/util/glib_ptr.h"
#include "temp_dir.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <utime.h>

#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

namespace {

// A result whose pixels depend on `seed`, so that each compares only with itself.
KeptResult result(const std::string& id, int seed, bool withMask = true) {
    KeptResult r;
    r.id = id;
    r.run = "run-" + id;
    r.created = 1'800'000'000 + seed;
    r.procedure = Procedure::Edit;
    r.layer.name = "Imagegen: a red kite " + std::to_string(seed);
    r.layer.bounds = {10 + seed, 20, 48, 32};
    r.layer.pixels = RgbaImage(48, 32);
    for (size_t i = 0; i < r.layer.pixels.pixels.size(); ++i) {
        r.layer.pixels.pixels[i] = static_cast<uint8_t>((i * 7 + static_cast<size_t>(seed)) % 251);
    }
    if (withMask) {
        r.layer.mask.resize(48 * 32);
        for (size_t i = 0; i < r.layer.mask.size(); ++i) {
            r.layer.mask[i] = static_cast<uint8_t>(i % 256);
        }
    }
    r.layer.parasite = R"({"prompt":"a red kite","model":"gpt-image-1"})";
    r.settings.prompt = "a red kite";
    r.settings.model = "gpt-image-1";
    r.settings.n = 2;
    r.settings.size = "1024x1024";
    r.settings.quality = "high";
    r.settings.context = 0.25;
    r.settings.feather = 4;
    r.settings.connection = "my server";
    r.settings.options.source = Options::kSourceVisible;
    r.settings.options.background = "opaque";
    r.usage = {true, 300, 200, 100, 20, 180};
    return r;
}

int modeOf(const std::string& path) {
    GStatBuf st;
    g_assert_cmpint(g_stat(path.c_str(), &st), ==, 0);
    return static_cast<int>(st.st_mode & 0777);
}

size_t filesIn(const std::string& folder) {
    size_t n = 0;
    GDir* dir = g_dir_open(folder.c_str(), 0, nullptr);
    if (dir == nullptr) {
        return 0;
    }
    while (g_dir_read_name(dir) != nullptr) {
        ++n;
    }
    g_dir_close(dir);
    return n;
}

void assertSame(const KeptResult& a, const KeptResult& b) {
    assertEq(a.id, b.id);
    assertEq(a.run, b.run);
    g_assert_cmpint(a.created, ==, b.created);
    g_assert_true(a.procedure == b.procedure);
    assertEq(a.layer.name, b.layer.name);
    g_assert_true(a.layer.bounds == b.layer.bounds);
    g_assert_true(a.layer.pixels.pixels == b.layer.pixels.pixels);
    g_assert_true(a.layer.mask == b.layer.mask);
    assertEq(a.layer.parasite, b.layer.parasite);
    assertEq(a.settings.prompt, b.settings.prompt);
    assertEq(a.settings.model, b.settings.model);
    g_assert_cmpint(a.settings.n, ==, b.settings.n);
    assertEq(a.settings.size, b.settings.size);
    assertEq(a.settings.quality, b.settings.quality);
    g_assert_cmpfloat(a.settings.context, ==, b.settings.context);
    g_assert_cmpfloat(a.settings.feather, ==, b.settings.feather);
    assertEq(a.settings.connection, b.settings.connection);
    g_assert_true(a.settings.options == b.settings.options);
    g_assert_cmpint(a.settings.left, ==, b.settings.left);
    g_assert_cmpint(a.settings.bottom, ==, b.settings.bottom);
    g_assert_true(a.usage.present == b.usage.present);
    g_assert_cmpint(a.usage.totalTokens, ==, b.usage.totalTokens);
    g_assert_cmpint(a.usage.imageTokens, ==, b.usage.imageTokens);
    g_assert_true(a.canvas == b.canvas);
    g_assert_true(a.original == b.original);
    g_assert_true(a.inserted == b.inserted);
}

const char* const kImage = "/home/me/Pictures/harbour.xcf";

// What is kept comes back whole, in order; the folder is 0700 and every file 0600.
void testRoundTrip() {
    const TempDir dir;
    const ResultHistory history(dir.file("results"));
    KeptResult expand = result("b-1", 2, false);
    expand.procedure = Procedure::Expand;
    expand.settings.left = 0;
    expand.settings.bottom = 64;
    expand.canvas = {300, 264};
    expand.original = {0, 0, 300, 200};
    const std::vector<KeptResult> kept{result("a-0", 1), expand};
    if (!assertOk(history.add(kImage, kept))) {
        return;
    }
    const auto loaded = history.load(kImage);
    if (!assertSize(loaded, 2)) {
        return;
    }
    assertSame(loaded[0], kept[0]);
    assertSame(loaded[1], kept[1]);
    const std::string folder = history.folderOf(kImage);
    g_assert_cmpint(modeOf(dir.file("results")), ==, 0700);
    g_assert_cmpint(modeOf(folder), ==, 0700);
    for (const char* name : {"index.json", "a-0.png", "a-0.mask.png", "b-1.png"}) {
        g_assert_cmpint(modeOf(folder + "/" + name), ==, 0600);
    }
    g_assert_cmpuint(filesIn(folder), ==, 4);
    // Another image has its own results.
    g_assert_cmpuint(history.load("/home/me/Pictures/other.xcf").size(), ==, 0);
    g_assert_cmpuint(history.load("image:1@4242").size(), ==, 0);
}

// Inserted is recorded, and an ID kept already is not kept twice.
void testMarkInserted() {
    const TempDir dir;
    const ResultHistory history(dir.file("results"));
    if (!assertOk(history.add(kImage, {result("a-0", 1), result("a-1", 2)})) ||
        !assertOk(history.markInserted(kImage, {"a-1", "not-kept"})) ||
        !assertOk(history.add(kImage, {result("a-1", 3)}))) {
        return;
    }
    const auto loaded = history.load(kImage);
    if (assertSize(loaded, 2)) {
        g_assert_false(loaded[0].inserted);
        g_assert_true(loaded[1].inserted);
        g_assert_true(loaded[1].layer.pixels.pixels == result("a-1", 2).layer.pixels.pixels);
    }
}

// Beyond the count, the oldest go, with their files.
void testCountLimit() {
    const TempDir dir;
    const ResultHistory history(dir.file("results"), {.perImage = 3});
    for (int i = 0; i < 5; ++i) {
        if (!assertOk(history.add(kImage, {result("r-" + std::to_string(i), i)}))) {
            return;
        }
    }
    const auto loaded = history.load(kImage);
    if (assertSize(loaded, 3)) {
        assertEq(loaded[0].id, "r-2");
        assertEq(loaded[2].id, "r-4");
    }
    g_assert_cmpuint(filesIn(history.folderOf(kImage)), ==, 1 + (3 * 2));
}

// Beyond the bytes of one image, its oldest go; beyond the bytes of all, the images written
// longest ago go whole, never the one being written.
void testByteLimits() {
    const TempDir dir;
    {
        const ResultHistory probe(dir.file("probe"));
        if (!assertOk(probe.add(kImage, {result("p-0", 0)}))) {
            return;
        }
    }
    GStatBuf st;
    const std::string probeFolder = ResultHistory(dir.file("probe")).folderOf(kImage);
    g_assert_cmpint(g_stat((probeFolder + "/p-0.png").c_str(), &st), ==, 0);
    const auto one = static_cast<uint64_t>(st.st_size);
    g_assert_cmpint(g_stat((probeFolder + "/p-0.mask.png").c_str(), &st), ==, 0);
    const uint64_t perResult = one + static_cast<uint64_t>(st.st_size);

    const ResultHistory perImage(dir.file("a"), {.bytesPerImage = (2 * perResult) + 10});
    for (int i = 0; i < 4; ++i) {
        if (!assertOk(perImage.add(kImage, {result("r-" + std::to_string(i), 0)}))) {
            return;
        }
    }
    const auto loaded = perImage.load(kImage);
    if (assertSize(loaded, 2)) {
        assertEq(loaded[0].id, "r-2");
    }

    // Room for two and a half images of one result each (index included): a third drops the
    // first written.
    const uint64_t folder =
        perResult + static_cast<uint64_t>([&] {
            GStatBuf index;
            g_assert_cmpint(g_stat((probeFolder + "/index.json").c_str(), &index), ==, 0);
            return index.st_size;
        }());
    const ResultHistory total(dir.file("b"), {.totalBytes = (2 * folder) + (folder / 2)});
    for (const char* image : {"first.xcf", "second.xcf", "third.xcf"}) {
        if (!assertOk(total.add(image, {result("r-0", 0)}))) {
            return;
        }
        // The index's time orders the images; a second's tick makes the order certain.
        const std::string index = total.folderOf(image) + "/index.json";
        static long tick = 1'700'000'000;
        struct utimbuf times {
            tick, tick
        };
        ++tick;
        g_utime(index.c_str(), &times);
    }
    g_assert_cmpuint(total.load("first.xcf").size(), ==, 0);
    g_assert_false(g_file_test(total.folderOf("first.xcf").c_str(), G_FILE_TEST_EXISTS));
    g_assert_cmpuint(total.load("second.xcf").size(), ==, 1);
    g_assert_cmpuint(total.load("third.xcf").size(), ==, 1);
}

void writeText(const std::string& path, const std::string& text) {
    g_assert_true(g_file_set_contents(path.c_str(), text.c_str(), -1, nullptr));
}

// A damaged or foreign index gives no results (and a later add starts afresh); a hostile entry
// reads nothing outside the folder; a missing or wrong-sized PNG drops only its result.
void testDamagedOrForeign() {
    const TempDir dir;
    const ResultHistory history(dir.file("results"));
    if (!assertOk(history.add(kImage, {result("a-0", 1), result("a-1", 2)}))) {
        return;
    }
    const std::string folder = history.folderOf(kImage);
    const std::string index = folder + "/index.json";
    GCharPtr good;
    g_assert_true(g_file_get_contents(index.c_str(), outPtr(good), nullptr, nullptr));
    const std::string text = good.get();

    for (
        const std::string& bad : {
            std::string("{not json"),
            std::string("[]"),
            std::string(""),
            std::string(R"({"format":"imagegen-results","version":1,"image":"x","results":[]})"),
            std::string(R"({"format":"other","version":1,"image":")") + kImage +
                R"(","results":[]})",
            std::string(R"({"format":"imagegen-results","version":99,"image":")") + kImage +
                R"(","results":[]})",
            std::string(R"({"format":"imagegen-results","version":1,"image":")") + kImage +
                R"(","results":[1,"x",{"id":"../../etc/passwd","procedure":"edit","bounds":[0,0,48,32]},)"
                R"({"id":"a-0","procedure":"edit","bounds":[0,0,1,1]},)"
                R"({"id":"a-1","procedure":"nonsense","bounds":[0,0,48,32]},)"
                R"({"id":"a-1","procedure":"expand","bounds":[12,20,48,32]}]})",
        }) {
        writeText(index, bad);
        g_assert_cmpuint(history.load(kImage).size(), ==, 0);
    }
    // Another image's index copied here (or a hash alike): not this image's results.
    writeText(index, text);
    g_assert_cmpuint(history.load(kImage).size(), ==, 2);
    g_assert_cmpuint(history.load("image:7@99").size(), ==, 0);

    // Pixels gone, or not the size of their place: that result alone is left out.
    g_unlink((folder + "/a-0.png").c_str());
    writeText(folder + "/a-1.mask.png", "not a png");
    g_assert_cmpuint(history.load(kImage).size(), ==, 0);

    // A FIFO for an index is not read (it would block).
    g_unlink(index.c_str());
    g_assert_cmpint(mkfifo(index.c_str(), 0600), ==, 0);
    g_assert_cmpuint(history.load(kImage).size(), ==, 0);
    g_unlink(index.c_str());

    // Damaged, then kept afresh: the new result is there, the old files are gone.
    writeText(index, "{damaged");
    if (assertOk(history.add(kImage, {result("c-0", 3)}))) {
        const auto loaded = history.load(kImage);
        if (assertSize(loaded, 1)) {
            assertSame(loaded[0], result("c-0", 3));
        }
        g_assert_false(g_file_test((folder + "/a-1.png").c_str(), G_FILE_TEST_EXISTS));
    }
}

// A store that cannot write says so, naming the folder.
void testWriteFailure() {
    const TempDir dir;
    writeText(dir.file("file"), "x");
    const ResultHistory history(dir.file("file") + "/results");
    auto added = history.add(kImage, {result("a-0", 1)});
    if (!added) {
        assertContains(added.error().message, dir.file("file"));
    } else {
        fail(IMAGEGEN_TEST_HERE, "a store under a file kept results");
    }
}

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/result-history/round-trip", testRoundTrip);
    g_test_add_func("/result-history/mark-inserted", testMarkInserted);
    g_test_add_func("/result-history/limits/count", testCountLimit);
    g_test_add_func("/result-history/limits/bytes", testByteLimits);
    g_test_add_func("/result-history/damaged-or-foreign", testDamagedOrForeign);
    g_test_add_func("/result-history/write-failure", testWriteFailure);
    return g_test_run();
}
