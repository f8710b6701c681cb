// A run from GIMP's side: the model table, the saved connections and the environment gathered
// into the core's RunSetup, GIMP as the run's host, and SIGINT/SIGTERM as a cancel.
#pragma once

#include "core/run/procedures.h"
#include "core/run/run.h"
#include "core/run/run_operation.h"
#include "core/run/run_parameters.h"
#include "core/util/error.h"
#include "dialog/imagegen_dialog.h"

#include <string>

namespace imagegen {

class PhaseTimer;

struct RunContext {
    int image = -1;
    int drawable = -1;
    bool interactive = false;
    std::string executableDir; // the plug-in's folder (host::initialise points GEGL there)
};

// A call that is not INTERACTIVE: every step of the run, on `host`, with SIGINT and SIGTERM as
// a cancel.
Result<Inserted> runInGimp(Procedure procedure, const RunParameters& parameters, Host& host);

// The dialog of an INTERACTIVE call, opened with `initial`; returns when the user closes it.
// Refusals before it opens (no model table, an unreadable connections file) are errors.
// `timings` (may be null) ends its phase "dialog-shown" when the dialog is on screen.
Result<dialog::DialogOutcome> runDialogInGimp(const ProcedureSpec& spec,
                                              const RunParameters& initial,
                                              const RunContext& context, PhaseTimer* timings);

} // namespace imagegen
