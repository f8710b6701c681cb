// The dialog's place and size, and what it remembers between runs: it stays above the image
// window it was opened from, opens small enough to leave most of the canvas visible, never grows
// past the work area of its monitor (a 1366×768 laptop has about 700 pixels under GIMP's own
// title bar), and its Advanced expander opens as the user left it.
#pragma once

#include "dialog/imagegen_dialog.h"

#include <gtk/gtk.h>

#include <string>

namespace imagegen::dialog {

// Makes `dialog` (realized) transient for the image window it was opened from.
void makeTransient(GtkWindow* dialog, const ParentWindow& parent);

// The first size and the largest, from the work area of the monitor `window` is on (realized).
void fitToWorkArea(GtkWindow* window);

// Whether an expander was open, kept in a small key file beside the prompt history; losing it is
// never worth an error.
bool loadExpanded(const std::string& stateFile, const char* key, bool fallback);
void saveExpanded(const std::string& stateFile, const char* key, bool expanded);

} // namespace imagegen::dialog
