// What ImagegenDialog does: it runs each Generate through a RunSession (the core's run, kept
// without GTK), shows its progress and results, inserts the results chosen, and ends the dialog.
// The parts it drives: the parameters (ParameterForm), "What is sent" (PlanView) and the results
// (ResultsStrip). Its methods are called from the template's signals, in imagegen_dialog.cpp.
#pragma once

#include "core/run/run_session.h"
#include "core/user/result_history.h"
#include "core/util/glib_ptr.h"
#include "dialog/connections_editor.h"
#include "dialog/imagegen_dialog.h"
#include "dialog/imagegen_dialog_type.h"
#include "dialog/parameter_form.h"
#include "dialog/plan_view.h"
#include "dialog/results_strip.h"

#include <gtk/gtk.h>

#include <memory>
#include <optional>
#include <string>

namespace imagegen::dialog {

class DialogController {
  public:
    // Fills the controls of `dialog` from `context`, which must outlive the controller.
    DialogController(ImagegenDialog* dialog, const DialogContext& context);
    ~DialogController();
    DialogController(const DialogController&) = delete;
    DialogController& operator=(const DialogController&) = delete;
    DialogController(DialogController&&) = delete;
    DialogController& operator=(DialogController&&) = delete;

    // Shows the dialog and returns when it is closed, running GTK's main loop meanwhile.
    DialogOutcome run();

    // The template's signals.
    void onResponse(int response);
    void onActivated();
    gboolean onKey(const GdkEventKey* event);
    void onResultsChosen();
    void onPresetChosen();
    // Insert (the results chosen, or the one activated) or Insert all.
    void insert(bool all);
    // The Connections window; `firstSetup` opens it on a new connection (see run()).
    void openConnections(bool firstSetup = false);
    // The connection chosen, or the saved ones, changed: Generate and the "no connection" bar
    // follow whether a run has somewhere to go.
    void followConnections();
    // The info bar's buttons: its close button, or "Set up a connection…".
    void onInfoBarResponse(int response);
    // Escape: a run in flight is cancelled rather than the dialog closed. Whether it was.
    bool cancelOnEscape();

    // One message at a time, in the info bar: the newest replaces the last.
    void showError(const std::string& message);
    void clearError();

    [[nodiscard]] ParameterForm& form() { return *form_; }
    [[nodiscard]] PlanView& plan() { return plan_; }
    [[nodiscard]] ResultsStrip& results() { return strip_; }

  private:
    static constexpr int kSetUpConnection = 1; // the info bar's own response
    [[nodiscard]] bool connectionAvailable() const;
    void showNoConnection();
    [[nodiscard]] std::string statePath() const;
    void onParametersChanged();
    void schedulePlan();
    void updatePlan();
    void refreshThumbnail();
    void watchImage();

    void generate();
    void onPartial(const RgbaImage& image);
    void onProgress(double fraction);
    void onDone(Result<RunSession::Generated> ended);
    void onFailed(const Error& error);
    void setRunning(bool running);
    void tick();
    // Results kept on disk for this image (see DialogContext::resultsKey): the last dialog's
    // come back at open, each Generate's are kept as they arrive, and an insert is recorded,
    // so that Close never loses a result that was paid for.
    void restoreKept();
    void keep(size_t first, size_t count);
    void keepInserted(const std::vector<size_t>& results);
    void followInsertAll();
    void setStatus(const std::string& text);
    void setStatusCount(const char* one, const char* many, size_t count);
    void close();

    ImagegenDialog* w_;
    const DialogContext& ctx_;
    const Procedure procedure_;
    GMainLoopPtr loop_;
    std::optional<RunParameters> lastRun_; // the parameters of the last Generate
    ResultHistory kept_;
    std::unique_ptr<ParameterForm> form_;
    PlanView plan_;

    gint64 startedUs_ = 0;
    int partialsShown_ = 0;
    bool knownProgress_ = false;
    GRef<GdkPixbuf> expandUnderlay_; // the picture an expand in flight grows
    SourceId tick_;
    SourceId planUpdate_;
    SourceId watch_;            // looks at the image's geometry now and then
    bool startRefused_ = false; // the info bar shows why the last Generate did not start
    std::unique_ptr<ConnectionsEditor> editor_;
    SourceId editorClosed_;
    SourceId firstSetup_;              // opens the Connections window once the dialog is up
    bool hasConnection_ = true;        // a saved or environment connection to run with
    bool showingNoConnection_ = false; // the info bar holds the "no connection" message
    GtkWidget* setUpButton_ = nullptr; // the info bar's "Set up a connection…"
    // Its callbacks point at everything above; the strip reads its results.
    RunSession session_;
    ResultsStrip strip_;
};

} // namespace imagegen::dialog
