#include "dialog/gtk_util.h"

#include <algorithm>

namespace imagegen::dialog {

void fillCombo(GtkComboBoxText* combo, const Choices& choices, const std::string& keep) {
    gtk_combo_box_text_remove_all(combo);
    bool kept = false;
    for (const auto& [value, label] : choices) {
        gtk_combo_box_text_append(combo, value.c_str(), label.c_str());
        kept = kept || value == keep;
    }
    if (kept) {
        gtk_combo_box_set_active_id(GTK_COMBO_BOX(combo), keep.c_str());
    } else if (!choices.empty()) {
        gtk_combo_box_set_active(GTK_COMBO_BOX(combo), 0);
    }
}

std::string comboValue(GtkComboBoxText* combo) {
    const gchar* id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(combo));
    return id != nullptr ? id : "";
}

std::string textOf(GtkTextView* view) {
    GtkTextBuffer* buffer = gtk_text_view_get_buffer(view);
    GtkTextIter start;
    GtkTextIter end;
    gtk_text_buffer_get_bounds(buffer, &start, &end);
    const GCharPtr text(gtk_text_buffer_get_text(buffer, &start, &end, FALSE));
    return text.get();
}

void setText(GtkTextView* view, const std::string& text) {
    gtk_text_buffer_set_text(gtk_text_view_get_buffer(view), text.c_str(),
                             static_cast<gint>(text.size()));
}

void letShrink(GtkComboBox* combo) {
    constexpr int kFewestChars = 8;
    GList* cells = gtk_cell_layout_get_cells(GTK_CELL_LAYOUT(combo));
    for (GList* c = cells; c != nullptr; c = c->next) {
        if (GTK_IS_CELL_RENDERER_TEXT(c->data)) {
            g_object_set(c->data, "ellipsize", PANGO_ELLIPSIZE_END, "width-chars", kFewestChars,
                         nullptr);
        }
    }
    g_list_free(cells);
    if (gtk_combo_box_get_has_entry(combo) != FALSE) {
        gtk_entry_set_width_chars(GTK_ENTRY(gtk_bin_get_child(GTK_BIN(combo))), kFewestChars);
    }
}

GtkWidget* attachRow(GtkGrid* grid, int row, const char* caption, const char* accessibleName,
                     GtkWidget* control) {
    GtkWidget* label = gtk_label_new_with_mnemonic(caption);
    gtk_label_set_mnemonic_widget(GTK_LABEL(label), control);
    gtk_label_set_xalign(GTK_LABEL(label), 1.0F);
    gtk_widget_set_hexpand(control, TRUE);
    setAccessibleName(control, accessibleName);
    gtk_grid_attach(grid, label, 0, row, 1, 1);
    gtk_grid_attach(grid, control, 1, row, 1, 1);
    return label;
}

GRef<GdkPixbuf> pixbufOf(const RgbaImage& image) {
    if (image.width <= 0 || image.height <= 0) {
        return {};
    }
    GRef<GdkPixbuf> pixbuf =
        adoptRef(gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, image.width, image.height));
    const int stride = gdk_pixbuf_get_rowstride(pixbuf.get());
    guchar* out = gdk_pixbuf_get_pixels(pixbuf.get());
    for (int y = 0; y < image.height; ++y) {
        std::copy_n(image.at(0, y), static_cast<size_t>(image.width) * 4,
                    out + static_cast<ptrdiff_t>(y) * stride);
    }
    return pixbuf;
}

GRef<GdkPixbuf> fitted(GdkPixbuf* pixbuf, int width, int height, bool enlarge) {
    if (pixbuf == nullptr || width <= 0 || height <= 0) {
        return {};
    }
    const double sx = static_cast<double>(width) / gdk_pixbuf_get_width(pixbuf);
    const double sy = static_cast<double>(height) / gdk_pixbuf_get_height(pixbuf);
    double scale = std::min(sx, sy);
    if (!enlarge) {
        scale = std::min(scale, 1.0);
    }
    const int w = std::max(1, static_cast<int>(gdk_pixbuf_get_width(pixbuf) * scale));
    const int h = std::max(1, static_cast<int>(gdk_pixbuf_get_height(pixbuf) * scale));
    return adoptRef(gdk_pixbuf_scale_simple(pixbuf, w, h, GDK_INTERP_BILINEAR));
}

} // namespace imagegen::dialog
