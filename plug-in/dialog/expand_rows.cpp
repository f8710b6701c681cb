#include "dialog/expand_rows.h"

#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <algorithm>
#include <cstdio>

namespace imagegen::dialog {

namespace {

// "16:9" → {16, 9}; "" (margins set by hand) → nothing.
std::optional<std::pair<int, int>> parseRatio(const std::string& ratio) {
    int w = 0;
    int h = 0;
    if (std::sscanf(ratio.c_str(), "%d:%d", &w, &h) != 2 || w <= 0 || h <= 0) {
        return std::nullopt;
    }
    return std::make_pair(w, h);
}

ExpandAnchor anchorOf(const std::string& id) {
    return id == "start" ? ExpandAnchor::Start
           : id == "end" ? ExpandAnchor::End
                         : ExpandAnchor::Centre;
}

GtkWidget* marginSpin() {
    GtkWidget* spin = gtk_spin_button_new_with_range(0, kMaxCanvasSide, 16);
    gtk_spin_button_set_numeric(GTK_SPIN_BUTTON(spin), TRUE);
    return spin;
}

int spinInt(GtkWidget* spin) {
    return gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(spin));
}

} // namespace

ExpandRows::ExpandRows(GtkGrid* grid, std::function<void()> onChange)
    : onChange_(std::move(onChange)) {
    int row = 0;
    ratio_ = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
    // Their captions take no mnemonic where every letter of them is taken in this window (the
    // keyboard test, tests/gui case keyboard, checks they stay unique); Tab reaches them.
    attachRow(grid, row++, _("Aspect ratio:"), _("Aspect ratio"), GTK_WIDGET(ratio_));
    Choices ratios{{"", _("Free: the margins below")}};
    for (const char* r :
         {"1:1", "5:4", "4:3", "3:2", "16:9", "21:9", "4:5", "3:4", "2:3", "9:16"}) {
        ratios.emplace_back(r, r);
    }
    fillCombo(ratio_, ratios, "");
    anchor_ = GTK_COMBO_BOX_TEXT(gtk_combo_box_text_new());
    anchorLabel_ =
        attachRow(grid, row++, _("Picture sta_ys:"), _("Picture position"), GTK_WIDGET(anchor_));
    fillCombo(anchor_,
              {{"centre", _("In the middle")},
               {"start", _("At the left or top")},
               {"end", _("At the right or bottom")}},
              "centre");
    left_ = marginSpin();
    top_ = marginSpin();
    right_ = marginSpin();
    bottom_ = marginSpin();
    attachRow(grid, row++, _("Left (px):"), _("Left margin"), left_);
    attachRow(grid, row++, _("Top (px):"), _("Top margin"), top_);
    attachRow(grid, row++, _("Right (px):"), _("Right margin"), right_);
    attachRow(grid, row++, _("Bottom (px):"), _("Bottom margin"), bottom_);
    size_ = GTK_LABEL(gtk_label_new(""));
    gtk_label_set_xalign(size_, 0.0F);
    setAccessibleName(GTK_WIDGET(size_), _("New canvas"));
    gtk_grid_attach(grid, GTK_WIDGET(size_), 1, row, 1, 1);
    gtk_widget_show_all(GTK_WIDGET(grid));
    gtk_widget_set_visible(anchorLabel_, FALSE);
    gtk_widget_set_visible(GTK_WIDGET(anchor_), FALSE);
    using R = ExpandRows;
    connectTo<&R::onRatioChanged, &R::ignoreError>(ratio_, "changed", this);
    connectTo<&R::onRatioChanged, &R::ignoreError>(anchor_, "changed", this);
    for (GtkWidget* spin : {left_, top_, right_, bottom_}) {
        connectTo<&R::onMarginChanged, &R::ignoreError>(spin, "value-changed", this);
    }
}

void ExpandRows::setCanvas(Size canvas) {
    canvas_ = canvas;
    applyRatio();
    showCanvasSize();
}

void ExpandRows::show(const RunParameters& p) {
    Margins m{p.left, p.top, p.right, p.bottom};
    if (m.none()) {
        m = {kDefaultMargin, 0, kDefaultMargin, 0};
    }
    quiet_ = true;
    gtk_combo_box_set_active(GTK_COMBO_BOX(ratio_), 0);
    quiet_ = false;
    setMargins(m);
    onRatioChanged();
}

void ExpandRows::collect(RunParameters& p) const {
    const Margins m = margins();
    p.left = m.left;
    p.top = m.top;
    p.right = m.right;
    p.bottom = m.bottom;
}

// A ratio sets the margins (the picture's place shown only then); "Free" leaves them as they are.
void ExpandRows::onRatioChanged() {
    if (quiet_) {
        return;
    }
    const bool ratio = parseRatio(comboValue(ratio_)).has_value();
    gtk_widget_set_visible(anchorLabel_, ratio ? TRUE : FALSE);
    gtk_widget_set_visible(GTK_WIDGET(anchor_), ratio ? TRUE : FALSE);
    applyRatio();
    showCanvasSize();
    onChange_();
}

// A margin typed by hand is the user's own: the ratio goes back to "Free".
void ExpandRows::onMarginChanged() {
    if (quiet_) {
        return;
    }
    if (parseRatio(comboValue(ratio_))) {
        quiet_ = true;
        gtk_combo_box_set_active(GTK_COMBO_BOX(ratio_), 0);
        quiet_ = false;
        gtk_widget_set_visible(anchorLabel_, FALSE);
        gtk_widget_set_visible(GTK_WIDGET(anchor_), FALSE);
    }
    showCanvasSize();
    onChange_();
}

// Nothing a row's change runs can fail in a way the user could act on.
void ExpandRows::ignoreError(const std::string& /*message*/) {}

void ExpandRows::applyRatio() {
    const auto ratio = parseRatio(comboValue(ratio_));
    if (!ratio || !canvas_) {
        return;
    }
    setMargins(
        marginsForAspect(*canvas_, ratio->first, ratio->second, anchorOf(comboValue(anchor_))));
}

// "New canvas: 1820 × 1024 pixels (1.78:1)": the size the image will have, and its shape.
void ExpandRows::showCanvasSize() {
    if (!canvas_) {
        gtk_label_set_text(size_, "");
        return;
    }
    const Margins m = margins();
    const int width = canvas_->width + m.left + m.right;
    const int height = canvas_->height + m.top + m.bottom;
    const GCharPtr text(g_strdup_printf(_("New canvas: %d × %d pixels (%.2f:1)"), width, height,
                                        static_cast<double>(width) / std::max(1, height)));
    gtk_label_set_text(size_, text.get());
}

Margins ExpandRows::margins() const {
    return {spinInt(left_), spinInt(top_), spinInt(right_), spinInt(bottom_)};
}

void ExpandRows::setMargins(Margins m) {
    quiet_ = true;
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(left_), m.left);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(top_), m.top);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(right_), m.right);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(bottom_), m.bottom);
    quiet_ = false;
}

} // namespace imagegen::dialog
