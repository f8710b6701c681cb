#include "core/data_files.h"

#include "core/glib_ptr.h"
#include "core/i18n.h"

#include <glib.h>

#ifndef IMAGEGEN_DATADIR
#define IMAGEGEN_DATADIR "/usr/local/share/imagegen"
#endif

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/local/share/locale"
#endif

namespace imagegen {

std::string dataDirectory() {
    const char* dir = g_getenv("IMAGEGEN_DATADIR");
    return dir != nullptr && *dir != '\0' ? dir : IMAGEGEN_DATADIR;
}

std::string localeDirectory() {
    const char* dir = g_getenv("IMAGEGEN_LOCALEDIR");
    return dir != nullptr && *dir != '\0' ? dir : LOCALEDIR;
}

std::string dataFilePath(const std::string& fileName) {
    return dataDirectory() + "/" + fileName;
}

Result<std::string> readDataFile(const std::string& path, const std::string& what) {
    GCharPtr contents;
    gsize length = 0;
    GErrorPtr error;
    if (!g_file_get_contents(path.c_str(), outPtr(contents), &length, outPtr(error))) {
        // TRANSLATORS: "cannot read the model table: <the system's reason>".
        return makeError(ErrorKind::Configuration,
                         textf(_("cannot read %s: %s"), what.c_str(), error->message));
    }
    return std::string(contents.get(), length);
}

} // namespace imagegen
