#include "core/util/data_files.h"

#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/local_file.h"

#include <glib.h>

#include <cerrno>

#ifndef IMAGEGEN_DATADIR
#define IMAGEGEN_DATADIR "/usr/local/share/imagegen"
#endif

#ifndef LOCALEDIR
#define LOCALEDIR "/usr/local/share/locale"
#endif

namespace imagegen {

std::string programDirectory() {
    const GCharPtr program(g_file_read_link("/proc/self/exe", nullptr));
    if (!program) {
        return {};
    }
    const GCharPtr dir(g_path_get_dirname(program.get()));
    return dir.get();
}

std::string dataDirectory() {
    const char* dir = g_getenv("IMAGEGEN_DATADIR");
    if (dir != nullptr && *dir != '\0') {
        return dir;
    }
    // A user install keeps its data beside the plug-in, in one folder that may be moved or
    // copied as a whole (the e2e tests copy it into a private GIMP home); the model table marks
    // such a folder.
    std::string beside = programDirectory();
    if (!beside.empty() &&
        g_file_test((beside + "/models.json").c_str(), G_FILE_TEST_IS_REGULAR) != FALSE) {
        return beside;
    }
    return IMAGEGEN_DATADIR;
}

std::string localeDirectory() {
    const char* dir = g_getenv("IMAGEGEN_LOCALEDIR");
    if (dir != nullptr && *dir != '\0') {
        return dir;
    }
    // The translations of a user install travel with its folder, as its data do.
    std::string beside = programDirectory();
    if (!beside.empty() && g_file_test((beside + "/locale").c_str(), G_FILE_TEST_IS_DIR) != FALSE) {
        return beside + "/locale";
    }
    return LOCALEDIR;
}

std::string dataFilePath(const std::string& fileName) {
    return dataDirectory() + "/" + fileName;
}

Result<std::string> readDataFile(const std::string& path, const std::string& what) {
    auto contents = readSmallRegularFile(path);
    if (!contents || !*contents) {
        // TRANSLATORS: "cannot read the model table (/path/models.json): <the reason>".
        return makeError(ErrorKind::Configuration,
                         textf(_("cannot read %s (%s): %s"), what.c_str(), path.c_str(),
                               contents ? g_strerror(ENOENT) : contents.error().message.c_str()));
    }
    return std::move(**contents);
}

} // namespace imagegen
