// Generative Expand's part of the dialog: how the canvas grows, as four margins in pixels or as a
// target aspect ratio (16:9, 4:5, …) that sets them, with where the picture stays. The rows go
// into the "New canvas" grid of ui/imagegen-dialog.ui, which only Expand shows.
#pragma once

#include "core/pixels/expand.h"
#include "core/run/run_parameters.h"

#include <gtk/gtk.h>

#include <functional>
#include <optional>

namespace imagegen::dialog {

class ExpandRows {
  public:
    // `onChange` runs after the margins change (the dialog updates its plan then).
    ExpandRows(GtkGrid* grid, std::function<void()> onChange);

    // The canvas as it is now: a chosen aspect ratio is reached from it.
    void setCanvas(Size canvas);
    // The margins of `p`; none at all (a first run) offers a border of kDefaultMargin left and
    // right.
    void show(const RunParameters& p);
    void collect(RunParameters& p) const;

    static constexpr int kDefaultMargin = 256;

  private:
    void onRatioChanged();
    void onMarginChanged();
    void ignoreError(const std::string& message);
    void applyRatio();
    void showCanvasSize();
    [[nodiscard]] Margins margins() const;
    void setMargins(Margins m);

    std::function<void()> onChange_;
    std::optional<Size> canvas_;
    bool quiet_ = false; // true while the rows are set from code
    GtkComboBoxText* ratio_ = nullptr;
    GtkComboBoxText* anchor_ = nullptr;
    GtkWidget* anchorLabel_ = nullptr;
    GtkWidget* left_ = nullptr;
    GtkWidget* top_ = nullptr;
    GtkWidget* right_ = nullptr;
    GtkWidget* bottom_ = nullptr;
    GtkLabel* size_ = nullptr;
};

} // namespace imagegen::dialog
