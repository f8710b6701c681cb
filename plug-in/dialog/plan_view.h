// "What is sent": what the next Generate will send, before it is sent. The image's thumbnail
// with the region an edit sends (or the area a generation covers) outlined, or Expand's new
// canvas with its tiles; beside it, in words, how much the result will be enlarged and the
// estimated tokens and price. It reads the image only through Host, and sends nothing.
#pragma once

#include "core/run/host.h"
#include "core/run/run.h"
#include "core/util/glib_ptr.h"

#include <gtk/gtk.h>

#include <functional>
#include <memory>
#include <optional>

namespace imagegen::dialog {

class PlanView {
  public:
    using HostFactory = std::function<std::unique_ptr<Host>()>;

    PlanView(GtkWidget* picture, GtkLabel* scaleNote, GtkLabel* usageEstimate, Procedure procedure);
    ~PlanView();
    PlanView(const PlanView&) = delete;
    PlanView& operator=(const PlanView&) = delete;

    // Calls `onEdit` as the prompt is typed: its length bounds what the estimate's price can be.
    void followPrompt(GtkTextView* prompt, std::function<void()> onEdit);

    // Reads the image's canvas and thumbnail again (the user may have changed them); returns the
    // canvas, or nothing when there is no image to read.
    std::optional<Size> refresh(Host& host, PixelSource source);
    // What the thumbnail shows: the picture, or the active layer alone.
    [[nodiscard]] PixelSource shows() const { return shows_; }
    // Whether the image's canvas, active layer or selection are no longer those the thumbnail
    // was read from (the user went on working while the dialog is open).
    [[nodiscard]] bool stale(Host& host) const;
    // The plan of a run with `p` on the model `caps`, from the image as it is now, shown.
    void update(const RunParameters& p, const ModelCaps& caps, const HostFactory& makeHost);
    // The picture's "draw" signal.
    gboolean draw(cairo_t* cr);

  private:
    void describe(const GeometryPlan& plan, const RunParameters& p, const ModelCaps& caps);
    void drawExpand(cairo_t* cr);

    GtkWidget* picture_;
    GtkLabel* scaleNote_;
    GtkLabel* usageEstimate_;
    const Procedure procedure_;
    GRef<GdkPixbuf> thumbnail_;
    PixelSource shows_ = PixelSource::Visible;
    Size canvas_;
    std::optional<ImageGeometry> shown_; // the geometry the thumbnail was read with
    bool selected_ = false;              // whether the image had a selection at the last plan
    std::optional<GeometryPlan> plan_;
    GRef<GtkTextBuffer> promptBuffer_;
    gulong promptChanged_ = 0;
    std::function<void()> onPromptEdit_;
};

} // namespace imagegen::dialog
