// What the plug-in's entry point needs of GIMP 2.10 besides a run: GEGL's start, the last values
// GIMP keeps for a procedure, GIMP's user folder, and what the dialog needs of the image window.
#pragma once

#include <optional>
#include <string>

namespace imagegen::host {

// Must run first in run(): GEGL, with buffers only (no operation modules are needed).
void initialise(const std::string& executableDir);

std::optional<std::string> loadLastValues(const char* procedure);
void saveLastValues(const char* procedure, const std::string& json);

// GIMP's user directory (~/.config/GIMP/2.10).
std::string userDirectory();

// The image's active layer now (the user may change it while the dialog is open).
int activeDrawable(int image);
// The X11 window of the image window the call came from, for the dialog to stay above it; 0
// when there is none (a call from Script-Fu's batch mode has no default display).
unsigned long imageWindowHandle();
// Whether GIMP's theme is a dark one (Dark, the default, or Gray).
bool themeIsDark();

} // namespace imagegen::host
