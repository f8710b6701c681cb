// Small helpers the dialog's parts share: widgets from a GtkBuilder, accessible names, combo
// boxes keyed by the API's values, and calls from GTK's C callbacks that no exception crosses.
#pragma once

#include "core/pixels/codec.h"
#include "core/util/glib_ptr.h"

#include <gtk/gtk.h>

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace imagegen::dialog {

// The object `id` of a builder's file; the file is ours, so a missing id is a programming error
// caught by every GUI test.
template <typename T = GtkWidget> T* part(GtkBuilder* builder, const char* id) {
    GObject* object = gtk_builder_get_object(builder, id);
    g_assert(object != nullptr);
    return reinterpret_cast<T*>(object);
}

// The name a screen reader speaks (and the GUI tests find the control by).
inline void setAccessibleName(GtkWidget* widget, const char* name) {
    atk_object_set_name(gtk_widget_get_accessible(widget), name);
}
inline void setAccessibleDescription(GtkWidget* widget, const std::string& text) {
    atk_object_set_description(gtk_widget_get_accessible(widget), text.c_str());
}

// A choice of the API's values with what a person reads for each: {value, label}.
using Choices = std::vector<std::pair<std::string, std::string>>;

// Refills a combo box with the choices and keeps `keep` chosen when it is among them, else the
// first choice.
void fillCombo(GtkComboBoxText* combo, const Choices& choices, const std::string& keep);
// The value of the choice shown, or "" when none is.
std::string comboValue(GtkComboBoxText* combo);
// A combo box whose longest choice ("Automatic: the environment's connection (host)") would
// otherwise set the dialog's narrowest width: its text is cut with "…" instead.
void letShrink(GtkComboBox* combo);

std::string textOf(GtkTextView* view);
void setText(GtkTextView* view, const std::string& text);

// RGBA pixels as a pixbuf (a copy).
GRef<GdkPixbuf> pixbufOf(const RgbaImage& image);
// The pixbuf scaled to fit `width` x `height`, keeping its shape, never enlarged past 1:1 when
// `enlarge` is false.
GRef<GdkPixbuf> fitted(GdkPixbuf* pixbuf, int width, int height, bool enlarge);

// Runs `body` for a GTK callback; an exception ends at `onError` instead of crossing C code.
template <typename Body, typename OnError> void guarded(Body&& body, OnError&& onError) noexcept {
    try {
        std::forward<Body>(body)();
    } catch (const std::exception& e) {
        try {
            onError(std::string("internal error: ") + e.what());
        } catch (...) { // NOLINT(bugprone-empty-catch): nothing may cross into GTK
        }
    } catch (...) { // NOLINT(bugprone-empty-catch)
    }
}

// Connects a widget's signal to `Method` of `self` (which needs none of the signal's arguments),
// through guarded(): an exception ends at `OnError` with its message instead of crossing into
// GTK. `self` must outlive the widget or disconnect first.
template <auto Method, auto OnError, typename Self>
void connectTo(gpointer widget, const char* signal, Self* self) {
    g_signal_connect_swapped(widget, signal, G_CALLBACK(+[](Self* s) {
                                 guarded([s] { (s->*Method)(); },
                                         [s](const std::string& m) { (s->*OnError)(m); });
                             }),
                             self);
}

// Puts a captioned control in the next row of a grid: the caption's mnemonic focuses the
// control, and the control gets the accessible name a screen reader speaks. Returns the caption.
GtkWidget* attachRow(GtkGrid* grid, int row, const char* caption, const char* accessibleName,
                     GtkWidget* control);

} // namespace imagegen::dialog
