#include "dialog/window_fit.h"

#include "core/util/glib_ptr.h"

#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif
#ifdef GDK_WINDOWING_WAYLAND
#include <gdk/gdkwayland.h>
#endif

#include <algorithm>

namespace imagegen::dialog {

namespace {

// A column of controls beside the picture of what is sent: wide enough for both.
constexpr int kFirstWidth = 820;
constexpr int kFirstHeight = 640;
// What the window manager adds around the window (title bar, borders), which the work area
// must hold too.
constexpr int kFrameWidth = 16;
constexpr int kFrameHeight = 48;

GdkMonitor* monitorOf(GtkWindow* window) {
    GdkDisplay* display = gtk_widget_get_display(GTK_WIDGET(window));
    GdkWindow* gdkWindow = gtk_widget_get_window(GTK_WIDGET(window));
    if (GdkMonitor* at = gdkWindow != nullptr
                             ? gdk_display_get_monitor_at_window(display, gdkWindow)
                             : nullptr) {
        return at;
    }
    if (GdkMonitor* primary = gdk_display_get_primary_monitor(display)) {
        return primary;
    }
    return gdk_display_get_n_monitors(display) > 0 ? gdk_display_get_monitor(display, 0) : nullptr;
}

constexpr const char* kGroup = "dialog";

} // namespace

void fitToWorkArea(GtkWindow* window) {
    GdkMonitor* monitor = monitorOf(window);
    if (monitor == nullptr) {
        return;
    }
    GdkRectangle area{};
    gdk_monitor_get_workarea(monitor, &area);
    const int maxWidth = std::max(1, area.width - kFrameWidth);
    const int maxHeight = std::max(1, area.height - kFrameHeight);
    gtk_window_resize(window, std::min(kFirstWidth, maxWidth), std::min(kFirstHeight, maxHeight));
    GdkGeometry hints{};
    hints.max_width = maxWidth;
    hints.max_height = maxHeight;
    gtk_window_set_geometry_hints(window, nullptr, &hints, GDK_HINT_MAX_SIZE);
}

bool loadExpanded(const std::string& stateFile, const char* key, bool fallback) {
    if (stateFile.empty()) {
        return fallback;
    }
    const GKeyFilePtr file(g_key_file_new());
    if (g_key_file_load_from_file(file.get(), stateFile.c_str(), G_KEY_FILE_NONE, nullptr) ==
        FALSE) {
        return fallback;
    }
    GErrorPtr error;
    const gboolean value = g_key_file_get_boolean(file.get(), kGroup, key, outPtr(error));
    return error ? fallback : value != FALSE;
}

void saveExpanded(const std::string& stateFile, const char* key, bool expanded) {
    if (stateFile.empty()) {
        return;
    }
    const GKeyFilePtr file(g_key_file_new());
    (void)g_key_file_load_from_file(file.get(), stateFile.c_str(), G_KEY_FILE_KEEP_COMMENTS,
                                    nullptr);
    g_key_file_set_boolean(file.get(), kGroup, key, expanded ? TRUE : FALSE);
    gsize length = 0;
    const GCharPtr text(g_key_file_to_data(file.get(), &length, nullptr));
    if (text) {
        (void)g_file_set_contents_full(stateFile.c_str(), text.get(), static_cast<gssize>(length),
                                       G_FILE_SET_CONTENTS_CONSISTENT, 0600, nullptr);
    }
}

// The dialog stays above the image window it was opened from, as GIMP's own dialogs do: on X11
// through the image window's ID, on Wayland through the handle GIMP exported for it, which the
// compositor imports (xdg-foreign). With IMAGEGEN_DEBUG_TRANSIENT=1 it says on stderr whether
// it was made transient, for the tests.
void makeTransient(GtkWindow* dialog, const ParentWindow& parent) {
    GdkDisplay* display = gtk_widget_get_display(GTK_WIDGET(dialog));
    GdkWindow* window = gtk_widget_get_window(GTK_WIDGET(dialog));
    const char* made = nullptr;
#ifdef GDK_WINDOWING_X11
    if (parent.x11 != 0 && GDK_IS_X11_DISPLAY(display)) {
        GdkWindow* foreign = gdk_x11_window_foreign_new_for_display(display, parent.x11);
        if (foreign != nullptr) {
            gdk_window_set_transient_for(window, foreign);
            // GDK keeps a plain pointer to the parent: the dialog holds the reference.
            g_object_set_data_full(G_OBJECT(dialog), "imagegen-parent-window", foreign,
                                   g_object_unref);
            made = "x11";
        }
    }
#endif
#ifdef GDK_WINDOWING_WAYLAND
    if (!parent.wayland.empty() && GDK_IS_WAYLAND_DISPLAY(display)) {
        // FALSE when the compositor offers no xdg-foreign importer (the call takes a char*).
        std::string handle = parent.wayland;
        if (gdk_wayland_window_set_transient_for_exported(window, handle.data()) != FALSE) {
            made = "wayland";
        }
    }
#endif
    if (g_strcmp0(g_getenv("IMAGEGEN_DEBUG_TRANSIENT"), "1") == 0) {
        g_printerr("imagegen: transient for the image window: %s\n", made != nullptr ? made : "no");
    }
}

} // namespace imagegen::dialog
