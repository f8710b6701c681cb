#include "host/gimp_process.h"

#include "core/util/glib_ptr.h"

#include <libgimp/gimp.h>

#include <unistd.h>

#include <cstring>
#include <string>

namespace imagegen::host {

std::optional<std::string> loadLastValues(const char* procedure) {
    const gint size = gimp_get_data_size(procedure);
    constexpr gint kMaxSize = 1 << 20;
    if (size <= 0 || size > kMaxSize) {
        return std::nullopt;
    }
    std::string json(static_cast<size_t>(size), '\0');
    if (!gimp_get_data(procedure, json.data())) {
        return std::nullopt;
    }
    json.resize(std::strlen(json.c_str()));
    return json;
}

void saveLastValues(const char* procedure, const std::string& json) {
    gimp_set_data(procedure, json.c_str(), static_cast<guint32>(json.size() + 1));
}

// The image's file (its XCF, or the file it was imported from) when it has one: the results
// come back whenever that file is open again, in this GIMP or a later one. An image never saved
// has only its ID, which each GIMP process hands out again from 1: with GIMP's process (the
// plug-in's parent) in the key, image 1 of a later session does not show another picture's
// results. Generate Image has no image: its results are kept under one key of their own.
std::string resultsKey(int image) {
    if (image < 0 || gimp_image_is_valid(image) == FALSE) {
        return "new-image";
    }
    const GCharPtr file(gimp_image_get_filename(image));
    if (file) {
        return std::string("file:") + file.get();
    }
    return "image:" + std::to_string(image) + "@" + std::to_string(static_cast<long>(getppid()));
}

int runDrawable(int image, int opened) {
    if (gimp_image_is_valid(image) == FALSE) {
        return -1;
    }
    if (opened >= 0 && gimp_item_is_valid(opened) != FALSE &&
        gimp_item_get_image(opened) == image) {
        return opened;
    }
    return gimp_image_get_active_drawable(image);
}

dialog::ParentWindow imageWindow() {
    const gint32 display = gimp_default_display();
    if (display <= 0 || gimp_display_is_valid(display) == FALSE) {
        return {};
    }
    return {static_cast<unsigned long>(gimp_display_get_window_handle(display)), {}};
}

// GIMP 2.10 draws through X11 only (XWayland on a Wayland desktop).
std::string dialogBackends(const dialog::ParentWindow& /*parent*/) {
    return "x11";
}

bool themeIsDark() {
    // The gimprc's "theme" (quoted, e.g. "\"Dark\""); the default theme is Dark.
    const GCharPtr theme(gimp_gimprc_query("theme"));
    if (!theme) {
        return true;
    }
    const std::string name = theme.get();
    return name.find("Dark") != std::string::npos || name.find("Gray") != std::string::npos;
}

} // namespace imagegen::host
