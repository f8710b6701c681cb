#include "dialog/results_strip.h"

#include "core/util/i18n.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <algorithm>
#include <cmath>

namespace imagegen::dialog {

namespace {

constexpr int kResultThumbnailHeight = 96;
constexpr int kPreviewSide = 1024; // a result shown in the preview, at most

} // namespace

ResultsStrip::ResultsStrip(GtkFlowBox* strip, GtkWidget* preview, const RunSession& session)
    : strip_(strip), preview_(preview), session_(session) {
    showNone();
    GtkWidget* scroller = gtk_widget_get_ancestor(GTK_WIDGET(strip_), GTK_TYPE_SCROLLED_WINDOW);
    if (scroller != nullptr) {
        scroll_ = addRef(gtk_scrolled_window_get_hadjustment(GTK_SCROLLED_WINDOW(scroller)));
        // "changed": the strip's width (the adjustment's upper bound) follows the new results.
        scrollChanged_ = g_signal_connect_swapped(
            scroll_.get(), "changed", G_CALLBACK(+[](ResultsStrip* self) {
                if (self->scrollToEnd_) {
                    self->scrollToEnd_ = false;
                    GtkAdjustment* a = self->scroll_.get();
                    gtk_adjustment_set_value(a, gtk_adjustment_get_upper(a) -
                                                    gtk_adjustment_get_page_size(a));
                }
            }),
            this);
    }
}

ResultsStrip::~ResultsStrip() {
    if (scrollChanged_ != 0) {
        g_signal_handler_disconnect(scroll_.get(), scrollChanged_);
    }
}

// A result as the user will see it once inserted, at most `width` x `height`: an expand's
// border with the picture it surrounds.
GRef<GdkPixbuf> ResultsStrip::picture(size_t result, int width, int height) const {
    const GRef<GdkPixbuf> full = pixbufOf(session_.layer(result).pixels);
    GRef<GdkPixbuf> shown = fitted(full.get(), width, height, false);
    const ExpandPlan* expand = session_.expandOf(result);
    GdkPixbuf* underlay = underlays_.at(result).get();
    if (!shown || underlay == nullptr || expand == nullptr) {
        return shown;
    }
    const double scale =
        static_cast<double>(gdk_pixbuf_get_width(shown.get())) / std::max(1, expand->canvas.width);
    const Rect o = expand->original;
    const int x = static_cast<int>(std::lround(o.x * scale));
    const int y = static_cast<int>(std::lround(o.y * scale));
    const int w = std::min(static_cast<int>(std::lround(o.width * scale)),
                           gdk_pixbuf_get_width(shown.get()) - x);
    const int h = std::min(static_cast<int>(std::lround(o.height * scale)),
                           gdk_pixbuf_get_height(shown.get()) - y);
    if (w > 0 && h > 0) {
        gdk_pixbuf_composite(underlay, shown.get(), x, y, w, h, x, y,
                             static_cast<double>(w) / gdk_pixbuf_get_width(underlay),
                             static_cast<double>(h) / gdk_pixbuf_get_height(underlay),
                             GDK_INTERP_BILINEAR, 255);
    }
    return shown;
}

void ResultsStrip::add(size_t first, const GRef<GdkPixbuf>& underlay) {
    for (size_t result = first; result < session_.resultCount(); ++result) {
        underlays_.push_back(underlay);
        const GRef<GdkPixbuf> small =
            picture(result, kResultThumbnailHeight * 3, kResultThumbnailHeight);
        GtkWidget* child = gtk_flow_box_child_new();
        gtk_container_add(GTK_CONTAINER(child), gtk_image_new_from_pixbuf(small.get()));
        const std::string name = textf(_("Result %zu"), result + 1);
        setAccessibleName(child, name.c_str());
        gtk_widget_set_tooltip_text(child, session_.promptOf(result).c_str());
        gtk_widget_show_all(child);
        gtk_flow_box_insert(strip_, child, -1);
        children_.push_back(child);
        if (session_.isInserted(result)) { // kept from an earlier dialog
            showAsInserted(result);
        }
    }
    if (first < children_.size()) {
        scrollToEnd_ = true;
        gtk_flow_box_unselect_all(strip_);
        gtk_flow_box_select_child(strip_, GTK_FLOW_BOX_CHILD(children_[first]));
    }
}

std::vector<size_t> ResultsStrip::chosen() const {
    std::vector<size_t> results;
    const GListPtr selected(gtk_flow_box_get_selected_children(strip_));
    for (GList* c = selected.get(); c != nullptr; c = c->next) {
        results.push_back(
            static_cast<size_t>(gtk_flow_box_child_get_index(GTK_FLOW_BOX_CHILD(c->data))));
    }
    return results;
}

bool ResultsStrip::onChosen() {
    const GListPtr chosen(gtk_flow_box_get_selected_children(strip_));
    if (chosen) {
        showResult(
            static_cast<size_t>(gtk_flow_box_child_get_index(GTK_FLOW_BOX_CHILD(chosen->data))));
    }
    return chosen != nullptr;
}

void ResultsStrip::showResult(size_t result) {
    if (result >= children_.size()) {
        return;
    }
    // Made when shown, not kept: a result's pixels are already held once, in its layer.
    previewPixbuf_ = picture(result, kPreviewSide, kPreviewSide);
    gtk_widget_queue_draw(preview_);
    setAccessibleDescription(preview_, textf(_("Result %zu"), result + 1));
}

void ResultsStrip::markInserted(const std::vector<size_t>& results) {
    for (const size_t result : results) {
        showAsInserted(result);
    }
}

void ResultsStrip::showAsInserted(size_t result) {
    if (result >= children_.size()) {
        return;
    }
    GtkWidget* image = gtk_bin_get_child(GTK_BIN(children_[result]));
    if (image != nullptr) {
        gtk_widget_set_opacity(image, 0.5);
    }
    // TRANSLATORS: a result's tooltip once it is in the image; %s is its prompt.
    const std::string tip = textf(_("Inserted · %s"), session_.promptOf(result).c_str());
    gtk_widget_set_tooltip_text(children_[result], tip.c_str());
}

void ResultsStrip::endPartial() {
    previewPixbuf_.reset();
    gtk_widget_queue_draw(preview_);
    if (!onChosen()) {
        showNone();
    }
}

void ResultsStrip::showPartial(const RgbaImage& image, int shown, int expected) {
    previewPixbuf_ = pixbufOf(image);
    gtk_widget_queue_draw(preview_);
    const GCharPtr description(
        g_strdup_printf(_("Partial image %d of %d"), shown, std::max(shown, expected)));
    setAccessibleDescription(preview_, description.get());
}

void ResultsStrip::showNone() {
    setAccessibleDescription(preview_, _("No result yet"));
}

gboolean ResultsStrip::drawPreview(cairo_t* cr) {
    if (!previewPixbuf_) {
        return FALSE;
    }
    const int width = gtk_widget_get_allocated_width(preview_);
    const int height = gtk_widget_get_allocated_height(preview_);
    const GRef<GdkPixbuf> shown = fitted(previewPixbuf_.get(), width, height, false);
    gdk_cairo_set_source_pixbuf(cr, shown.get(), (width - gdk_pixbuf_get_width(shown.get())) / 2.0,
                                (height - gdk_pixbuf_get_height(shown.get())) / 2.0);
    cairo_paint(cr);
    return FALSE;
}

} // namespace imagegen::dialog
