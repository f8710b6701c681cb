#include "dialog/a11y_guard.h"

#include <gtk/gtk-a11y.h>
#include <gtk/gtk.h>

#include <array>

namespace imagegen::dialog {

namespace {

// GTK's own functions, one set per accessible class wrapped. Each class has its own copy of
// AtkTextIface (GObject copies an inherited interface's table into each subclass), so each is
// wrapped and keeps its own originals.
struct Originals {
    GType type = 0;
    decltype(AtkTextIface::get_character_extents) characterExtents = nullptr;
    decltype(AtkTextIface::get_offset_at_point) offsetAtPoint = nullptr;
    decltype(AtkTextIface::get_range_extents) rangeExtents = nullptr;
};

constexpr size_t kClasses = 4;
std::array<Originals, kClasses> originals;

const Originals* originalsOf(AtkText* text) {
    for (const Originals& o : originals) {
        if (o.type != 0 && G_TYPE_FROM_INSTANCE(text) == o.type) {
            return &o;
        }
    }
    // A subclass of a wrapped class that GTK made after the wrap: it copied the wrapped table,
    // so the nearest wrapped ancestor's originals are its own.
    for (const Originals& o : originals) {
        if (o.type != 0 && G_TYPE_CHECK_INSTANCE_TYPE(text, o.type)) {
            return &o;
        }
    }
    return nullptr;
}

// Whether GTK may compute a position for this accessible: its widget exists and is realized.
bool placed(AtkText* text) {
    GtkWidget* widget = gtk_accessible_get_widget(GTK_ACCESSIBLE(text));
    return widget != nullptr && gtk_widget_get_realized(widget) != FALSE;
}

void characterExtents(AtkText* text, gint offset, gint* x, gint* y, gint* width, gint* height,
                      AtkCoordType coords) {
    const Originals* o = originalsOf(text);
    if (o == nullptr || o->characterExtents == nullptr || !placed(text)) {
        *x = *y = *width = *height = -1;
        return;
    }
    o->characterExtents(text, offset, x, y, width, height, coords);
}

gint offsetAtPoint(AtkText* text, gint x, gint y, AtkCoordType coords) {
    const Originals* o = originalsOf(text);
    if (o == nullptr || o->offsetAtPoint == nullptr || !placed(text)) {
        return -1;
    }
    return o->offsetAtPoint(text, x, y, coords);
}

void rangeExtents(AtkText* text, gint start, gint end, AtkCoordType coords, AtkTextRectangle* r) {
    const Originals* o = originalsOf(text);
    if (o == nullptr || o->rangeExtents == nullptr || !placed(text)) {
        r->x = r->y = r->width = r->height = -1;
        return;
    }
    o->rangeExtents(text, start, end, coords, r);
}

void wrap(size_t slot, GType type) {
    // The class lives as long as the process: GTK never unloads its accessible types.
    auto* klass = g_type_class_ref(type);
    auto* iface = static_cast<AtkTextIface*>(g_type_interface_peek(klass, ATK_TYPE_TEXT));
    if (iface == nullptr || iface->get_character_extents == characterExtents) {
        return;
    }
    originals.at(slot) = {type, iface->get_character_extents, iface->get_offset_at_point,
                          iface->get_range_extents};
    iface->get_character_extents = characterExtents;
    if (iface->get_offset_at_point != nullptr) {
        iface->get_offset_at_point = offsetAtPoint;
    }
    if (iface->get_range_extents != nullptr) {
        iface->get_range_extents = rangeExtents;
    }
}

} // namespace

void guardTextExtents() {
    static bool done = false;
    if (done) {
        return;
    }
    done = true;
    // Parents first: a subclass initialised by g_type_class_ref copies its parent's table.
    wrap(0, GTK_TYPE_LABEL_ACCESSIBLE);
    wrap(1, GTK_TYPE_ENTRY_ACCESSIBLE);
    wrap(2, GTK_TYPE_SPIN_BUTTON_ACCESSIBLE);
    wrap(3, GTK_TYPE_TEXT_VIEW_ACCESSIBLE);
}

} // namespace imagegen::dialog
