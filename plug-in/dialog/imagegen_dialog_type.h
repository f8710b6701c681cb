// ImagegenDialog, the GObject type of the dialog: a GtkDialog built from its template
// (ui/imagegen-dialog.ui), as gnome-software's dialogs are. The template declares the controls
// and the signals; the instance holds the controls the code uses, bound by their ids, and the
// C++ behaviour behind them (DialogController), which the instance owns.
#pragma once

#include <gtk/gtk.h>

namespace imagegen::dialog {
class DialogController;
} // namespace imagegen::dialog

G_BEGIN_DECLS

#define IMAGEGEN_TYPE_DIALOG (imagegen_dialog_get_type())
G_DECLARE_FINAL_TYPE(ImagegenDialog, imagegen_dialog, IMAGEGEN, DIALOG, GtkDialog)

G_END_DECLS

// The template's children, bound by their ids, which the member names repeat; they live as long
// as the dialog does.
struct _ImagegenDialog {
    GtkDialog parent_instance;

    GtkInfoBar* info_bar;
    GtkLabel* info_label;
    GtkComboBoxText* connection_combo;
    GtkWidget* connections_button;
    GtkComboBoxText* model_combo;
    GtkTextView* prompt_view;
    GtkComboBoxText* presets_combo;
    GtkWidget* history_button;
    GtkPopover* history_popover;
    GtkSearchEntry* history_search;
    GtkListBox* history_list;
    GtkWidget* expand_frame;
    GtkGrid* expand_grid;
    GtkGrid* main_options_grid;
    GtkExpander* advanced_expander;
    GtkGrid* options_grid;
    GtkWidget* region_view;
    GtkLabel* scale_note;
    GtkLabel* usage_estimate;
    GtkWidget* preview;
    GtkProgressBar* progress;
    GtkLabel* status;
    GtkFlowBox* results;
    GtkWidget* close_button;
    GtkWidget* cancel_button;
    GtkWidget* insert_all_button;
    GtkWidget* insert_button;
    GtkWidget* generate_button;

    // The behaviour, owned: made once the dialog's context is known, gone at dispose. Null
    // while either is not so, when every signal of the template is ignored.
    imagegen::dialog::DialogController* controller;
};
