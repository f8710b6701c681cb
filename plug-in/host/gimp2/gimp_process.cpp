#include "host/gimp_process.h"

#include "core/util/glib_ptr.h"

#include <libgimp/gimp.h>

#include <cstring>

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

int activeDrawable(int image) {
    return gimp_image_is_valid(image) != FALSE ? gimp_image_get_active_drawable(image) : -1;
}

unsigned long imageWindowHandle() {
    const gint32 display = gimp_default_display();
    if (display <= 0 || gimp_display_is_valid(display) == FALSE) {
        return 0;
    }
    return static_cast<unsigned long>(gimp_display_get_window_handle(display));
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
