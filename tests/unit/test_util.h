// Helpers shared by the unit tests.
//
// A check that does not hold reports where it failed (file, line, function and what was
// expected) through g_assertion_message, as GLib's own g_assert_cmpstr does. Every test main
// calls imagegen::test::init(), which makes those reports non-fatal: the failing test is marked
// failed ("not ok" in the TAP output) and the binary goes on to the next test, instead of
// aborting and hiding the results of the tests after it.
//
// The checks return whether they held, so that a test stops where going on makes no sense:
//
//     auto image = decodeImage(bytes);
//     if (!assertOk(image)) {
//         return; // *image would throw
//     }
#pragma once

#include "core/service/models.h"
#include "core/util/error.h"
#include "core/util/glib_ptr.h"

#include <gio/gio.h>
#include <glib.h>

#include <cstddef>
#include <optional>
#include <string>

namespace imagegen::test {

// g_test_init, with failed assertions marking the running test failed instead of aborting.
inline void init(int* argc, char*** argv) {
    g_test_init(argc, argv, nullptr);
    g_test_set_nonfatal_assertions();
}

// Reports a failure of the running test at file:line.
inline void fail(const char* file, int line, const char* func, const std::string& message) {
    g_assertion_message(G_LOG_DOMAIN, file, line, func, message.c_str());
}

#define IMAGEGEN_TEST_HERE __FILE__, __LINE__, G_STRFUNC

// Whether `result` holds a value; if it holds an error, reports it.
#define assertOk(...) ::imagegen::test::checkOk((__VA_ARGS__), #__VA_ARGS__, IMAGEGEN_TEST_HERE)

template <typename T>
bool checkOk(const Result<T>& r, const char* what, const char* file, int line, const char* func) {
    if (r) {
        return true;
    }
    fail(file, line, func,
         std::string(what) + " failed (" + errorKindName(r.error().kind) +
             "), expected success: " + r.error().message);
    return false;
}

// The error in `result`, which must be of `kind`. Otherwise the failure is reported and the
// error returned is the one found, or an empty one of `kind` if `result` succeeded.
#define assertFails(result, kind)                                                                  \
    ::imagegen::test::checkFails((result), (kind), #result, IMAGEGEN_TEST_HERE)

template <typename T>
Error checkFails(const Result<T>& r, ErrorKind kind, const char* what, const char* file, int line,
                 const char* func) {
    if (r) {
        fail(file, line, func,
             std::string(what) + " succeeded, expected it to fail (" + errorKindName(kind) + ")");
        return makeError(kind, "");
    }
    if (r.error().kind != kind) {
        fail(file, line, func,
             std::string(what) + " failed (" + errorKindName(r.error().kind) +
                 "), expected it to fail (" + errorKindName(kind) + "): " + r.error().message);
    }
    return r.error();
}

// Compares as std::string, so that temporaries live through the comparison. `actual` may also
// be a Result or an optional string: an error or an empty optional is reported, not thrown.
#define assertEq(actual, expected)                                                                 \
    ::imagegen::test::assertEqual((actual), (expected), #actual, IMAGEGEN_TEST_HERE)

inline bool assertEqual(const std::string& actual, const std::string& expected, const char* what,
                        const char* file, int line, const char* func) {
    if (actual == expected) {
        return true;
    }
    fail(file, line, func,
         std::string(what) + " is \"" + actual + "\", expected \"" + expected + "\"");
    return false;
}

template <typename T>
bool assertEqual(const Result<T>& actual, const std::string& expected, const char* what,
                 const char* file, int line, const char* func) {
    if (!checkOk(actual, what, file, line, func)) {
        return false;
    }
    return assertEqual(*actual, expected, what, file, line, func);
}

template <typename T>
bool assertEqual(const std::optional<T>& actual, const std::string& expected, const char* what,
                 const char* file, int line, const char* func) {
    if (!actual) {
        fail(file, line, func, std::string(what) + " is empty, expected \"" + expected + "\"");
        return false;
    }
    return assertEqual(*actual, expected, what, file, line, func);
}

#define assertContains(haystack, needle)                                                           \
    ::imagegen::test::checkContains((haystack), (needle), #haystack, IMAGEGEN_TEST_HERE)

inline bool checkContains(const std::string& haystack, const std::string& needle, const char* what,
                          const char* file, int line, const char* func) {
    if (haystack.find(needle) != std::string::npos) {
        return true;
    }
    fail(file, line, func,
         std::string(what) + " is \"" + haystack + "\", expected it to contain \"" + needle + "\"");
    return false;
}

// Whether `container` has `n` elements, so that a test indexes it only then.
#define assertSize(container, n)                                                                   \
    ::imagegen::test::checkSize((container).size(), (n), #container, IMAGEGEN_TEST_HERE)

inline bool checkSize(size_t actual, size_t expected, const char* what, const char* file, int line,
                      const char* func) {
    if (actual == expected) {
        return true;
    }
    fail(file, line, func,
         std::string(what) + " has " + std::to_string(actual) + " elements, expected " +
             std::to_string(expected));
    return false;
}

// The model table of data/models.json. If it cannot be read, every test that asks for it
// fails, and is given a table of one bare gpt-image-1 so that it does not crash on the way.
// (The defaults name the caller: std::source_location is not in clang-tidy 14's view.)
inline const ModelCatalog& catalog(const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                                   const char* func = __builtin_FUNCTION()) {
    static const Result<ModelCatalog> loaded = ModelCatalog::loadDefault();
    if (loaded) {
        return *loaded;
    }
    fail(file, line, func, "cannot load the model table: " + loaded.error().message);
    static const Result<ModelCatalog> standIn =
        ModelCatalog::fromJson(R"({"models":[{"name":"gpt-image-1"}]})");
    return *standIn;
}

// A model of the table; a name the table lacks fails the test and gives an empty ModelCaps.
inline const ModelCaps& model(const char* name, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE(),
                              const char* func = __builtin_FUNCTION()) {
    if (const ModelCaps* m = catalog(file, line, func).find(name)) {
        return *m;
    }
    fail(file, line, func, std::string("no model \"") + name + "\" in the model table");
    static const ModelCaps none;
    return none;
}

// Cancels `cancellable` after `ms` milliseconds of the main loop (and again every `ms` after
// that), until the returned source goes.
[[nodiscard]] inline SourceId cancelAfter(guint ms, GCancellable* cancellable) {
    return SourceId(g_timeout_add_full(
        G_PRIORITY_DEFAULT, ms,
        [](gpointer c) -> gboolean {
            g_cancellable_cancel(G_CANCELLABLE(c));
            return G_SOURCE_CONTINUE;
        },
        addRef(cancellable).release(),
        [](gpointer c) { adoptRef(static_cast<GCancellable*>(c)).reset(); }));
}

// Lets the callbacks of cancelled work come back: a few rounds of the main context, briefly.
inline void drainMainContext() {
    for (int i = 0; i < 50; ++i) {
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(1000);
    }
}

} // namespace imagegen::test
