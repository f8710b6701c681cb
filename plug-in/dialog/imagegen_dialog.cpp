// ImagegenDialog: the GtkDialog subclass built from its template, ui/imagegen-dialog.ui (as
// gnome-software's dialogs are). The class binds the template's children to the instance's
// members and its signals to the handlers below; each handler hands the signal to the
// DialogController the instance owns, and no exception crosses back into GTK.
#include "dialog/imagegen_dialog.h"

#include "core/util/i18n.h"
#include "dialog/a11y_guard.h"
#include "dialog/dialog_controller.h"
#include "dialog/gtk_util.h"
#include "dialog/imagegen_dialog_type.h"

#include <glib/gi18n-lib.h>

#include <memory>
#include <utility>

// GLib's macro finds the instance's private part by an integer offset: its cast is GLib's own.
G_DEFINE_TYPE(ImagegenDialog, imagegen_dialog, GTK_TYPE_DIALOG) // NOLINT(performance-no-int-to-ptr)

namespace {

using imagegen::dialog::DialogController;
using imagegen::dialog::guarded;

// Runs `body` with the dialog's controller, if it has one (none while it is built or after it
// is disposed: the signals then change nothing). An exception ends in the info bar.
template <typename Body> void withController(ImagegenDialog* self, Body&& body) noexcept {
    DialogController* controller = self->controller;
    if (controller == nullptr) {
        return;
    }
    guarded([&] { std::forward<Body>(body)(*controller); },
            [controller](const std::string& m) { controller->showError(m); });
}

// The template's signal handlers, named as in the .ui file.

void on_response(GtkDialog* /*dialog*/, int response, ImagegenDialog* self) {
    withController(self, [response](DialogController& c) { c.onResponse(response); });
}

void on_is_active(GObject* /*dialog*/, GParamSpec* /*property*/, ImagegenDialog* self) {
    withController(self, [](DialogController& c) { c.onActivated(); });
}

void on_info_bar_response(GtkInfoBar* /*bar*/, int response, ImagegenDialog* self) {
    withController(self, [response](DialogController& c) { c.onInfoBarResponse(response); });
}

void on_connection_changed(GtkComboBox* /*combo*/, ImagegenDialog* self) {
    withController(self, [](DialogController& c) {
        c.form().onConnectionChanged();
        c.followConnections();
    });
}

void on_connections_clicked(GtkButton* /*button*/, ImagegenDialog* self) {
    withController(self, [](DialogController& c) { c.openConnections(); });
}

void on_model_changed(GtkComboBox* /*combo*/, ImagegenDialog* self) {
    withController(self, [](DialogController& c) { c.form().onModelChanged(); });
}

void on_preset_chosen(GtkComboBox* /*combo*/, ImagegenDialog* self) {
    withController(self, [](DialogController& c) { c.onPresetChosen(); });
}

void on_history_search(GtkSearchEntry* /*entry*/, ImagegenDialog* self) {
    withController(self, [](DialogController& c) { c.form().onHistorySearch(); });
}

void on_history_row(GtkListBox* /*list*/, GtkListBoxRow* row, ImagegenDialog* self) {
    withController(self, [row](DialogController& c) { c.form().onHistoryRow(row); });
}

void on_results_chosen(GtkFlowBox* /*results*/, ImagegenDialog* self) {
    withController(self, [](DialogController& c) { c.onResultsChosen(); });
}

// Before the control with the focus sees it: Ctrl+Enter generates from anywhere in the dialog.
gboolean on_key(GtkWidget* /*dialog*/, GdkEventKey* event, ImagegenDialog* self) {
    gboolean handled = FALSE;
    withController(self, [&](DialogController& c) { handled = c.onKey(event); });
    return handled;
}

// Enter or Space on a result (or a double click) inserts that result alone, whatever else was
// chosen before.
void on_result_activated(GtkFlowBox* results, GtkFlowBoxChild* child, ImagegenDialog* self) {
    gtk_flow_box_unselect_all(results);
    gtk_flow_box_select_child(results, child);
    withController(self, [](DialogController& c) { c.insert(false); });
}

gboolean on_draw_region(GtkWidget* /*area*/, cairo_t* cr, ImagegenDialog* self) {
    withController(self, [cr](DialogController& c) { c.plan().draw(cr); });
    return FALSE;
}

gboolean on_draw_preview(GtkWidget* /*area*/, cairo_t* cr, ImagegenDialog* self) {
    withController(self, [cr](DialogController& c) { c.results().drawPreview(cr); });
    return FALSE;
}

// Escape stops a run in flight rather than closing the dialog and its results.
void imagegen_dialog_close(GtkDialog* dialog) {
    bool cancelled = false;
    withController(IMAGEGEN_DIALOG(dialog),
                   [&cancelled](DialogController& c) { cancelled = c.cancelOnEscape(); });
    if (!cancelled) {
        GTK_DIALOG_CLASS(imagegen_dialog_parent_class)->close(dialog);
    }
}

// The names a screen reader speaks; the GUI tests find the controls by them.
void nameControls(ImagegenDialog* self) {
    const std::pair<GtkWidget*, const char*> names[] = {
        {GTK_WIDGET(self->connection_combo), N_("Connection")},
        {self->connections_button, N_("Connections…")},
        {GTK_WIDGET(self->model_combo), N_("Model")},
        {GTK_WIDGET(self->prompt_view), N_("Prompt")},
        {GTK_WIDGET(self->presets_combo), N_("Presets")},
        {self->history_button, N_("Prompt history")},
        {GTK_WIDGET(self->history_search), N_("Search history")},
        {GTK_WIDGET(self->history_list), N_("History")},
        {self->region_view, N_("Region sent")},
        {GTK_WIDGET(self->scale_note), N_("Scale note")},
        {GTK_WIDGET(self->usage_estimate), N_("Estimated usage")},
        {self->preview, N_("Preview")},
        {GTK_WIDGET(self->progress), N_("Progress")},
        {GTK_WIDGET(self->status), N_("Status")},
        {GTK_WIDGET(self->results), N_("Results")},
        {self->generate_button, N_("Generate")},
        {self->cancel_button, N_("Cancel")},
        {self->insert_button, N_("Insert")},
        {self->insert_all_button, N_("Insert all")},
        {self->close_button, N_("Close")},
    };
    for (const auto& [widget, name] : names) {
        imagegen::dialog::setAccessibleName(widget, _(name));
    }
    // Pictures: a screen reader says what they show through their description.
    atk_object_set_role(gtk_widget_get_accessible(self->preview), ATK_ROLE_IMAGE);
    atk_object_set_role(gtk_widget_get_accessible(self->region_view), ATK_ROLE_IMAGE);
    atk_object_set_role(gtk_widget_get_accessible(GTK_WIDGET(self->results)), ATK_ROLE_LIST_BOX);
}

// The controller goes first, so that no signal of the children, destroyed after it, reaches it.
void imagegen_dialog_dispose(GObject* object) {
    ImagegenDialog* self = IMAGEGEN_DIALOG(object);
    const std::unique_ptr<DialogController> gone(std::exchange(self->controller, nullptr));
    G_OBJECT_CLASS(imagegen_dialog_parent_class)->dispose(object);
}

// A destroyed toplevel window: what the RAII owner of the dialog calls.
void destroyDialog(ImagegenDialog* dialog) {
    gtk_widget_destroy(GTK_WIDGET(dialog));
}
using DialogPtr = std::unique_ptr<ImagegenDialog, imagegen::GFreeWith<destroyDialog>>;

} // namespace

static void imagegen_dialog_class_init(ImagegenDialogClass* klass) {
    G_OBJECT_CLASS(klass)->dispose = imagegen_dialog_dispose;
    GTK_DIALOG_CLASS(klass)->close = imagegen_dialog_close;
    GtkWidgetClass* widget = GTK_WIDGET_CLASS(klass);
    gtk_widget_class_set_template_from_resource(widget, "/org/gimp/imagegen/imagegen-dialog.ui");

    gtk_widget_class_bind_template_child(widget, ImagegenDialog, info_bar);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, info_label);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, connection_combo);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, connections_button);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, model_combo);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, prompt_view);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, presets_combo);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, history_button);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, history_popover);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, history_search);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, history_list);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, expand_frame);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, expand_grid);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, main_options_grid);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, advanced_expander);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, options_grid);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, region_view);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, scale_note);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, usage_estimate);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, preview);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, progress);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, status);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, results);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, close_button);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, cancel_button);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, insert_all_button);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, insert_button);
    gtk_widget_class_bind_template_child(widget, ImagegenDialog, generate_button);

    gtk_widget_class_bind_template_callback(widget, on_response);
    gtk_widget_class_bind_template_callback(widget, on_is_active);
    gtk_widget_class_bind_template_callback(widget, gtk_widget_hide_on_delete);
    gtk_widget_class_bind_template_callback(widget, on_info_bar_response);
    gtk_widget_class_bind_template_callback(widget, on_connection_changed);
    gtk_widget_class_bind_template_callback(widget, on_connections_clicked);
    gtk_widget_class_bind_template_callback(widget, on_model_changed);
    gtk_widget_class_bind_template_callback(widget, on_preset_chosen);
    gtk_widget_class_bind_template_callback(widget, on_history_search);
    gtk_widget_class_bind_template_callback(widget, on_history_row);
    gtk_widget_class_bind_template_callback(widget, on_results_chosen);
    gtk_widget_class_bind_template_callback(widget, on_key);
    gtk_widget_class_bind_template_callback(widget, on_result_activated);
    gtk_widget_class_bind_template_callback(widget, on_draw_region);
    gtk_widget_class_bind_template_callback(widget, on_draw_preview);
}

static void imagegen_dialog_init(ImagegenDialog* self) {
    gtk_widget_init_template(GTK_WIDGET(self));
    nameControls(self);
}

namespace imagegen::dialog {

DialogOutcome runDialog(const DialogContext& context) {
    static bool initialised = false;
    if (!initialised) {
        // The backend GIMP draws through (GIMP 2.10: X11, XWayland on a Wayland desktop): the
        // dialog must use it too, to be transient for the image window.
        if (!context.backends.empty()) {
            gdk_set_allowed_backends(context.backends.c_str());
        }
        gtk_init(nullptr, nullptr);
        guardTextExtents(); // before any widget's accessible exists
        initialised = true;
    }
    // Before the first widget: GTK loads its theme's CSS as the first style is looked up, and a
    // dark variant asked for afterwards loads and parses a second one (a fifth of the time the
    // dialog took to come up, in a profile).
    if (context.darkTheme) {
        g_object_set(gtk_settings_get_default(), "gtk-application-prefer-dark-theme", TRUE,
                     nullptr);
    }
    // A toplevel window belongs to GTK until it is destroyed: the owner destroys it at the end.
    const DialogPtr dialog(IMAGEGEN_DIALOG(g_object_new(IMAGEGEN_TYPE_DIALOG, nullptr)));
    dialog->controller = new DialogController(dialog.get(), context);
    return dialog->controller->run();
}

} // namespace imagegen::dialog
