// The plug-in's data files (the model table, the presets): where they are and how they are read,
// so that every table is found the same way.
#pragma once

#include "core/util/error.h"

#include <string>

namespace imagegen {

// The folder of the data files: IMAGEGEN_DATADIR in the environment when it is set (the tests
// and a build tree point it at data/); else the running program's folder when models.json is
// there (a user install); else the folder a system install puts them in (meson.build).
std::string dataDirectory();
// The folder of the running program (the plug-in's folder); empty when /proc does not say.
std::string programDirectory();

// The folder of the message catalogues (<lang>/LC_MESSAGES/GETTEXT_PACKAGE.mo): IMAGEGEN_LOCALEDIR
// in the environment when it is set (the tests point it at the build tree's po/), otherwise the
// one the build was configured with.
std::string localeDirectory();

// `fileName` (e.g. "models.json") in dataDirectory().
std::string dataFilePath(const std::string& fileName);

// The whole text of a file; an error (Configuration) names `what` ("the model table"), and GLib's
// reason names the path.
Result<std::string> readDataFile(const std::string& path, const std::string& what);

} // namespace imagegen
