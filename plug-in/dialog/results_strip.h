// The results of the dialog's Generates as the user sees and chooses them: a strip of
// thumbnails (a GtkFlowBox, "Result 1", "Result 2", …) and the preview of the result chosen
// first, or of the partial image streaming in. The results themselves, and what inserting them
// does, are the RunSession's; the strip's items follow the session's results one for one.
#pragma once

#include "core/run/run_session.h"
#include "core/util/glib_ptr.h"

#include <gtk/gtk.h>

#include <cstddef>
#include <vector>

namespace imagegen::dialog {

class ResultsStrip {
  public:
    // `session` must outlive the strip.
    ResultsStrip(GtkFlowBox* strip, GtkWidget* preview, const RunSession& session);
    ~ResultsStrip();
    ResultsStrip(const ResultsStrip&) = delete;
    ResultsStrip& operator=(const ResultsStrip&) = delete;
    ResultsStrip(ResultsStrip&&) = delete;
    ResultsStrip& operator=(ResultsStrip&&) = delete;

    // Adds the session's results from `first` to its last, shown over `underlay` (an expand's
    // picture as it was; empty otherwise), and chooses the first of them.
    void add(size_t first, const GRef<GdkPixbuf>& underlay);
    // The results chosen, in the strip's order.
    [[nodiscard]] std::vector<size_t> chosen() const;
    // The choice changed: the preview shows the result chosen first. Whether any is chosen.
    bool onChosen();
    // Marks the results as inserted: dimmed, and their tooltip (a screen reader's description)
    // says so, so that nobody pays twice by inserting the same result again unawares.
    void markInserted(const std::vector<size_t>& results);
    // A partial image of the run in flight, the `shown`-th of `expected` (0: not known).
    void showPartial(const RgbaImage& image, int shown, int expected);
    // The run ended without results (cancelled, failed): its partial image goes, and the
    // preview shows the result chosen, if any, as before the run.
    void endPartial();
    // No result shown: said to a screen reader.
    void showNone();
    // The preview's "draw" signal.
    gboolean drawPreview(cairo_t* cr);

  private:
    [[nodiscard]] GRef<GdkPixbuf> picture(size_t result, int width, int height) const;
    void showResult(size_t result);
    void showAsInserted(size_t result);

    GtkFlowBox* strip_;
    GtkWidget* preview_;
    const RunSession& session_;
    std::vector<GtkWidget*> children_;       // one per result; the strip holds them
    std::vector<GRef<GdkPixbuf>> underlays_; // one per result, shared by a Generate's
    GRef<GdkPixbuf> previewPixbuf_;
    // New results go at the end of the strip: once the strip has grown to hold them, it scrolls
    // there, so they are not added out of sight.
    GRef<GtkAdjustment> scroll_;
    gulong scrollChanged_ = 0;
    bool scrollToEnd_ = false;
};

} // namespace imagegen::dialog
