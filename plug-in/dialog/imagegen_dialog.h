// The dialog of the procedures in INTERACTIVE mode. It collects the parameters and shows
// results; it never touches pixels. Each Generate goes through the core's run, kept by a
// RunSession (core/run/run_session.h) exactly as a Script-Fu call with the same parameters would
// take it, and each Insert through the session's insert. The editor is reached only through
// Host, made anew for each Generate and Insert so that the active layer and the selection are
// read again. The dialog's parts: imagegen_dialog.cpp (the template class), dialog_controller
// (what it does), parameter_form, plan_view and results_strip.
#pragma once

#include "core/run/host.h"
#include "core/run/procedures.h"
#include "core/run/run.h"
#include "core/user/presets.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace imagegen::dialog {

// The image window the dialog stays above, as the windowing system names it: GIMP 2.10 draws
// through X11 only; GIMP 3 natively on Wayland too, where a window of another process is named
// by a handle it exported over xdg-foreign (text).
struct ParentWindow {
    unsigned long x11 = 0; // the X11 window ID; 0: none
    std::string wayland;   // the exported Wayland handle; "": none
};

struct DialogContext {
    const ProcedureSpec* spec = nullptr;
    RunParameters initial; // the last values, or the defaults
    RunSetup* setup = nullptr;
    // A host for the image and its active layer as they are now.
    std::function<std::unique_ptr<Host>()> makeHost;
    std::string connectionsPath; // the saved connections' key file
    std::string historyPath;     // the prompt history
    // Where results are kept between dialogs (core/user/result_history.h), and the image they
    // belong to; either empty: none are kept.
    std::string resultsFolder;
    std::string resultsKey;
    std::vector<Preset> presets;
    ParentWindow parent;
    // The GDK backends the dialog may use (gdk_set_allowed_backends), which must be the one GIMP
    // draws through for the dialog to be transient for its window; "": GDK's own choice, which
    // is GIMP's in the environment the plug-in inherits.
    std::string backends = "x11";
    bool darkTheme = true;
    std::function<void()> onShown; // when the dialog is on screen (the timings)
};

struct DialogOutcome {
    Inserted inserted; // everything inserted while the dialog was open
    bool insertedAny = false;
    std::optional<RunParameters> lastRun; // the parameters of the last Generate
};

// Shows the dialog and returns when it is closed, running GTK's main loop meanwhile. A run in
// flight when it closes is cancelled, and nothing of it is inserted.
DialogOutcome runDialog(const DialogContext& context);

} // namespace imagegen::dialog
