// host/gimp_process.h for GIMP 3.
#include "host/gimp_process.h"

#include "core/util/glib_ptr.h"

#include <libgimp/gimp.h>

#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

namespace imagegen::host {

// GIMP 3 keeps the last values itself, in the procedure's config (plug-in/host/gimp3/
// plugin_main.cpp reads and writes them there): nothing is kept beside them.
std::optional<std::string> loadLastValues(const char* /*procedure*/) {
    return std::nullopt;
}
void saveLastValues(const char* /*procedure*/, const std::string& /*json*/) {}

// The image's file when it has one, else its ID within this GIMP (its process, the plug-in's
// parent, in the key), as the 2.10 host keys them (host/gimp2/gimp_process.cpp says why).
std::string resultsKey(int image) {
    GimpImage* img = image > 0 ? gimp_image_get_by_id(image) : nullptr;
    if (img == nullptr || gimp_image_is_valid(img) == FALSE) {
        return "new-image";
    }
    // The PDB hands the file over (transfer full).
    if (const GRef<GFile> file = adoptRef(gimp_image_get_file(img))) {
        const GCharPtr path(g_file_get_path(file.get()));
        if (path) {
            return std::string("file:") + path.get();
        }
    }
    return "image:" + std::to_string(image) + "@" + std::to_string(static_cast<long>(getppid()));
}

int runDrawable(int image, int opened) {
    GimpImage* img = image > 0 ? gimp_image_get_by_id(image) : nullptr;
    if (img == nullptr || gimp_image_is_valid(img) == FALSE) {
        return -1;
    }
    GimpItem* kept = opened > 0 ? gimp_item_get_by_id(opened) : nullptr;
    if (kept != nullptr && gimp_item_is_valid(kept) != FALSE && gimp_item_get_image(kept) == img) {
        return opened;
    }
    // GIMP 3 may have several layers selected: the run takes one, so only then is there one.
    struct FreeArray { // the array only: libgimp owns the objects
        void operator()(GimpDrawable** p) const noexcept { g_free(static_cast<void*>(p)); }
    };
    const std::unique_ptr<GimpDrawable*, FreeArray> drawables(
        gimp_image_get_selected_drawables(img));
    if (!drawables || drawables.get()[0] == nullptr || drawables.get()[1] != nullptr) {
        return -1;
    }
    return gimp_item_get_id(GIMP_ITEM(drawables.get()[0]));
}

namespace {

// A Wayland handle, as GIMP 3 exports it: text ending in a NUL. An X11 window ID, which GIMP 3
// passes as the bytes of a Window (an unsigned long), is below 2^32, so its upper bytes are NULs
// and it never reads as such a text.
bool isTextHandle(const char* data, gsize size) {
    if (size < 2 || data[size - 1] != '\0') {
        return false;
    }
    for (gsize i = 0; i + 1 < size; ++i) {
        if (g_ascii_isgraph(data[i]) == FALSE) {
            return false;
        }
    }
    return true;
}

} // namespace

dialog::ParentWindow imageWindow() {
    GimpDisplay* display = gimp_default_display();
    if (display == nullptr || gimp_display_is_valid(display) == FALSE) {
        return {};
    }
    // GIMP 3 gives what its own windowing system names the window by (libgimpwidgets reads it
    // the same way): on X11 the window's XID as a Window, on Wayland the handle it exported.
    const GBytesPtr handle(gimp_display_get_window_handle(display));
    if (!handle) {
        return {};
    }
    gsize size = 0;
    const auto* data = static_cast<const char*>(g_bytes_get_data(handle.get(), &size));
    if (data == nullptr) {
        return {};
    }
    dialog::ParentWindow parent;
    if (isTextHandle(data, size)) {
        parent.wayland.assign(data, size - 1);
    } else if (size == sizeof parent.x11) {
        std::memcpy(&parent.x11, data, sizeof parent.x11);
    }
    return parent;
}

// The backend GIMP draws through, as its handle tells; without one, GDK's own choice, which in
// the environment the plug-in inherits from GIMP is GIMP's (WAYLAND_DISPLAY, DISPLAY, GDK_BACKEND).
std::string dialogBackends(const dialog::ParentWindow& parent) {
    if (!parent.wayland.empty()) {
        return "wayland";
    }
    return parent.x11 != 0 ? "x11" : "";
}

bool themeIsDark() {
    // GIMP 3's gimprc says "prefer-dark-theme" (yes by default) for its Default theme.
    const GCharPtr dark(gimp_gimprc_query("prefer-dark-theme"));
    return !dark || g_strcmp0(dark.get(), "no") != 0;
}

} // namespace imagegen::host
