#include "host/gimp_host.h"

#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "host/gimp_shared.h"
#include "host/host_errors.h"
#include "host/layer_steps.h"

#include <libgimp/gimp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

namespace imagegen::host {

namespace {

// libgimp owns its item objects (they are proxies of GIMP's): these look them up, nullptr when
// the ID names nothing valid now.
GimpImage* imageOf(int id) {
    if (id <= 0) {
        return nullptr;
    }
    GimpImage* image = gimp_image_get_by_id(id);
    return image != nullptr && gimp_image_is_valid(image) != FALSE ? image : nullptr;
}
GimpItem* itemOf(int id) {
    if (id <= 0) {
        return nullptr;
    }
    GimpItem* item = gimp_item_get_by_id(id);
    return item != nullptr && gimp_item_is_valid(item) != FALSE ? item : nullptr;
}

GeglBufferRef bufferOf(GimpDrawable* drawable) {
    ensureGegl();
    return adoptRef(gimp_drawable_get_buffer(drawable));
}

// `rect` of `drawable` (drawable coordinates) in `format`, transparent (zeros) outside it.
void readBuffer(GimpDrawable* drawable, Rect rect, const char* format, uint8_t* out) {
    GeglBufferRef buffer = bufferOf(drawable);
    if (!buffer) {
        return;
    }
    const GeglRectangle r{rect.x, rect.y, rect.width, rect.height};
    gegl_buffer_get(buffer.get(), &r, 1.0, babl_format(format), out, GEGL_AUTO_ROWSTRIDE,
                    GEGL_ABYSS_NONE);
}

// `rect` of `drawable` as 8-bit sRGB with alpha. GIMP 3 has no tile API: pixels come through
// GEGL, and babl's conversion from an 8-bit layer in GIMP's built-in sRGB (the space of an image
// without a profile of its own) to babl's sRGB R'G'B'A u8 goes the long way round, though the
// values are the same: 366 ms for 1024x768, against 10 ms to fetch the layer's own bytes
// (tools/benchmark3). Such a layer is read in its own format, alpha added where it has none;
// anything else (16/32-bit, linear, grayscale, a profile) goes through GEGL, which converts.
// IMAGEGEN_PIXELS=gegl forces GEGL everywhere, for the test that compares the two.
void readRgba(GimpDrawable* drawable, Rect rect, uint8_t* out) {
    GimpImage* image = gimp_item_get_image(GIMP_ITEM(drawable));
    const GRef<GimpColorProfile> profile =
        adoptRef(image != nullptr ? gimp_image_get_color_profile(image) : nullptr);
    const Babl* own = gimp_drawable_get_format(drawable);
    const bool direct = !profile && g_strcmp0(g_getenv("IMAGEGEN_PIXELS"), "gegl") != 0;
    if (!direct || (own != babl_format_with_space("R'G'B'A u8", own) &&
                    own != babl_format_with_space("R'G'B' u8", own))) {
        readBuffer(drawable, rect, "R'G'B'A u8", out);
        return;
    }
    GeglBufferRef buffer = bufferOf(drawable);
    if (!buffer) {
        return;
    }
    const GeglRectangle r{rect.x, rect.y, rect.width, rect.height};
    if (babl_format_has_alpha(own) != 0) {
        gegl_buffer_get(buffer.get(), &r, 1.0, own, out, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        return;
    }
    // RGB in place: the three bytes of each pixel moved up to its four, from the last pixel on;
    // opaque where the layer is, transparent (zeros) outside it, as GEGL's conversion gives.
    gegl_buffer_get(buffer.get(), &r, 1.0, own, out, rect.width * 3, GEGL_ABYSS_NONE);
    const int layerWidth = gimp_drawable_get_width(drawable);
    const int layerHeight = gimp_drawable_get_height(drawable);
    for (int y = rect.height - 1; y >= 0; --y) {
        const bool rowInside = rect.y + y >= 0 && rect.y + y < layerHeight;
        for (int x = rect.width - 1; x >= 0; --x) {
            const size_t i = static_cast<size_t>(y) * rect.width + x;
            const bool inside = rowInside && rect.x + x >= 0 && rect.x + x < layerWidth;
            out[i * 4 + 3] = inside ? 255 : 0;
            out[i * 4 + 2] = out[i * 3 + 2];
            out[i * 4 + 1] = out[i * 3 + 1];
            out[i * 4] = out[i * 3];
        }
    }
}

// Writes a whole `width`x`height` drawable from `pixels` in `format`; GEGL converts to the
// drawable's own format, whatever the image's precision (8, 16 or 32 bits, linear or not) and
// base type (a grayscale image's layers take the luminance).
Status writeBuffer(GimpDrawable* drawable, int width, int height, const char* format,
                   const uint8_t* pixels) {
    GeglBufferRef buffer = bufferOf(drawable);
    if (!buffer) {
        return gimpRefused(_("the pixels of a result layer"));
    }
    const GeglRectangle rect{0, 0, width, height};
    gegl_buffer_set(buffer.get(), &rect, 0, babl_format(format), pixels, GEGL_AUTO_ROWSTRIDE);
    gegl_buffer_flush(buffer.get());
    return Ok{};
}

void deleteItem(GimpItem* item) {
    if (item != nullptr && gimp_item_is_valid(item) != FALSE) {
        gimp_item_delete(item);
    }
}

Status writeMask(GimpLayer* layer, const NewLayer& l) {
    GimpLayerMask* mask = gimp_layer_create_mask(layer, GIMP_ADD_MASK_WHITE);
    if (mask == nullptr || gimp_layer_add_mask(layer, mask) == FALSE) {
        deleteItem(GIMP_ITEM(mask));
        return gimpRefused(_("to add a layer mask to a result"));
    }
    // Adding a mask makes it the one edited; the result itself should be, so that the next run
    // starts from it.
    gimp_layer_set_edit_mask(layer, FALSE);
    // Y' as GIMP's own selection-to-mask does, so the mask equals the selection read as Y'.
    return writeBuffer(GIMP_DRAWABLE(mask), l.bounds.width, l.bounds.height, "Y' u8",
                       l.mask.data());
}

Status writeLayer(GimpLayer* layer, const NewLayer& l) {
    if (auto written = writeBuffer(GIMP_DRAWABLE(layer), l.bounds.width, l.bounds.height,
                                   "R'G'B'A u8", l.pixels.pixels.data());
        !written) {
        return written;
    }
    if (!l.mask.empty()) {
        if (auto masked = writeMask(layer, l); !masked) {
            return masked;
        }
    }
    if (!l.parasite.empty()) {
        if (!attachResultNote(GIMP_ITEM(layer), l.parasite)) {
            return gimpRefused(_("the note of how a result was made (its parasite)"));
        }
    }
    if (gimp_item_set_visible(GIMP_ITEM(layer), l.visible ? TRUE : FALSE) == FALSE ||
        gimp_drawable_update(GIMP_DRAWABLE(layer), 0, 0, l.bounds.width, l.bounds.height) ==
            FALSE) {
        return gimpRefused(_("to show a result layer"));
    }
    return Ok{};
}

// One result layer, outside the image; an error when GIMP refuses any part of it, with nothing
// of it left.
Result<GimpLayer*> makeLayer(GimpImage* image, const NewLayer& l, bool gray) {
    GimpLayer* layer =
        gimp_layer_new(image, l.name.c_str(), l.bounds.width, l.bounds.height,
                       gray ? GIMP_GRAYA_IMAGE : GIMP_RGBA_IMAGE, 100.0, GIMP_LAYER_MODE_NORMAL);
    if (layer == nullptr) {
        return gimpRefused(
            textf(_("a new layer of %dx%d pixels"), l.bounds.width, l.bounds.height));
    }
    Status written = gimp_layer_set_offsets(layer, l.bounds.x, l.bounds.y) != FALSE
                         ? writeLayer(layer, l)
                         : Status(gimpRefused(_("to place a result layer")));
    if (!written) {
        deleteItem(GIMP_ITEM(layer));
        return written.error();
    }
    return layer;
}

// GIMP 3's calls for the steps both hosts take (host/layer_steps.h).
LayerSteps<GimpLayer*> stepsFor(GimpImage* image, bool gray) {
    LayerSteps<GimpLayer*> steps;
    steps.make = [image, gray](const NewLayer& l) {
        return makeLayer(image, l, gray);
    };
    steps.discard = [](GimpLayer* layer) {
        deleteItem(GIMP_ITEM(layer));
    };
    steps.newGroup = [image](const std::string& name) -> std::optional<GimpLayer*> {
        GimpGroupLayer* group = gimp_group_layer_new(image, name.c_str());
        return group != nullptr ? std::optional<GimpLayer*>(GIMP_LAYER(group)) : std::nullopt;
    };
    steps.insert = [image](GimpLayer* layer, std::optional<GimpLayer*> parent, int position) {
        return gimp_image_insert_layer(image, layer, parent.value_or(nullptr), position) != FALSE;
    };
    steps.remove = [image](GimpLayer* layer) {
        gimp_image_remove_layer(image, layer);
    };
    return steps;
}

DrawableKind kindOf(GimpItem* item) {
    if (item == nullptr) {
        return DrawableKind::Missing;
    }
    if (gimp_item_is_layer_mask(item) != FALSE) {
        return DrawableKind::LayerMask;
    }
    if (gimp_item_is_channel(item) != FALSE) {
        return DrawableKind::Channel;
    }
    if (gimp_item_is_group(item) != FALSE) {
        return DrawableKind::Group;
    }
    return gimp_item_is_layer(item) != FALSE ? DrawableKind::Layer : DrawableKind::NotALayer;
}

std::vector<int> idsOf(const std::vector<GimpLayer*>& layers) {
    std::vector<int> ids;
    ids.reserve(layers.size());
    for (GimpLayer* layer : layers) {
        ids.push_back(gimp_item_get_id(GIMP_ITEM(layer)));
    }
    return ids;
}

} // namespace

Status GimpHost::checkImage() const {
    GimpImage* image = imageOf(image_);
    if (image == nullptr) {
        return imageClosed();
    }
    if (gimp_image_get_base_type(image) == GIMP_INDEXED) {
        return indexedImage();
    }
    return Ok{};
}

Result<ImageGeometry> GimpHost::inspect() {
    if (auto s = checkImage(); !s) {
        return s.error();
    }
    GimpImage* image = imageOf(image_);
    GimpItem* item = itemOf(drawable_);
    if (auto s = checkDrawable(kindOf(item)); !s) {
        return s.error();
    }
    auto* drawable = GIMP_DRAWABLE(item);
    ImageGeometry g;
    g.canvas = {gimp_image_get_width(image), gimp_image_get_height(image)};
    gint ox = 0;
    gint oy = 0;
    gimp_drawable_get_offsets(drawable, &ox, &oy);
    g.drawable = {ox, oy, gimp_drawable_get_width(drawable), gimp_drawable_get_height(drawable)};
    g.selection = selectionBounds(image);
    return g;
}

RgbaImage GimpHost::readRegion(Rect region, PixelSource source) {
    if (source == PixelSource::Visible) {
        // GIMP's projection as a layer that is never inserted, deleted when the read is done.
        GimpImage* image = imageOf(image_);
        GimpLayer* visible = image != nullptr
                                 ? gimp_layer_new_from_visible(image, image, "imagegen visible")
                                 : nullptr;
        if (visible == nullptr) {
            return RgbaImage(region.width, region.height);
        }
        const std::unique_ptr<GimpItem, decltype(&deleteItem)> owned(GIMP_ITEM(visible),
                                                                     &deleteItem);
        return readDrawable(gimp_item_get_id(owned.get()), region);
    }
    return readDrawable(drawable_, region);
}

RgbaImage GimpHost::readDrawable(int drawable, Rect region) const {
    RgbaImage out(region.width, region.height);
    GimpItem* item = itemOf(drawable);
    if (item == nullptr) {
        return out;
    }
    gint ox = 0;
    gint oy = 0;
    gimp_drawable_get_offsets(GIMP_DRAWABLE(item), &ox, &oy);
    readRgba(GIMP_DRAWABLE(item), Rect{region.x - ox, region.y - oy, region.width, region.height},
             out.pixels.data());
    return out;
}

std::vector<uint8_t> GimpHost::readSelection(Rect region) {
    std::vector<uint8_t> coverage(static_cast<size_t>(region.width) * region.height, 0);
    GimpImage* image = imageOf(image_);
    if (image == nullptr) {
        return coverage;
    }
    readBuffer(GIMP_DRAWABLE(gimp_image_get_selection(image)), region, "Y' u8", coverage.data());
    return coverage;
}

Result<RgbaImage> GimpHost::readLayer(int layer) {
    GimpItem* item = itemOf(layer);
    if (item == nullptr || gimp_item_is_layer(item) == FALSE || gimp_item_is_group(item) != FALSE) {
        return notAPixelLayer(layer);
    }
    auto* drawable = GIMP_DRAWABLE(item);
    RgbaImage out(gimp_drawable_get_width(drawable), gimp_drawable_get_height(drawable));
    readRgba(drawable, Rect{0, 0, out.width, out.height}, out.pixels.data());
    return out;
}

RgbaImage GimpHost::thumbnail(int maxSide, PixelSource source) {
    GimpImage* image = imageOf(image_);
    if (image == nullptr) {
        return {};
    }
    gint width = maxSide;
    gint height = maxSide;
    gint bpp = 0;
    const GBytesPtr data(gimp_image_get_thumbnail_data(image, &width, &height, &bpp));
    if (!data) {
        return {};
    }
    gsize size = 0;
    const auto* bytes = static_cast<const uint8_t*>(g_bytes_get_data(data.get(), &size));
    RgbaImage picture = thumbnailToRgba(bytes, size, width, height, bpp);
    GimpItem* item = itemOf(drawable_);
    if (source == PixelSource::Visible || picture.width <= 0 || item == nullptr) {
        return picture;
    }
    // The active layer alone, where it lies on a transparent picture.
    auto* drawable = GIMP_DRAWABLE(item);
    const double scale = static_cast<double>(picture.width) / gimp_image_get_width(image);
    gint ox = 0;
    gint oy = 0;
    gimp_drawable_get_offsets(drawable, &ox, &oy);
    gint layerWidth = 0;
    gint layerHeight = 0;
    const GBytesPtr layerData(gimp_drawable_get_thumbnail_data(
        drawable, std::max(1, static_cast<int>(gimp_drawable_get_width(drawable) * scale)),
        std::max(1, static_cast<int>(gimp_drawable_get_height(drawable) * scale)), &layerWidth,
        &layerHeight, &bpp));
    if (!layerData) {
        return RgbaImage(picture.width, picture.height);
    }
    const auto* layerBytes = static_cast<const uint8_t*>(g_bytes_get_data(layerData.get(), &size));
    const RgbaImage layer = thumbnailToRgba(layerBytes, size, layerWidth, layerHeight, bpp);
    return layerOnPicture(layer, {picture.width, picture.height},
                          static_cast<int>(std::lround(ox * scale)),
                          static_cast<int>(std::lround(oy * scale)));
}

std::optional<Size> GimpHost::canvasSize() const {
    GimpImage* image = imageOf(image_);
    if (image == nullptr) {
        return std::nullopt;
    }
    return Size{gimp_image_get_width(image), gimp_image_get_height(image)};
}

// The inserts of host/layer_steps.h, with GIMP 3's calls.
Result<std::vector<int>> GimpHost::insertAboveActive(const std::vector<NewLayer>& layers,
                                                     const std::string& groupName,
                                                     const CancelCheck& isCancelled,
                                                     std::optional<Rect> canvas) {
    // The user may close the image or delete the layer while the run waits for the service.
    GimpImage* image = imageOf(image_);
    GimpItem* source = itemOf(drawable_);
    if (image == nullptr || source == nullptr) {
        return closedMeanwhile();
    }
    InsertPlace<GimpLayer*> place = placeIn<GimpLayer*>(image);
    if (GimpItem* parent = gimp_item_get_parent(source); parent != nullptr) {
        place.parent = GIMP_LAYER(parent);
    }
    place.position = gimp_image_get_item_position(image, source);
    place.select = [image](GimpLayer* first) {
        const GimpLayer* selected[] = {first, nullptr};
        gimp_image_set_selected_layers(image, selected);
    };
    const bool gray = gimp_image_get_base_type(image) == GIMP_GRAY;
    auto made = insertAbove(stepsFor(image, gray), place, layers, groupName, isCancelled, canvas);
    if (!made) {
        return made.error();
    }
    gimp_displays_flush();
    return idsOf(*made);
}

Result<int> GimpHost::createImage(Size canvas, const std::vector<NewLayer>& layers,
                                  const std::string& groupName, const CancelCheck& isCancelled) {
    GimpImage* image = gimp_image_new(canvas.width, canvas.height, GIMP_RGB);
    if (image == nullptr) {
        return gimpRefused(textf(_("a new image of %dx%d pixels"), canvas.width, canvas.height));
    }
    gimp_image_undo_disable(image);
    const LayerSteps<GimpLayer*> steps = stepsFor(image, false);
    auto made = makeLayers(steps, layers, isCancelled);
    if (!made) {
        gimp_image_delete(image);
        return made.error();
    }
    if (auto in = insertUnder(steps, std::optional<GimpLayer*>(), 0, *made, groupName); !in) {
        gimp_image_delete(image);
        return in.error();
    }
    gimp_image_undo_enable(image);
    if (display_) {
        gimp_display_new(image);
        gimp_displays_flush();
    }
    return gimp_image_get_id(image);
}

} // namespace imagegen::host
