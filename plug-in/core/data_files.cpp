#include "core/data_files.h"

#include "core/glib_ptr.h"

#include <glib.h>

#ifndef IMAGEGEN_DATADIR
#define IMAGEGEN_DATADIR "/usr/local/share/imagegen"
#endif

namespace imagegen {

std::string dataDirectory() {
    const char* dir = g_getenv("IMAGEGEN_DATADIR");
    return dir != nullptr && *dir != '\0' ? dir : IMAGEGEN_DATADIR;
}

std::string dataFilePath(const std::string& fileName) {
    return dataDirectory() + "/" + fileName;
}

Result<std::string> readDataFile(const std::string& path, const std::string& what) {
    GCharPtr contents;
    gsize length = 0;
    GErrorPtr error;
    if (!g_file_get_contents(path.c_str(), outPtr(contents), &length, outPtr(error))) {
        return makeError(ErrorKind::Configuration, "cannot read " + what + ": " + error->message);
    }
    return std::string(contents.get(), length);
}

} // namespace imagegen
