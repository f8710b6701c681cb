// The dialog's left side: the connection and the model, the prompt with its presets and history,
// the options the model takes, and Expand's new canvas. It shows the parameters of a run and
// collects them; it never runs anything.
#pragma once

#include "core/run/run.h"
#include "core/service/models.h"
#include "core/user/presets.h"
#include "core/user/prompt_history.h"
#include "dialog/expand_rows.h"
#include "dialog/imagegen_dialog_type.h"
#include "dialog/option_rows.h"

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace imagegen::dialog {

struct DialogContext;

class ParameterForm {
  public:
    // Shows `context.initial` in the controls of `widgets`. `onChange` runs after any change
    // that may change the plan (the model, an option, the margins).
    ParameterForm(ImagegenDialog* widgets, const DialogContext& context,
                  std::function<void()> onChange);

    [[nodiscard]] RunParameters collect() const;
    // The model's capabilities as the run will resolve them (capsFor), without fetching a
    // credential: what the options offer.
    [[nodiscard]] const ModelCaps& currentCaps() const;

    // The image's canvas as it is now: Expand's aspect ratios are reached from it.
    void setCanvas(Size canvas);
    // Expand, after an insert grew the canvas: no ratio, the default border.
    void resetExpand();
    // A prompt that was sent goes first in the history.
    void remember(const std::string& prompt);
    // The saved connections changed (the Connections editor closed).
    void refillConnections();
    void focusPrompt();
    // Why the saved history could not be read, if it could not (the form works without it).
    [[nodiscard]] const std::optional<Error>& historyRefused() const { return historyRefused_; }

    // The template's signals.
    void onConnectionChanged();
    void onModelChanged();
    // Applies the preset chosen; what it changed, for the status line ("" when none was).
    std::string onPresetChosen();
    // Ctrl+Z in the prompt: the prompt the last preset replaced comes back. Whether one did.
    bool undoPreset();
    void onHistorySearch();
    void onHistoryRow(GtkListBoxRow* row);

  private:
    [[nodiscard]] const Connection* currentConnection() const;
    void fillConnections(const std::string& keep);
    void fillModels(const std::string& keep);
    void fillPresets();
    void show(const RunParameters& p);
    void selectPlaceholder();
    void greyUnfitPresets();
    static std::string presetReport(const RunParameters& before, const RunParameters& after);

    ImagegenDialog* w_;
    const DialogContext& ctx_;
    const Procedure procedure_;
    std::function<void()> onChange_;
    std::optional<Error> historyRefused_;
    std::set<std::string> unfitPresets_;            // the presets the model cannot honour
    std::optional<std::string> promptBeforePreset_; // what Ctrl+Z brings back
    PromptHistory history_;
    std::unique_ptr<OptionRows> options_;
    std::unique_ptr<ExpandRows> expandRows_; // Expand only
    Options baseOptions_; // the options given at open, kept for the keys the dialog has no row for
};

} // namespace imagegen::dialog
