// GTK 3's accessibles of labels, entries and text views compute a character's position from
// their widget's GdkWindow without checking that the widget has one. A widget that was never
// shown (a row hidden because the model or the connection kind does not use it) has none, and a
// screen reader that reads it (Orca's review, the GUI tests' walk) makes GDK print
// "gdk_window_get_origin: assertion 'GDK_IS_WINDOW (window)' failed" once per widget and walk.
// guardTextExtents() wraps those functions of the accessible classes: an unrealized widget then
// reports no position (-1, as GTK's own widget accessible does for a widget that is not drawn).
#pragma once

namespace imagegen::dialog {

// Once per process, before the first dialog is made; later calls do nothing.
void guardTextExtents();

} // namespace imagegen::dialog
