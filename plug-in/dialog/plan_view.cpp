#include "dialog/plan_view.h"

#include "core/run/estimate.h"
#include "core/util/i18n.h"
#include "core/util/number_format.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <algorithm>
#include <cmath>

namespace imagegen::dialog {

namespace {

constexpr int kThumbnailSide = 360;

// "$0.17", or "$0.17–$0.18" when the two ends differ as shown, in the user's numeric conventions.
std::string dollars(const CostEstimate& cost) {
    const int decimals = dollarDecimals(cost.high);
    const std::string low = withDecimals(cost.low, decimals);
    const std::string high = withDecimals(cost.high, decimals);
    // TRANSLATORS: a sum in US dollars, e.g. "$0.17"; the figure is already in the user's
    // numeric conventions. OpenAI's prices are in US dollars: keep the currency.
    if (low == high) {
        return textf(_("$%s"), low.c_str());
    }
    // TRANSLATORS: a range of US dollars, e.g. "$0.17–$0.18".
    return textf(_("$%s–$%s"), low.c_str(), high.c_str());
}

} // namespace

PlanView::PlanView(GtkWidget* picture, GtkLabel* scaleNote, GtkLabel* usageEstimate,
                   Procedure procedure)
    : picture_(picture), scaleNote_(scaleNote), usageEstimate_(usageEstimate),
      procedure_(procedure) {
    if (procedure_ == Procedure::NewImage) {
        gtk_widget_set_visible(picture_, FALSE); // a new image has nothing to show
    }
    // Only an edit and an expand send pixels: the others say what their picture shows.
    if (GtkWidget* frame = gtk_widget_get_ancestor(picture_, GTK_TYPE_FRAME)) {
        const char* title = procedure_ == Procedure::Generate   ? _("Where the result goes")
                            : procedure_ == Procedure::NewImage ? _("The new image")
                                                                : _("What is sent");
        gtk_frame_set_label(GTK_FRAME(frame), title);
    }
}

PlanView::~PlanView() {
    if (promptChanged_ != 0) {
        g_signal_handler_disconnect(promptBuffer_.get(), promptChanged_);
    }
}

void PlanView::followPrompt(GtkTextView* prompt, std::function<void()> onEdit) {
    onPromptEdit_ = std::move(onEdit);
    promptBuffer_ = addRef(gtk_text_view_get_buffer(prompt));
    promptChanged_ =
        g_signal_connect_swapped(promptBuffer_.get(), "changed", G_CALLBACK(+[](PlanView* self) {
                                     if (self->onPromptEdit_) {
                                         self->onPromptEdit_();
                                     }
                                 }),
                                 this);
}

std::optional<Size> PlanView::refresh(Host& host, PixelSource source) {
    std::optional<Size> canvas;
    shows_ = source;
    shown_.reset();
    if (auto geometry = host.inspect()) {
        shown_ = *geometry;
        canvas_ = geometry->canvas;
        thumbnail_ = pixbufOf(host.thumbnail(kThumbnailSide, source));
        canvas = canvas_;
    }
    gtk_widget_queue_draw(picture_);
    return canvas;
}

bool PlanView::stale(Host& host) const {
    auto now = host.inspect();
    if (!now || !shown_) {
        return now.ok() != shown_.has_value();
    }
    const auto& was = *shown_;
    return now->canvas.width != was.canvas.width || now->canvas.height != was.canvas.height ||
           now->drawable != was.drawable || now->selection != was.selection;
}

void PlanView::update(const RunParameters& p, const ModelCaps& caps, const HostFactory& makeHost) {
    plan_.reset();
    GeometryPlan sizeOnly;
    sizeOnly.size = p.size;
    Result<GeometryPlan> plan = sizeOnly;
    if (procedure_ != Procedure::NewImage) {
        const std::unique_ptr<Host> host = makeHost();
        auto geometry = host->inspect();
        plan = geometry ? planGeometry(procedure_, caps, p, *geometry)
                        : Result<GeometryPlan>(geometry.error());
        selected_ = geometry && geometry->selection.has_value();
    }
    if (!plan) {
        gtk_label_set_text(scaleNote_, plan.error().message.c_str());
        gtk_label_set_text(usageEstimate_, "");
        gtk_widget_queue_draw(picture_);
        return;
    }
    plan_ = *plan;
    describe(*plan, p, caps);
    gtk_widget_queue_draw(picture_);
}

// The plan in words: where the results go, whether they are enlarged, and the estimated tokens.
void PlanView::describe(const GeometryPlan& plan, const RunParameters& p, const ModelCaps& caps) {
    const bool expand = procedure_ == Procedure::Expand;
    const int tiles = static_cast<int>(plan.expand.tiles.size());
    if (expand) {
        const Size c = plan.expand.canvas;
        const GCharPtr where(g_strdup_printf(
            _("The new canvas: %d × %d pixels, the picture at %d, %d; the border goes in %d tiles"),
            c.width, c.height, plan.expand.original.x, plan.expand.original.y, tiles));
        setAccessibleDescription(picture_, where.get());
    } else if (procedure_ != Procedure::NewImage) {
        // What the thumbnail shows, in words.
        const Rect r = procedure_ == Procedure::Edit ? plan.edit.region : plan.target;
        const GCharPtr where(g_strdup_printf(_("The region sent: %d × %d pixels at %d, %d"),
                                             r.width, r.height, r.x, r.y));
        setAccessibleDescription(picture_, where.get());
    }
    const double factor = upscaleFactor(procedure_, plan);
    GCharPtr note;
    if (expand) {
        note.reset(g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE,
                        "The border goes to the model as %d tile of %s, at full resolution.",
                        "The border goes to the model as %d tiles of %s, one after another, "
                        "each at full resolution.",
                        static_cast<unsigned long>(tiles)),
            tiles, plan.size.c_str()));
    } else if (procedure_ == Procedure::NewImage) {
        note.reset(parseSize(plan.size)
                       ? g_strdup_printf(_("The new image will be %s."), plan.size.c_str())
                       : g_strdup(_("The model chooses the size of the new image.")));
    } else if (!parseSize(plan.size)) { // "auto" or unset: the model decides
        note.reset(g_strdup(_("The model chooses the size it draws at; the result is scaled to "
                              "cover the region.")));
    } else if (factor > 1.01) {
        note.reset(g_strdup_printf(_("The model draws %s; the result will be enlarged %.1f× to "
                                     "cover the region, so fine detail may be soft."),
                                   plan.size.c_str(), factor));
    } else {
        note.reset(g_strdup_printf(_("The model draws %s: no enlargement."), plan.size.c_str()));
    }
    std::string shown = note.get();
    if (procedure_ == Procedure::Edit && !selected_) {
        shown += std::string(" ") + (p.options.sendsVisible()
                                         ? _("No selection: the whole picture is repainted.")
                                         : _("No selection: the whole layer is repainted."));
    }
    gtk_label_set_text(scaleNote_, shown.c_str());
    const auto drawn = parseSize(plan.size);
    const bool streaming = p.options.stream;
    // An expand sends one request per tile for each image asked for.
    const int images = std::max(1, p.n) * (expand ? std::max(1, tiles) : 1);
    const auto estimate =
        drawn ? estimateOutputTokens(caps, *drawn, p.quality, images, streaming ? 2 : 0)
              : std::nullopt;
    // The prompt is billed once in each request: n images go in requests of nPerRequest, one
    // set for each tile of an expand.
    const int perTile = std::max(1, p.n);
    const int batches =
        (perTile + std::max(1, caps.nPerRequest) - 1) / std::max(1, caps.nPerRequest);
    CostRequest costed;
    costed.quality = p.quality;
    costed.images = images;
    costed.partialImages = streaming ? 2 : 0;
    costed.requests = batches * (expand ? std::max(1, tiles) : 1);
    costed.promptBytes = p.prompt.size();
    std::optional<CostEstimate> cost;
    if (drawn) {
        costed.size = *drawn;
        cost = estimateCost(caps, costed);
    }
    std::string text;
    if (estimate) {
        const std::string total = withThousands(estimate->total);
        const std::string each = withThousands(estimate->perImage);
        text = images <= 1 ? textf(_("Estimated cost: about %s output tokens"), total.c_str())
               : expand    ? textf(_("Estimated cost: about %s output tokens (%s per tile)"),
                                   total.c_str(), each.c_str())
                           : textf(_("Estimated cost: about %s output tokens (%s per image)"),
                                   total.c_str(), each.c_str());
        if (cost) {
            // An edit and an expand also pay for the picture they send, which no OpenAI page
            // says how to count (see estimateCost): the figure says it leaves it out.
            const bool sendsPicture = procedure_ == Procedure::Edit || expand;
            // TRANSLATORS: the estimate, then its price: "Estimated cost: about 4,160 output
            // tokens, $0.17 (OpenAI's list prices of 2026-12-06; prices change)".
            text = textf(sendsPicture ? _("%s, %s plus the picture sent (OpenAI's list prices of "
                                          "%s; prices change)")
                                      : _("%s, %s (OpenAI's list prices of %s; prices change)"),
                         text.c_str(), dollars(*cost).c_str(), cost->asOf.c_str());
        }
    } else if (!caps.isGptImage()) {
        // dall-e-2 and dall-e-3 are priced by the image, not by tokens.
        text = cost ? textf(g_dngettext(GETTEXT_PACKAGE,
                                        "%s is charged by the image: %d image, %s (OpenAI's list "
                                        "prices of %s; prices change).",
                                        "%s is charged by the image: %d images, %s (OpenAI's list "
                                        "prices of %s; prices change).",
                                        static_cast<unsigned long>(images)),
                            caps.name.c_str(), images, dollars(*cost).c_str(), cost->asOf.c_str())
                    : textf(g_dngettext(GETTEXT_PACKAGE, "%s is charged by the image: %d image.",
                                        "%s is charged by the image: %d images.",
                                        static_cast<unsigned long>(images)),
                            caps.name.c_str(), images);
    } else if (p.quality.empty() || p.quality == "auto") {
        text = _("Choose a quality (low, medium or high) to see the estimated tokens: with "
                 "automatic quality the service decides the cost.");
    } else {
        text = _("The model's table gives no token estimate for this size and quality.");
    }
    gtk_label_set_text(usageEstimate_, text.c_str());
}

// The image's thumbnail with the region an edit sends (or the area a generation covers) outlined,
// and the selection's bounds inside it.
gboolean PlanView::draw(cairo_t* cr) {
    if (!thumbnail_ || canvas_.width <= 0) {
        return FALSE;
    }
    if (procedure_ == Procedure::Expand && plan_) {
        drawExpand(cr);
        return FALSE;
    }
    const int width = gtk_widget_get_allocated_width(picture_);
    const int height = gtk_widget_get_allocated_height(picture_);
    const GRef<GdkPixbuf> shown = fitted(thumbnail_.get(), width, height, true);
    const int w = gdk_pixbuf_get_width(shown.get());
    const int h = gdk_pixbuf_get_height(shown.get());
    const double x0 = (width - w) / 2.0;
    const double y0 = (height - h) / 2.0;
    gdk_cairo_set_source_pixbuf(cr, shown.get(), x0, y0);
    cairo_paint(cr);
    if (!plan_) {
        return FALSE;
    }
    const double scale = static_cast<double>(w) / canvas_.width;
    const Rect r = procedure_ == Procedure::Edit ? plan_->edit.region : plan_->target;
    cairo_rectangle(cr, x0 + r.x * scale, y0 + r.y * scale, r.width * scale, r.height * scale);
    cairo_set_source_rgba(cr, 1.0, 0.75, 0.1, 1.0);
    cairo_set_line_width(cr, 2.0);
    cairo_stroke(cr);
    if (procedure_ == Procedure::Edit) {
        const Rect a = plan_->edit.area;
        cairo_rectangle(cr, x0 + a.x * scale, y0 + a.y * scale, a.width * scale, a.height * scale);
        const double dashes[] = {4.0, 3.0};
        cairo_set_dash(cr, dashes, 2, 0);
        cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.9);
        cairo_set_line_width(cr, 1.0);
        cairo_stroke(cr);
    }
    return FALSE;
}

// Expand: the new canvas, its border shaded, the picture where it will stay, and the tiles the
// border goes in.
void PlanView::drawExpand(cairo_t* cr) {
    const ExpandPlan& e = plan_->expand;
    const int width = gtk_widget_get_allocated_width(picture_);
    const int height = gtk_widget_get_allocated_height(picture_);
    if (e.canvas.width <= 0 || e.canvas.height <= 0) {
        return;
    }
    const double scale = std::min(static_cast<double>(width) / e.canvas.width,
                                  static_cast<double>(height) / e.canvas.height);
    const double x0 = (width - e.canvas.width * scale) / 2.0;
    const double y0 = (height - e.canvas.height * scale) / 2.0;
    cairo_rectangle(cr, x0, y0, e.canvas.width * scale, e.canvas.height * scale);
    cairo_set_source_rgba(cr, 0.5, 0.5, 0.5, 0.35);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 1.0, 0.75, 0.1, 1.0);
    cairo_set_line_width(cr, 2.0);
    cairo_stroke(cr);
    const int w = std::max(1, static_cast<int>(std::lround(e.original.width * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(e.original.height * scale)));
    const GRef<GdkPixbuf> picture =
        adoptRef(gdk_pixbuf_scale_simple(thumbnail_.get(), w, h, GDK_INTERP_BILINEAR));
    gdk_cairo_set_source_pixbuf(cr, picture.get(), std::round(x0 + e.original.x * scale),
                                std::round(y0 + e.original.y * scale));
    cairo_paint(cr);
    const double dashes[] = {4.0, 3.0};
    cairo_set_dash(cr, dashes, 2, 0);
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.8);
    cairo_set_line_width(cr, 1.0);
    for (const Rect& t : e.tiles) {
        // Tiles may reach past the canvas; only the part on it is drawn.
        const int left = std::max(0, t.x);
        const int top = std::max(0, t.y);
        const int right = std::min(e.canvas.width, t.x + t.width);
        const int bottom = std::min(e.canvas.height, t.y + t.height);
        cairo_rectangle(cr, x0 + left * scale, y0 + top * scale, (right - left) * scale,
                        (bottom - top) * scale);
    }
    cairo_stroke(cr);
}

} // namespace imagegen::dialog
