// Translation of the core's messages, with GLib's gettext in the plug-in's own domain
// (GETTEXT_PACKAGE): the core stays free of GIMP and GTK. _() translates, N_() marks a string
// translated later, C_() gives a short ambiguous string a context, g_dngettext() makes plurals.
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

#include <string>

namespace imagegen {

// A message from a translated printf format. Messages with more than one placeholder are built
// here, never by concatenation, so that a translation can put the parts in its own order
// ("%2$s … %1$s").
std::string textf(const char* format, ...) G_GNUC_PRINTF(1, 2);

} // namespace imagegen
