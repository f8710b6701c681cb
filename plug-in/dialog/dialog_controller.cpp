#include "dialog/dialog_controller.h"

#include "core/util/i18n.h"
#include "core/util/json_util.h"
#include "core/util/number_format.h"
#include "dialog/gtk_util.h"
#include "dialog/window_fit.h"

#include <gdk/gdkkeysyms.h>
#include <glib/gi18n-lib.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace imagegen::dialog {

namespace {

constexpr int kPreviewSide = 1024; // an expand's picture under its results, at most
constexpr guint kTickMs = 100;
constexpr guint kPlanDelayMs = 120;
constexpr guint kWatchMs = 700;
enum Response { kCancel = 1, kInsertAll = 2, kInsert = 3, kGenerate = 4 };

// "_Edit Selection…" → "Edit Selection"; translated, "Auswahl _bearbeiten …" → "Auswahl
// bearbeiten" and "選択範囲を編集(_E)…" → "選択範囲を編集" (a mnemonic in brackets goes whole).
std::string plainLabel(const char* menuLabel) {
    std::string text = _(menuLabel);
    if (const auto at = text.find("(_");
        at != std::string::npos && at + 3 < text.size() && text[at + 3] == ')') {
        text.erase(at, 4);
    }
    std::erase(text, '_');
    if (const auto dots = text.rfind("…"); dots != std::string::npos) {
        text.erase(dots);
    }
    while (!text.empty() && text.back() == ' ') {
        text.pop_back();
    }
    return text;
}

std::string usageText(const Usage& usage) {
    if (!usage.present) {
        return _("the service reported no token usage");
    }
    return textf(_("%s tokens (input %s, output %s)"), withThousands(usage.totalTokens).c_str(),
                 withThousands(usage.inputTokens).c_str(),
                 withThousands(usage.outputTokens).c_str());
}

// What colour matching did to a result, from its parasite: the user sees why an edge may still
// show a step.
std::string colorMatchNote(const NewLayer& layer) {
    auto parasite = json::parseObject(layer.parasite);
    JsonObject* match = parasite ? json::object(parasite->root(), "color_match") : nullptr;
    const std::string outcome = json::string(match, "outcome").value_or("");
    if (outcome == "applied") {
        return std::string(" · ") + _("colours matched to the surroundings");
    }
    if (outcome == "declined") {
        return std::string(" · ") + textf(_("colours left as drawn: %s"),
                                          json::string(match, "reason").value_or("").c_str());
    }
    return {};
}

} // namespace

DialogController::DialogController(ImagegenDialog* dialog, const DialogContext& context)
    : w_(dialog), ctx_(context), procedure_(context.spec->procedure),
      loop_(g_main_loop_new(nullptr, FALSE)), kept_(context.resultsFolder),
      plan_(dialog->region_view, dialog->scale_note, dialog->usage_estimate, procedure_),
      session_(procedure_, *context.setup,
               {.onPartial =
                    [this](const RgbaImage& image) {
                        guarded([&] { onPartial(image); },
                                [this](const std::string& m) { showError(m); });
                    },
                .onProgress =
                    [this](double fraction) {
                        guarded([&] { onProgress(fraction); },
                                [this](const std::string& m) { showError(m); });
                    },
                .onDone =
                    [this](Result<RunSession::Generated> ended) {
                        guarded([&] { onDone(std::move(ended)); },
                                [this](const std::string& m) { showError(m); });
                    }}),
      strip_(dialog->results, dialog->preview, session_) {
    // Made here, once every member is: its rows ask for a new plan as they are filled.
    form_ = std::make_unique<ParameterForm>(dialog, context, [this] { onParametersChanged(); });
    plan_.followPrompt(w_->prompt_view, [this] { schedulePlan(); }); // the price's high end
    // TRANSLATORS: the dialog's title, e.g. "Edit Selection — Imagegen".
    const std::string title = textf(_("%s — Imagegen"), plainLabel(ctx_.spec->menuLabel).c_str());
    gtk_window_set_title(GTK_WINDOW(w_), title.c_str());
    // What to do first: an expand needs no prompt, and a prompt may come from the last run.
    setStatus(procedure_ == Procedure::Expand
                  ? _("Set the new canvas, then Generate (Ctrl+Enter); a prompt is optional.")
              : form_->collect().prompt.empty()
                  ? _("Write a prompt, then Generate (Ctrl+Enter).")
                  : _("Generate (Ctrl+Enter) when the prompt says what you want."));
    // Shown with the "no connection" message only. No mnemonic: every letter of it is taken in
    // this window; Tab reaches it.
    setUpButton_ =
        gtk_info_bar_add_button(w_->info_bar, _("Set up a connection…"), kSetUpConnection);
    setAccessibleName(setUpButton_, _("Set up a connection…"));
    gtk_widget_hide(setUpButton_);
    if (const auto& refused = form_->historyRefused()) {
        showError(refused->message); // the dialog works without it; the user may fix it
    }
    followConnections();
    gtk_expander_set_expanded(w_->advanced_expander,
                              loadExpanded(statePath(), "advanced", false) ? TRUE : FALSE);
}

// Beside the prompt history: what the dialog remembers of itself.
std::string DialogController::statePath() const {
    if (ctx_.historyPath.empty()) {
        return {};
    }
    const GCharPtr folder(g_path_get_dirname(ctx_.historyPath.c_str()));
    return std::string(folder.get()) + G_DIR_SEPARATOR_S + "dialog-state.ini";
}

DialogController::~DialogController() {
    session_.stop();
    firstSetup_.reset();
    editor_.reset();
    tick_.reset();
    planUpdate_.reset();
}

DialogOutcome DialogController::run() {
    gtk_widget_realize(GTK_WIDGET(w_));
    makeTransient(GTK_WINDOW(w_), ctx_.parent);
    fitToWorkArea(GTK_WINDOW(w_));
    restoreKept();
    refreshThumbnail();
    updatePlan();
    gtk_widget_show(GTK_WIDGET(w_));
    // GIMP tells a plug-in nothing of the image's changes: a cheap look at its geometry now and
    // then keeps the thumbnail, the plan and Expand's new canvas in step with the selection,
    // a crop or an undo.
    watch_.reset(g_timeout_add(
        kWatchMs,
        +[](gpointer s) -> gboolean {
            auto* self = static_cast<DialogController*>(s);
            guarded([self] { self->watchImage(); }, [](const std::string&) {});
            return G_SOURCE_CONTINUE;
        },
        this));
    form_->focusPrompt();
    if (ctx_.onShown) {
        // On screen means drawn: the first frame, not the show, which only asks for one.
        g_signal_connect(w_, "draw", G_CALLBACK(+[](GtkWidget* window, cairo_t*, gpointer s) {
                             g_signal_handlers_disconnect_by_data(window, s);
                             auto* self = static_cast<DialogController*>(s);
                             guarded([self] { self->ctx_.onShown(); }, [](const std::string&) {});
                             return FALSE;
                         }),
                         this);
    }
    if (ctx_.setup->connections.connections().empty() && !hasConnection_) {
        // Nothing to run with at all: straight to a short setup, once this window is up, so
        // that the window manager gives the focus to the setup rather than to this one.
        firstSetup_.reset(g_idle_add(
            +[](gpointer s) -> gboolean {
                auto* self = static_cast<DialogController*>(s);
                self->firstSetup_.forget();
                guarded([self] { self->openConnections(true); },
                        [self](const std::string& m) { self->showError(m); });
                return G_SOURCE_REMOVE;
            },
            this));
    }
    g_main_loop_run(loop_.get());
    return {session_.inserted(), session_.insertedAny(), lastRun_};
}

// Back from the image window: the selection or the active layer may have changed.
void DialogController::onActivated() {
    if (gtk_window_is_active(GTK_WINDOW(w_)) != FALSE) {
        refreshThumbnail();
        schedulePlan();
    }
}

// ------------------------------------------------------------------ the plan before a run

// The user changed a parameter (another model, size, option): a refusal of the last Generate
// spoke of the old ones, and goes; the plan follows the new ones.
void DialogController::onPresetChosen() {
    if (const std::string report = form_->onPresetChosen(); !report.empty()) {
        setStatus(report);
    }
}

void DialogController::onParametersChanged() {
    if (startRefused_) {
        startRefused_ = false;
        clearError();
    }
    schedulePlan();
}

void DialogController::schedulePlan() {
    planUpdate_.reset(g_timeout_add(
        kPlanDelayMs,
        +[](gpointer s) -> gboolean {
            auto* self = static_cast<DialogController*>(s);
            self->planUpdate_.forget();
            guarded([self] { self->updatePlan(); },
                    [self](const std::string& m) { self->showError(m); });
            return G_SOURCE_REMOVE;
        },
        this));
}

void DialogController::watchImage() {
    if (procedure_ == Procedure::NewImage || session_.running()) {
        return;
    }
    if (const std::unique_ptr<Host> host = ctx_.makeHost(); plan_.stale(*host)) {
        refreshThumbnail();
        schedulePlan();
    }
}

void DialogController::refreshThumbnail() {
    if (procedure_ == Procedure::NewImage) {
        return;
    }
    const std::unique_ptr<Host> host = ctx_.makeHost();
    if (const auto canvas = plan_.refresh(*host, pixelSource(form_->collect()))) {
        form_->setCanvas(*canvas);
    }
}

// What the next Generate will send, from the model and the image's geometry.
void DialogController::updatePlan() {
    const RunParameters p = form_->collect();
    if (procedure_ != Procedure::NewImage && pixelSource(p) != plan_.shows()) {
        refreshThumbnail(); // the thumbnail shows what is sent
    }
    plan_.update(p, form_->currentCaps(), ctx_.makeHost);
}

// The keyboard (Ctrl+Enter, Ctrl+Z in the prompt, Enter on a result): dialog_keyboard.cpp.

void DialogController::onResponse(int response) {
    switch (response) {
    case kGenerate:
        generate();
        break;
    case kCancel:
        session_.cancel();
        break;
    case kInsert:
        insert(false);
        break;
    case kInsertAll:
        insert(true);
        break;
    default: // Close, Escape, the window's close button
        close();
        break;
    }
}

bool DialogController::cancelOnEscape() {
    if (!session_.running()) {
        return false;
    }
    session_.cancel();
    return true;
}

// ------------------------------------------------------------------ running

void DialogController::generate() {
    if (session_.running()) {
        return;
    }
    if (!hasConnection_) { // Ctrl+Enter, with Generate insensitive
        showNoConnection();
        return;
    }
    clearError();
    const RunParameters p = form_->collect();
    const std::unique_ptr<Host> host = ctx_.makeHost();
    auto started = session_.start(p, *host);
    refreshThumbnail();
    schedulePlan();
    if (!started) {
        showError(started.error().message);
        startRefused_ = true;
        return;
    }
    form_->remember(p.prompt);
    lastRun_ = p;
    partialsShown_ = 0;
    knownProgress_ = false;
    if (procedure_ == Procedure::Expand) {
        // Sharper than the thumbnail: the results are previewed with it under them.
        expandUnderlay_ = pixbufOf(host->thumbnail(kPreviewSide, pixelSource(p)));
    }
    setRunning(true);
}

void DialogController::onPartial(const RgbaImage& image) {
    ++partialsShown_;
    const int expected = session_.partialsExpected();
    strip_.showPartial(image, partialsShown_, expected);
    knownProgress_ = true;
    if (expected > 0) {
        gtk_progress_bar_set_fraction(
            w_->progress, std::min(1.0, static_cast<double>(partialsShown_) / (expected + 1)));
    }
    if (g_strcmp0(g_getenv("IMAGEGEN_TIMINGS"), "1") == 0) {
        std::fprintf(stderr, "imagegen: partial image %d shown at %.6f\n", partialsShown_,
                     static_cast<double>(g_get_real_time()) / 1e6);
    }
}

void DialogController::onProgress(double fraction) {
    knownProgress_ = true;
    gtk_progress_bar_set_fraction(w_->progress, fraction);
}

void DialogController::onDone(Result<RunSession::Generated> ended) {
    setRunning(false);
    const GRef<GdkPixbuf> underlay = std::move(expandUnderlay_);
    if (!ended) {
        onFailed(ended.error());
        return;
    }
    strip_.add(ended->first, underlay);
    followInsertAll();
    keep(ended->first, ended->count);
    const auto seconds = static_cast<double>(g_get_monotonic_time() - startedUs_) / 1e6;
    const GCharPtr text(
        g_strdup_printf(_("Done in %.1f s · %s"), seconds, usageText(ended->usage).c_str()));
    setStatus(text.get() +
              (ended->count > 0 ? colorMatchNote(session_.layer(ended->first)) : std::string()));
}

// A run that ended without results: cancelled, or failed.
void DialogController::onFailed(const Error& error) {
    strip_.endPartial(); // a partial image is no result: it must not look like one
    if (error.kind == ErrorKind::Cancelled) {
        setStatus(_("Cancelled: nothing was added to the image."));
        return;
    }
    setStatus(_("Failed."));
    showError(error.message);
}

void DialogController::setRunning(bool running) {
    gtk_widget_set_sensitive(w_->generate_button, running || !hasConnection_ ? FALSE : TRUE);
    gtk_widget_set_sensitive(w_->cancel_button, running ? TRUE : FALSE);
    gtk_progress_bar_set_fraction(w_->progress, 0.0);
    if (running) {
        startedUs_ = g_get_monotonic_time();
        tick();
        tick_.reset(g_timeout_add(
            kTickMs,
            +[](gpointer s) -> gboolean {
                static_cast<DialogController*>(s)->tick();
                return G_SOURCE_CONTINUE;
            },
            this));
    } else {
        tick_.reset();
    }
}

// Elapsed time, and a pulsing bar until something is known of the progress.
void DialogController::tick() {
    if (!knownProgress_) {
        gtk_progress_bar_pulse(w_->progress);
    }
    const auto seconds = static_cast<int>((g_get_monotonic_time() - startedUs_) / 1'000'000);
    const std::string model = session_.model();
    const auto tiles = session_.tiles();
    const GCharPtr text(
        tiles ? g_strdup_printf(_("Painting tile %d of %d with %s… %d s"),
                                static_cast<int>(std::min(tiles->first + 1, tiles->second)),
                                static_cast<int>(tiles->second), model.c_str(), seconds)
              : g_strdup_printf(_("Waiting for %s… %d s"), model.c_str(), seconds));
    setStatus(text.get());
}

// The Insert button follows the choice, and the preview shows the result chosen first.
void DialogController::onResultsChosen() {
    gtk_widget_set_sensitive(w_->insert_button, strip_.onChosen() ? TRUE : FALSE);
}

// The chosen results (or all) go into the image, grouped as the session groups them.
void DialogController::insert(bool all) {
    clearError();
    // Insert all skips what is in the image already; a result chosen by itself goes in again.
    const std::vector<size_t> chosen = all ? session_.notInserted() : strip_.chosen();
    if (chosen.empty()) {
        return;
    }
    const RunSession::InsertReport report = session_.insert(chosen, ctx_.makeHost);
    if (report.error) {
        showError(report.error->message);
    }
    keepInserted(report.results);
    if (report.layers > 0 && procedure_ == Procedure::NewImage) {
        // Generate Image's insert opens an image of its own: nothing went into this one.
        setStatusCount("Opened a new image with the result.",
                       "Opened a new image with the %d results as layers.", report.layers);
    } else if (report.layers > 0) {
        const GCharPtr text(
            g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Inserted %d layer (one undo step).",
                                        "Inserted %d layers (one undo step).",
                                        static_cast<unsigned long>(report.layers)),
                            static_cast<int>(report.layers)));
        const GCharPtr steps(g_strdup_printf(_("Inserted %d layers in %d undo steps."),
                                             static_cast<int>(report.layers),
                                             static_cast<int>(report.steps)));
        setStatus(report.steps > 1 ? steps.get() : text.get());
    }
    // The canvas an expand grew has the new shape: a ratio or border kept would ask for more.
    form_->resetExpand();
    refreshThumbnail();
    schedulePlan();
}

// The results kept on disk: dialog_kept_results.cpp. The Connections window and the "no
// connection" bar: dialog_connections.cpp.

// ------------------------------------------------------------------ messages

void DialogController::showError(const std::string& message) {
    gtk_label_set_text(w_->info_label, message.c_str());
    gtk_info_bar_set_message_type(w_->info_bar, GTK_MESSAGE_ERROR);
    gtk_widget_hide(setUpButton_);
    showingNoConnection_ = false;
    gtk_widget_show(GTK_WIDGET(w_->info_bar));
}

void DialogController::clearError() {
    gtk_label_set_text(w_->info_label, "");
    gtk_widget_hide(setUpButton_);
    showingNoConnection_ = false;
    gtk_widget_hide(GTK_WIDGET(w_->info_bar));
}

// A status that counts: `one` and `many` are the message's forms (xgettext takes them from each
// call, po/meson.build says how), with the count as their one %d where they have it.
void DialogController::setStatusCount(const char* one, const char* many, size_t count) {
    const GCharPtr text(
        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, one, many, static_cast<unsigned long>(count)),
                        static_cast<int>(count)));
    setStatus(text.get());
}

void DialogController::setStatus(const std::string& text) {
    gtk_label_set_text(w_->status, text.c_str());
}

// Closing drops a run in flight: its connections close now, and no callback of it runs.
void DialogController::close() {
    saveExpanded(statePath(), "advanced",
                 gtk_expander_get_expanded(w_->advanced_expander) != FALSE);
    watch_.reset();
    session_.stop();
    expandUnderlay_.reset();
    tick_.reset();
    gtk_widget_hide(GTK_WIDGET(w_));
    g_main_loop_quit(loop_.get());
}

} // namespace imagegen::dialog
