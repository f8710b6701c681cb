// The prompt history: recency order, duplicates and blanks, the cap, the Unicode-aware search,
// and the file it lives in (atomic save, a missing or damaged file read as empty).
#include "core/user/prompt_history.h"
#include "core/util/glib_ptr.h"
#include "temp_dir.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

using Prompts = std::vector<std::string>;

static std::string joined(const Prompts& prompts) {
    std::string out;
    for (const auto& p : prompts) {
        out += (out.empty() ? "" : " | ") + p;
    }
    return out;
}

static PromptHistory historyOf(const Prompts& oldestFirst) {
    PromptHistory h;
    for (const auto& p : oldestFirst) {
        h.add(p);
    }
    return h;
}

static void testMostRecentFirst() {
    const PromptHistory h = historyOf({"a fox", "a cat", "a dog"});
    assertEq(joined(h.entries()), "a dog | a cat | a fox");
}

static void testRepeatMovesToFront() {
    PromptHistory h = historyOf({"a fox", "a cat", "a dog"});
    h.add("a fox");
    assertEq(joined(h.entries()), "a fox | a dog | a cat");
    // The same prompt with whitespace around it is the same prompt.
    h.add("  a cat\n");
    assertEq(joined(h.entries()), "a cat | a fox | a dog");
    // Case matters for what is sent, so it is a different prompt.
    h.add("A cat");
    assertEq(joined(h.entries()), "A cat | a cat | a fox | a dog");
}

static void testBlankIgnored() {
    PromptHistory h = historyOf({"a fox"});
    for (const char* blank : {"", " ", "\t\n ", "\u3000\u00a0"}) {
        h.add(blank);
    }
    assertEq(joined(h.entries()), "a fox");
}

static void testCappedAtMaxEntries() {
    PromptHistory h;
    for (int i = 1; i <= 60; ++i) {
        h.add("prompt " + std::to_string(i));
    }
    if (!assertSize(h.entries(), PromptHistory::kMaxEntries)) {
        return;
    }
    assertEq(h.entries().front(), "prompt 60");
    assertEq(h.entries().back(), "prompt 11");
    // The oldest kept moves to the front without anything else going.
    h.add("prompt 11");
    g_assert_cmpuint(h.entries().size(), ==, PromptHistory::kMaxEntries);
    assertEq(h.entries().front(), "prompt 11");
    assertEq(h.entries().back(), "prompt 12");
}

struct SearchCase {
    const char* name; // the test's path
    const char* query;
    Prompts expected; // in recency order
};

// Oldest first, so the history is, most recent first: École, Straße, a cat, red car, sky.
static const Prompts kSearchHistory = {
    "Replace the sky with a warm sunset", "Remove the red car from the street",
    "a cat asleep on a windowsill", "Die Straße im Regen, nachts", "ÉCOLE de Paris, 1920"};

static const SearchCase kSearchCases[] = {
    {"empty",
     "",
     {"ÉCOLE de Paris, 1920", "Die Straße im Regen, nachts", "a cat asleep on a windowsill",
      "Remove the red car from the street", "Replace the sky with a warm sunset"}},
    {"blank",
     " \t",
     {"ÉCOLE de Paris, 1920", "Die Straße im Regen, nachts", "a cat asleep on a windowsill",
      "Remove the red car from the street", "Replace the sky with a warm sunset"}},
    {"one-word-any-case", "SKY", {"Replace the sky with a warm sunset"}},
    {"recency-order",
     "the",
     {"Remove the red car from the street", "Replace the sky with a warm sunset"}},
    {"substring", "wind", {"a cat asleep on a windowsill"}},
    {"every-word-any-order", "street   remove", {"Remove the red car from the street"}},
    {"every-word-must-match", "sky car", {}},
    {"no-match", "dog", {}},
    {"sharp-s-folds-to-ss", "STRASSE", {"Die Straße im Regen, nachts"}},
    {"accented-capital", "école", {"ÉCOLE de Paris, 1920"}},
    {"decomposed-accent", "e\u0301cole", {"ÉCOLE de Paris, 1920"}},
    {"unicode-space-separates", "paris\u30001920", {"ÉCOLE de Paris, 1920"}},
};

static void testSearch(gconstpointer data) {
    const auto& c = *static_cast<const SearchCase*>(data);
    const PromptHistory h = historyOf(kSearchHistory);
    assertEq(joined(h.search(c.query)), joined(c.expected));
}

static std::string readFile(const std::string& path) {
    GCharPtr contents;
    gsize length = 0;
    if (!g_file_get_contents(path.c_str(), outPtr(contents), &length, nullptr)) {
        return "<unreadable>";
    }
    return {contents.get(), length};
}

static void testSaveAndLoad() {
    TempDir dir;
    // The folders under GIMP's user folder may not exist yet.
    const std::string path = dir.file("plug-ins/imagegen/history.json");
    const PromptHistory h = historyOf({"a fox", "Straße \"im\" Regen", "a cat"});
    if (!assertOk(h.save(path))) {
        return;
    }
    assertEq(readFile(path), R"({"prompts":["a cat","Straße \"im\" Regen","a fox"]})");
    GStatBuf st;
    g_assert_cmpint(g_stat(path.c_str(), &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600); // prompts can be private
    assertEq(joined(PromptHistory::load(path).entries()), joined(h.entries()));
    // Saved again over the old file.
    PromptHistory more = PromptHistory::load(path);
    more.add("a dog");
    assertOk(more.save(path));
    assertEq(joined(PromptHistory::load(path).entries()),
             "a dog | a cat | Straße \"im\" Regen | a fox");
}

struct DamagedCase {
    const char* name; // the test's path
    const char* contents;
};

static const DamagedCase kDamaged[] = {
    {"empty-file", ""},
    {"not-json", "prompts: a fox"},
    {"truncated", R"({"prompts":["a fox","a c)"},
    {"not-an-object", R"(["a fox"])"},
    {"prompts-not-a-list", R"({"prompts":"a fox"})"},
};

static void testDamagedFileIsEmpty(gconstpointer data) {
    const auto& c = *static_cast<const DamagedCase*>(data);
    TempDir dir;
    const std::string path = dir.file("history.json");
    g_assert_true(g_file_set_contents(path.c_str(), c.contents, -1, nullptr));
    g_assert_true(PromptHistory::load(path).entries().empty());
}

static void testMissingFileIsEmpty() {
    g_assert_true(PromptHistory::load("/nonexistent/history.json").entries().empty());
    TempDir dir;
    // A folder where the file should be cannot be read either.
    g_assert_cmpint(g_mkdir(dir.file("history.json").c_str(), 0700), ==, 0);
    g_assert_true(PromptHistory::load(dir.file("history.json")).entries().empty());
}

// A file edited by hand is held to add()'s rules: order kept, repeats, blanks and non-strings
// dropped, at most kMaxEntries.
static void testLoadedFileIsTidied() {
    TempDir dir;
    const std::string path = dir.file("history.json");
    std::string text = R"({"prompts":["a fox"," ","a cat",7,"a fox","a dog")";
    for (int i = 0; i < 60; ++i) {
        text += ",\"old " + std::to_string(i) + "\"";
    }
    text += "]}";
    g_assert_true(g_file_set_contents(path.c_str(), text.c_str(), -1, nullptr));
    const PromptHistory h = PromptHistory::load(path);
    if (!assertSize(h.entries(), PromptHistory::kMaxEntries)) {
        return;
    }
    assertEq(h.entries()[0], "a fox");
    assertEq(h.entries()[1], "a cat");
    assertEq(h.entries()[2], "a dog");
    assertEq(h.entries().back(), "old 46");
}

static void testSaveFailureIsReported() {
    TempDir dir;
    // A file where the folder should be.
    g_assert_true(g_file_set_contents(dir.file("plug-ins").c_str(), "", -1, nullptr));
    const std::string path = dir.file("plug-ins/history.json");
    const Error e = assertFails(historyOf({"a fox"}).save(path), ErrorKind::Configuration);
    assertContains(e.message, "cannot save the prompt history to " + path);
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/prompt-history/add/most-recent-first", testMostRecentFirst);
    g_test_add_func("/prompt-history/add/repeat-moves-to-front", testRepeatMovesToFront);
    g_test_add_func("/prompt-history/add/blank-ignored", testBlankIgnored);
    g_test_add_func("/prompt-history/add/capped", testCappedAtMaxEntries);
    for (const auto& c : kSearchCases) {
        g_test_add_data_func((std::string("/prompt-history/search/") + c.name).c_str(), &c,
                             testSearch);
    }
    g_test_add_func("/prompt-history/file/save-and-load", testSaveAndLoad);
    g_test_add_func("/prompt-history/file/missing-is-empty", testMissingFileIsEmpty);
    for (const auto& c : kDamaged) {
        g_test_add_data_func(
            (std::string("/prompt-history/file/damaged-is-empty/") + c.name).c_str(), &c,
            testDamagedFileIsEmpty);
    }
    g_test_add_func("/prompt-history/file/tidied-on-load", testLoadedFileIsTidied);
    g_test_add_func("/prompt-history/file/save-failure", testSaveFailureIsReported);
    return g_test_run();
}
