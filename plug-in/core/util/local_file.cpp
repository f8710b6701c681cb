#include "core/util/local_file.h"

#include "core/util/i18n.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imagegen {

namespace {

// Closes the descriptor on every way out.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    [[nodiscard]] int get() const { return fd_; }

  private:
    int fd_;
};

Error refused(const std::string& why) {
    return makeError(ErrorKind::Configuration, why);
}

Error tooLarge(size_t maxBytes) {
    return refused(textf(_("it holds more than %s, more than such a file may take"),
                         megabytes(maxBytes).c_str()));
}

} // namespace

Result<std::optional<std::string>> readSmallRegularFile(const std::string& path, size_t maxBytes) {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait for one. A regular file
    // reads as it would without it.
    const Fd fd(g_open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0));
    if (fd.get() < 0) {
        const int error = errno;
        if (error == ENOENT) {
            return std::optional<std::string>();
        }
        return refused(g_strerror(error));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) {
        return refused(g_strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return refused(_("it is not a regular file (but a folder, a pipe or a device)"));
    }
    if (st.st_size < 0 || static_cast<unsigned long long>(st.st_size) > maxBytes) {
        return tooLarge(maxBytes);
    }
    // The file may grow while it is read: the read stops one byte past the bound either way.
    std::string text;
    text.resize(static_cast<size_t>(st.st_size) + 1);
    size_t filled = 0;
    for (;;) {
        if (filled == text.size()) {
            if (text.size() > maxBytes) {
                return tooLarge(maxBytes);
            }
            text.resize(std::min(maxBytes + 1, text.size() * 2));
        }
        const ssize_t got = read(fd.get(), text.data() + filled, text.size() - filled);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return refused(g_strerror(errno));
        }
        if (got == 0) {
            break;
        }
        filled += static_cast<size_t>(got);
    }
    text.resize(filled);
    return std::optional<std::string>(std::move(text));
}

} // namespace imagegen
