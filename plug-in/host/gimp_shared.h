// What host/gimp2/gimp_host.cpp and host/gimp3/gimp_host.cpp share, with the calls GIMP 2.10 and
// GIMP 3 have by the same names: GEGL's start, owners of buffers and parasites, and the image's
// side of an insert.
#pragma once

#include "host/layer_steps.h"

#include <libgimp/gimp.h>

#include "core/util/glib_ptr.h"

#include <memory>
#include <optional>
#include <string>

namespace imagegen::host {

using GeglBufferRef = GRef<GeglBuffer>;
using ParasitePtr = std::unique_ptr<GimpParasite, GFreeWith<gimp_parasite_free>>;

// GEGL starts once, when a run first needs a buffer (it costs a quarter of a second).
void ensureGegl();

// host/layer_steps.h's InsertPlace: one undo group, the canvas resized. `Image` is GIMP's handle
// of an image (an ID in 2.10, a GimpImage* in 3), `Layer` its handle of a layer.

template <typename Layer, typename Image> InsertPlace<Layer> placeIn(Image image) {
    InsertPlace<Layer> place;
    place.undoStart = [image] {
        gimp_image_undo_group_start(image);
    };
    place.undoEnd = [image] {
        gimp_image_undo_group_end(image);
    };
    place.resize = [image](Rect grown) {
        return gimp_image_resize(image, grown.width, grown.height, grown.x, grown.y) != FALSE;
    };
    return place;
}

// The selection's bounds; nothing when nothing is selected.
template <typename Image> std::optional<Rect> selectionBounds(Image image) {
    gboolean nonEmpty = FALSE;
    gint x1 = 0;
    gint y1 = 0;
    gint x2 = 0;
    gint y2 = 0;
    gimp_selection_bounds(image, &nonEmpty, &x1, &y1, &x2, &y2);
    if (nonEmpty == FALSE) {
        return std::nullopt;
    }
    return Rect{x1, y1, x2 - x1, y2 - y1};
}

// The note of how a result was made (JSON), kept with the layer and saved with the image.
template <typename Item> bool attachResultNote(Item item, const std::string& note) {
    const ParasitePtr parasite(gimp_parasite_new("imagegen-result", GIMP_PARASITE_PERSISTENT,
                                                 static_cast<guint32>(note.size() + 1),
                                                 note.c_str()));
    return gimp_item_attach_parasite(item, parasite.get()) != FALSE;
}

} // namespace imagegen::host
