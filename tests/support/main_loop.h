// Waiting for asynchronous work in a test: the production code never blocks on a main loop
// (the plug-in runs GIMP's or GTK's), so this lives with the tests.
#pragma once

#include <glib.h>

namespace imagegen::test {

// Runs the thread-default main context until `finished` turns true.
inline void iterateUntil(const bool& finished) {
    while (!finished) {
        g_main_context_iteration(nullptr, TRUE);
    }
}

} // namespace imagegen::test
