// A temporary folder for a test, removed with everything in it when the test ends (a link in it
// is removed, never followed).
#pragma once

#include "core/util/glib_ptr.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <string>

namespace imagegen::test {

class TempDir {
  public:
    TempDir() : path_(makeTemp()) {}
    ~TempDir() { removeTree(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;
    [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
    static std::string makeTemp() {
        const GCharPtr dir(g_dir_make_tmp("imagegen-test-XXXXXX", nullptr));
        return dir ? dir.get() : "/nonexistent";
    }
    static void removeTree(const std::string& path) {
        GDir* dir = g_file_test(path.c_str(), G_FILE_TEST_IS_SYMLINK)
                        ? nullptr
                        : g_dir_open(path.c_str(), 0, nullptr);
        if (dir != nullptr) {
            while (const char* name = g_dir_read_name(dir)) {
                removeTree(path + "/" + name);
            }
            g_dir_close(dir);
            g_rmdir(path.c_str());
        } else {
            g_remove(path.c_str());
        }
    }
};

} // namespace imagegen::test
