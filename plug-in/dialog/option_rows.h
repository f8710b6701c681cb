// The options grid of the dialog: one row per API field, shown only where the chosen model (its
// entry in data/models.json) and the procedure take it. The rows are made here rather than in
// ui/imagegen-dialog.ui because which rows exist, and what each offers, comes from the model
// table; the grid they go into is in the .ui file.
#pragma once

#include "core/run/run_parameters.h"
#include "core/service/models.h"

#include <gtk/gtk.h>

#include <functional>
#include <string>

namespace imagegen::dialog {

class OptionRows {
  public:
    // `onChange` runs after any option changes (the dialog updates its plan then).
    // The size and the number of images go into `main`, every other field into `advanced`.
    OptionRows(GtkGrid* main, GtkGrid* advanced, Procedure procedure,
               std::function<void()> onChange);

    // Offers what `caps` accepts and hides the rest, keeping each value the model still takes.
    void followModel(const ModelCaps& caps);
    // Shows the values of `p` and `o`; a field left unset ("" or -1) leaves its row as it is when
    // `onlySet`, else resets it to the default.
    void show(const RunParameters& p, bool onlySet);
    // The rows' values into the parameters and options (rows hidden for the model leave them
    // unset).
    void collect(RunParameters& p) const;

  private:
    struct Row {
        GtkWidget* label = nullptr;
        GtkWidget* widget = nullptr;
        void setShown(bool shown) const;
        [[nodiscard]] bool shown() const;
    };
    Row add(const char* label, const char* accessibleName, GtkWidget* widget);
    Row addCustomSize();
    Row addCombo(const char* label, const char* accessibleName);
    Row addCheck(const char* label, const char* accessibleName);
    Row addSpin(const char* label, const char* accessibleName, double lower, double upper,
                double step);
    void changed();
    void ignoreError(const std::string& message);
    void showDependentRows();
    [[nodiscard]] std::string size() const;

    GtkGrid* grid_; // the grid rows go into now: the main one, then Advanced
    Procedure procedure_;
    std::function<void()> onChange_;
    const ModelCaps* caps_ = nullptr;
    int rows_ = 0;
    bool quiet_ = false; // true while the rows are set from code

    Row size_;
    Row customSize_;
    GtkWidget* width_ = nullptr;
    GtkWidget* height_ = nullptr;
    Row quality_;
    Row images_;
    Row style_;
    Row background_;
    Row format_;
    Row compression_;
    Row fidelity_;
    Row moderation_;
    Row user_;
    Row context_;
    Row feather_;
    Row stream_;
    Row matchColors_;
    Row sampleMerged_;
};

} // namespace imagegen::dialog
