// What the shared run code (procedure_run.cpp) and the entry points need of GIMP besides the
// pixels: GEGL's start, the last values GIMP keeps for a procedure, GIMP's user folder, a Host
// for an image, and what the dialog needs of the image window. Declared once, in plain types,
// and implemented by each host: host/gimp2/gimp_process.cpp (GIMP 2.10) and
// host/gimp3/gimp_process.cpp (GIMP 3), so that procedure_run.cpp serves both unchanged.
#pragma once

#include "core/run/host.h"
#include "dialog/imagegen_dialog.h"

#include <memory>
#include <optional>
#include <string>

namespace imagegen::host {

// Must run first in run(): GEGL, with buffers only (no operation modules are needed).
void initialise(const std::string& executableDir);

// GIMP 2.10 keeps them as bytes (gimp_get_data); GIMP 3 in the procedure's config, so there
// they are not used.
std::optional<std::string> loadLastValues(const char* procedure);
void saveLastValues(const char* procedure, const std::string& json);

// GIMP's user directory (~/.config/GIMP/2.10, ~/.config/GIMP/3.0, ...).
std::string userDirectory();

// The host of a run on `image` (GIMP's ID; -1 for a procedure that needs no image) and its layer
// `drawable`; a new image is displayed when `display`.
std::unique_ptr<Host> makeHost(int image, int drawable, bool display);

// The image the dialog's kept results belong to (core/user/result_history.h).
std::string resultsKey(int image);

// The layer a dialog's run works on: the one it opened on while that is still in the image (after
// an Insert GIMP makes the result active, and that must not become the layer to edit), else the
// image's active layer now (GIMP 3: the one selected layer, -1 when several are).
int runDrawable(int image, int opened);
// The image window the call came from, for the dialog to stay above it; none when there is
// none (a call from Script-Fu's batch mode has no default display).
dialog::ParentWindow imageWindow();
// The GDK backends the dialog may use to be transient for `parent` (DialogContext::backends).
std::string dialogBackends(const dialog::ParentWindow& parent);
// Whether GIMP's theme is a dark one.
bool themeIsDark();

} // namespace imagegen::host
