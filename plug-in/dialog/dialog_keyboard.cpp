// DialogController, its keyboard: Ctrl+Enter generates from anywhere in the dialog, Ctrl+Z in the
// prompt takes back a preset's text, and Enter or Space on a result inserts that one; the rest is
// in dialog_controller.cpp.
#include "dialog/dialog_controller.h"

#include "core/util/i18n.h"

#include <gdk/gdkkeysyms.h>
#include <glib/gi18n-lib.h>

namespace imagegen::dialog {

gboolean DialogController::onKey(const GdkEventKey* event) {
    const bool enter = event->keyval == GDK_KEY_Return || event->keyval == GDK_KEY_KP_Enter;
    if (enter && (event->state & GDK_CONTROL_MASK) != 0) {
        generate();
        return TRUE;
    }
    // Ctrl+Z in the prompt: GTK 3's text view has no undo of its own; a preset's replacement of
    // the prompt is taken back.
    if ((event->keyval == GDK_KEY_z || event->keyval == GDK_KEY_Z) &&
        (event->state & GDK_CONTROL_MASK) != 0 &&
        gtk_window_get_focus(GTK_WINDOW(w_)) == GTK_WIDGET(w_->prompt_view) &&
        form_->undoPreset()) {
        setStatus(_("Your prompt is back."));
        return TRUE;
    }
    // Enter or Space on a result inserts that one alone, not the results chosen before it (the
    // flow box would only toggle its selection).
    GtkWidget* focus = gtk_window_get_focus(GTK_WINDOW(w_));
    const bool space = event->keyval == GDK_KEY_space || event->keyval == GDK_KEY_KP_Space;
    if ((enter || space) && focus != nullptr && GTK_IS_FLOW_BOX_CHILD(focus) &&
        gtk_widget_get_parent(focus) == GTK_WIDGET(w_->results)) {
        gtk_flow_box_unselect_all(w_->results);
        gtk_flow_box_select_child(w_->results, GTK_FLOW_BOX_CHILD(focus));
        insert(false);
        return TRUE;
    }
    return FALSE;
}

} // namespace imagegen::dialog
