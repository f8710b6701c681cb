// Helpers shared by the unit tests.
#pragma once

#include "core/error.h"
#include "core/models.h"

#include <gio/gio.h>
#include <glib.h>

#include <string>

namespace imagegen::test {

inline const ModelCatalog& catalog() {
    static const ModelCatalog c = [] {
        auto loaded = ModelCatalog::loadDefault();
        if (!loaded) {
            g_error("cannot load the model table: %s", loaded.error().message.c_str());
        }
        return *loaded;
    }();
    return c;
}

inline const ModelCaps& model(const char* name) {
    const ModelCaps* m = catalog().find(name);
    g_assert_nonnull(m);
    return *m;
}

template <typename T> void assertOk(const Result<T>& r) {
    if (!r) {
        g_error("expected success, got %s: %s", errorKindName(r.error().kind),
                r.error().message.c_str());
    }
}

template <typename T> Error assertFails(const Result<T>& r, ErrorKind kind) {
    if (r) {
        g_error("expected a %s error, got success", errorKindName(kind));
    }
    if (r.error().kind != kind) {
        g_error("expected a %s error, got %s: %s", errorKindName(kind),
                errorKindName(r.error().kind), r.error().message.c_str());
    }
    return r.error();
}

// Compares as std::string, so that temporaries live through the comparison.
#define assertEq(actual, expected)                                                                 \
    ::imagegen::test::assertEqual((actual), (expected), __FILE__, __LINE__, #actual)

inline void assertEqual(const std::string& actual, const std::string& expected, const char* file,
                        int line, const char* what) {
    if (actual != expected) {
        g_error("%s:%d: %s is \"%s\", expected \"%s\"", file, line, what, actual.c_str(),
                expected.c_str());
    }
}

// Cancels `cancellable` after `ms` milliseconds of the main loop.
inline void cancelAfter(guint ms, GCancellable* cancellable) {
    g_timeout_add(
        ms,
        [](gpointer c) -> gboolean {
            g_cancellable_cancel(G_CANCELLABLE(c));
            return G_SOURCE_REMOVE;
        },
        cancellable);
}

inline void assertContains(const std::string& haystack, const std::string& needle) {
    if (haystack.find(needle) == std::string::npos) {
        g_error("expected \"%s\" in \"%s\"", needle.c_str(), haystack.c_str());
    }
}

} // namespace imagegen::test
