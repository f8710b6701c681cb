#include "host/gimp_host.h"

#include "core/pixels/srgb.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "host/gimp_shared.h"
#include "host/host_errors.h"
#include "host/layer_steps.h"

#include <libgimp/gimp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>

namespace imagegen::host {

namespace {

// GEGL (babl above all) costs a quarter of a second of start-up, twice what the rest of an edit
// of 1536x1024 takes: it starts only when a run needs it (ensureGegl), and 8-bit sRGB images,
// most of what is edited, never need it (LegacyPixels).
GeglBufferRef bufferOf(int drawable) {
    ensureGegl();
    return adoptRef(gimp_drawable_get_buffer(drawable));
}

// libgimp's tile API moves a drawable's own bytes with no conversion when the image is 8-bit
// gamma RGB(A) in GIMP's built-in sRGB: exactly what gegl_buffer_get/set with R'G'B'A u8 give
// and take there (an RGB layer gains alpha 255; new layers are RGBA), with no GEGL at all.
// Anything else (16/32-bit, linear, grayscale, an ICC profile) goes through GEGL, which
// converts. IMAGEGEN_PIXELS=gegl forces GEGL everywhere, for the test that compares the two.
bool legacyExact(int image) {
    if (g_strcmp0(g_getenv("IMAGEGEN_PIXELS"), "gegl") == 0) {
        return false;
    }
    if (gimp_image_base_type(image) != GIMP_RGB ||
        gimp_image_get_precision(image) != GIMP_PRECISION_U8_GAMMA) {
        return false;
    }
    const ParasitePtr profile(gimp_image_get_parasite(image, "icc-profile"));
    return profile == nullptr;
}

// Selection and layer masks are linear "Y u8" in an 8-bit image, and the run reads and writes
// them as Y' u8 (as GIMP's selection-to-mask does): babl's conversion between the two, the sRGB
// transfer curve rounded to 8 bits. A unit test checks every entry against babl itself.
std::array<uint8_t, 256> tableOf(uint8_t (*convert)(int)) {
    std::array<uint8_t, 256> t{};
    for (int i = 0; i < 256; ++i) {
        t[static_cast<size_t>(i)] = convert(i);
    }
    return t;
}
const std::array<uint8_t, 256>& linearToGamma() {
    static const std::array<uint8_t, 256> table = tableOf(srgbEncode8);
    return table;
}
const std::array<uint8_t, 256>& gammaToLinear() {
    static const std::array<uint8_t, 256> table = tableOf(srgbDecode8);
    return table;
}

// One drawable through the tile API, attached for this object's life; what was written is
// flushed to GIMP when it ends.
class LegacyPixels {
  public:
    explicit LegacyPixels(int drawable) {
        // Without it GIMP serves tiles in its 8-bit compatibility format, which is gamma-encoded
        // for masks and the selection too; with it, each drawable's own format (the tables
        // above then convert masks exactly as GEGL would). gimp_drawable_get_buffer() turns it
        // on as well, so a run that had used GEGL first saw the other format before.
        static const bool precise = gimp_plugin_enable_precision() != FALSE;
        (void)precise;
        G_GNUC_BEGIN_IGNORE_DEPRECATIONS
        drawable_ = gimp_drawable_get(drawable);
        G_GNUC_END_IGNORE_DEPRECATIONS
    }
    ~LegacyPixels() {
        G_GNUC_BEGIN_IGNORE_DEPRECATIONS
        if (dirty_) {
            gimp_drawable_flush(drawable_);
        }
        gimp_drawable_detach(drawable_);
        G_GNUC_END_IGNORE_DEPRECATIONS
    }
    LegacyPixels(const LegacyPixels&) = delete;
    LegacyPixels& operator=(const LegacyPixels&) = delete;
    LegacyPixels(LegacyPixels&&) = delete;
    LegacyPixels& operator=(LegacyPixels&&) = delete;

    [[nodiscard]] int bpp() const { return static_cast<int>(drawable_->bpp); }
    [[nodiscard]] int width() const { return static_cast<int>(drawable_->width); }
    [[nodiscard]] int height() const { return static_cast<int>(drawable_->height); }

    // Rows of `rect` (inside the drawable) in the drawable's own bytes, `bpp()` a pixel.
    void get(Rect rect, uint8_t* out) {
        GimpPixelRgn region;
        G_GNUC_BEGIN_IGNORE_DEPRECATIONS
        gimp_pixel_rgn_init(&region, drawable_, rect.x, rect.y, rect.width, rect.height, FALSE,
                            FALSE);
        gimp_pixel_rgn_get_rect(&region, out, rect.x, rect.y, rect.width, rect.height);
        G_GNUC_END_IGNORE_DEPRECATIONS
    }
    void set(Rect rect, const uint8_t* in) {
        GimpPixelRgn region;
        G_GNUC_BEGIN_IGNORE_DEPRECATIONS
        gimp_pixel_rgn_init(&region, drawable_, rect.x, rect.y, rect.width, rect.height, TRUE,
                            FALSE);
        // libgimp takes the rows as non-const; it only reads them.
        gimp_pixel_rgn_set_rect(&region, const_cast<guchar*>(in), rect.x, rect.y, rect.width,
                                rect.height);
        G_GNUC_END_IGNORE_DEPRECATIONS
        dirty_ = true;
    }

  private:
    GimpDrawable* drawable_ = nullptr;
    bool dirty_ = false;
};

// `rect` of an RGB(A) or one-channel drawable, in drawable coordinates, into `out` (RGBA rows
// of rect.width, or one byte a pixel through `table`); what lies outside the drawable stays as
// `out` was (zeros, as GEGL_ABYSS_NONE reads it).
void readLegacy(int drawable, Rect rect, uint8_t* out, const std::array<uint8_t, 256>* table) {
    LegacyPixels pixels(drawable);
    const Rect inside = intersect(rect, Rect{0, 0, pixels.width(), pixels.height()});
    if (inside.empty()) {
        return;
    }
    const int bpp = pixels.bpp();
    const int outBpp = table != nullptr ? 1 : 4;
    // Strips of 64 rows: a whole 6000x4000 RGB layer is never held twice.
    constexpr int kStrip = 64;
    std::vector<uint8_t> strip(static_cast<size_t>(inside.width) * kStrip * bpp);
    for (int y = inside.y; y < inside.bottom(); y += kStrip) {
        const int rows = std::min(kStrip, inside.bottom() - y);
        pixels.get(Rect{inside.x, y, inside.width, rows}, strip.data());
        for (int r = 0; r < rows; ++r) {
            const uint8_t* in = strip.data() + static_cast<size_t>(r) * inside.width * bpp;
            uint8_t* o =
                out +
                ((static_cast<size_t>(y + r - rect.y) * rect.width) + (inside.x - rect.x)) * outBpp;
            for (int x = 0; x < inside.width; ++x, in += bpp, o += outBpp) {
                if (table != nullptr) {
                    o[0] = (*table)[in[0]];
                } else {
                    o[0] = in[0];
                    o[1] = in[1];
                    o[2] = in[2];
                    o[3] = bpp == 4 ? in[3] : 255;
                }
            }
        }
    }
}

// The picture as the user sees it, as a layer of the image that is never inserted, deleted when
// the scope ends.
struct VisibleLayer {
    explicit VisibleLayer(int image)
        : id(gimp_layer_new_from_visible(image, image, "imagegen visible")) {}
    ~VisibleLayer() {
        if (id > 0) {
            gimp_item_delete(id);
        }
    }
    VisibleLayer(const VisibleLayer&) = delete;
    VisibleLayer& operator=(const VisibleLayer&) = delete;
    VisibleLayer(VisibleLayer&&) = delete;
    VisibleLayer& operator=(VisibleLayer&&) = delete;

    const gint32 id;
};

Status writeMask(int layer, const NewLayer& l, bool legacy) {
    const Rect whole{0, 0, l.bounds.width, l.bounds.height};
    const gint32 mask = gimp_layer_create_mask(layer, GIMP_ADD_MASK_WHITE);
    if (mask <= 0 || gimp_layer_add_mask(layer, mask) == FALSE) {
        if (mask > 0) {
            gimp_item_delete(mask);
        }
        return gimpRefused(_("to add a layer mask to a result"));
    }
    // Adding a mask makes it the active drawable; the result itself should be, so that the
    // next run starts from it.
    gimp_layer_set_edit_mask(layer, FALSE);
    // Y' as GIMP's own selection-to-mask does, so the mask equals the selection read as Y'.
    if (legacy) {
        std::vector<uint8_t> linear(l.mask.size());
        std::transform(l.mask.begin(), l.mask.end(), linear.begin(),
                       [&table = gammaToLinear()](uint8_t v) { return table[v]; });
        LegacyPixels(mask).set(whole, linear.data());
    } else {
        GeglBufferRef buffer = bufferOf(mask);
        const GeglRectangle rect{0, 0, l.bounds.width, l.bounds.height};
        gegl_buffer_set(buffer.get(), &rect, 0, babl_format("Y' u8"), l.mask.data(),
                        GEGL_AUTO_ROWSTRIDE);
    }
    return Ok{};
}

Status writeLayer(int layer, const NewLayer& l, bool legacy) {
    const Rect whole{0, 0, l.bounds.width, l.bounds.height};
    if (legacy) { // an RGBA u8 layer: R'G'B'A u8 is its own format
        LegacyPixels(layer).set(whole, l.pixels.pixels.data());
    } else {
        GeglBufferRef buffer = bufferOf(layer);
        if (!buffer) {
            return gimpRefused(_("the pixels of a result layer"));
        }
        const GeglRectangle rect{0, 0, l.bounds.width, l.bounds.height};
        gegl_buffer_set(buffer.get(), &rect, 0, babl_format("R'G'B'A u8"), l.pixels.pixels.data(),
                        GEGL_AUTO_ROWSTRIDE);
    }
    if (!l.mask.empty()) {
        if (auto masked = writeMask(layer, l, legacy); !masked) {
            return masked;
        }
    }
    if (!l.parasite.empty()) {
        if (!attachResultNote(layer, l.parasite)) {
            return gimpRefused(_("the note of how a result was made (its parasite)"));
        }
    }
    if (gimp_item_set_visible(layer, l.visible ? TRUE : FALSE) == FALSE ||
        gimp_drawable_update(layer, 0, 0, l.bounds.width, l.bounds.height) == FALSE) {
        return gimpRefused(_("to show a result layer"));
    }
    return Ok{};
}

// One result layer, outside the image; an error when GIMP refuses any part of it, with nothing
// of it left.
Result<int> makeLayer(int image, const NewLayer& l, bool gray, bool legacy) {
    const gint32 layer =
        gimp_layer_new(image, l.name.c_str(), l.bounds.width, l.bounds.height,
                       gray ? GIMP_GRAYA_IMAGE : GIMP_RGBA_IMAGE, 100.0, GIMP_LAYER_MODE_NORMAL);
    if (layer <= 0) {
        return gimpRefused(
            textf(_("a new layer of %dx%d pixels"), l.bounds.width, l.bounds.height));
    }
    Status written = gimp_layer_set_offsets(layer, l.bounds.x, l.bounds.y) != FALSE
                         ? writeLayer(layer, l, legacy)
                         : Status(gimpRefused(_("to place a result layer")));
    if (!written) {
        gimp_item_delete(layer);
        return written.error();
    }
    return layer;
}

// GIMP 2.10's calls for the steps both hosts take (host/layer_steps.h).
LayerSteps<int> stepsFor(int image, bool gray) {
    LayerSteps<int> steps;
    const bool legacy = legacyExact(image);
    steps.make = [image, gray, legacy](const NewLayer& l) {
        return makeLayer(image, l, gray, legacy);
    };
    steps.discard = [](int layer) {
        gimp_item_delete(layer);
    };
    steps.newGroup = [image](const std::string& name) -> std::optional<int> {
        const gint32 group = gimp_layer_group_new(image);
        if (group <= 0) {
            return std::nullopt;
        }
        gimp_item_set_name(group, name.c_str());
        return group;
    };
    steps.insert = [image](int layer, std::optional<int> parent, int position) {
        return gimp_image_insert_layer(image, layer, parent.value_or(0), position) != FALSE;
    };
    steps.remove = [image](int layer) {
        gimp_image_remove_layer(image, layer);
    };
    return steps;
}

Status checkIndexed(int image) {
    if (gimp_image_base_type(image) == GIMP_INDEXED) {
        return indexedImage();
    }
    return Ok{};
}

DrawableKind kindOf(int drawable) {
    if (drawable < 0 || gimp_item_is_valid(drawable) == FALSE) {
        return DrawableKind::Missing;
    }
    if (gimp_item_is_layer_mask(drawable)) {
        return DrawableKind::LayerMask;
    }
    if (gimp_item_is_channel(drawable)) {
        return DrawableKind::Channel;
    }
    if (gimp_item_is_group(drawable)) {
        return DrawableKind::Group;
    }
    return gimp_item_is_layer(drawable) ? DrawableKind::Layer : DrawableKind::NotALayer;
}

} // namespace

Status GimpHost::checkImage() const {
    if (gimp_image_is_valid(image_) == FALSE) {
        return imageClosed();
    }
    return checkIndexed(image_);
}

Result<ImageGeometry> GimpHost::inspect() {
    const int image = image_;
    const int drawable = drawable_;
    if (auto s = checkImage(); !s) {
        return s.error();
    }
    if (auto s = checkDrawable(kindOf(drawable)); !s) {
        return s.error();
    }
    ImageGeometry g;
    g.canvas = {gimp_image_width(image), gimp_image_height(image)};
    gint ox = 0;
    gint oy = 0;
    gimp_drawable_offsets(drawable, &ox, &oy);
    g.drawable = {ox, oy, gimp_drawable_width(drawable), gimp_drawable_height(drawable)};
    g.selection = selectionBounds(image);
    return g;
}

RgbaImage GimpHost::readRegion(Rect region, PixelSource source) {
    if (source == PixelSource::Visible) {
        // GIMP's projection as a layer that is never inserted: its buffer shares the projection's
        // tiles until written, and it goes when the read is done.
        const VisibleLayer visible(image_);
        return readDrawable(visible.id, region);
    }
    return readDrawable(drawable_, region);
}

RgbaImage GimpHost::readDrawable(int drawable, Rect region) const {
    gint ox = 0;
    gint oy = 0;
    gimp_drawable_offsets(drawable, &ox, &oy);
    RgbaImage out(region.width, region.height);
    if (legacyExact(image_)) {
        readLegacy(drawable, Rect{region.x - ox, region.y - oy, region.width, region.height},
                   out.pixels.data(), nullptr);
        return out;
    }
    GeglBufferRef buffer = bufferOf(drawable);
    const GeglRectangle rect{region.x - ox, region.y - oy, region.width, region.height};
    gegl_buffer_get(buffer.get(), &rect, 1.0, babl_format("R'G'B'A u8"), out.pixels.data(),
                    GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    return out;
}

std::vector<uint8_t> GimpHost::readSelection(Rect region) {
    const int image = image_;
    std::vector<uint8_t> coverage(static_cast<size_t>(region.width) * region.height, 0);
    if (legacyExact(image)) {
        readLegacy(gimp_image_get_selection(image), region, coverage.data(), &linearToGamma());
        return coverage;
    }
    GeglBufferRef buffer = bufferOf(gimp_image_get_selection(image));
    const GeglRectangle rect{region.x, region.y, region.width, region.height};
    gegl_buffer_get(buffer.get(), &rect, 1.0, babl_format("Y' u8"), coverage.data(),
                    GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    return coverage;
}

Result<RgbaImage> GimpHost::readLayer(int layer) {
    if (!gimp_item_is_valid(layer) || !gimp_item_is_layer(layer) || gimp_item_is_group(layer)) {
        return notAPixelLayer(layer);
    }
    RgbaImage out(gimp_drawable_width(layer), gimp_drawable_height(layer));
    if (legacyExact(gimp_item_get_image(layer))) {
        readLegacy(layer, Rect{0, 0, out.width, out.height}, out.pixels.data(), nullptr);
        return out;
    }
    GeglBufferRef buffer = bufferOf(layer);
    const GeglRectangle rect{0, 0, out.width, out.height};
    gegl_buffer_get(buffer.get(), &rect, 1.0, babl_format("R'G'B'A u8"), out.pixels.data(),
                    GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    return out;
}

RgbaImage GimpHost::thumbnail(int maxSide, PixelSource source) {
    if (gimp_image_is_valid(image_) == FALSE) {
        return {};
    }
    gint width = maxSide;
    gint height = maxSide;
    gint bpp = 0;
    const GCharPtr data(
        reinterpret_cast<gchar*>(gimp_image_get_thumbnail_data(image_, &width, &height, &bpp)));
    RgbaImage picture = thumbnailToRgba(
        reinterpret_cast<const uint8_t*>(data.get()),
        static_cast<size_t>(std::max(0, width)) * std::max(0, height) * bpp, width, height, bpp);
    if (source == PixelSource::Visible || picture.width <= 0 ||
        gimp_item_is_valid(drawable_) == FALSE) {
        return picture;
    }
    // The active layer alone, drawn where it lies on a transparent canvas of the picture's size.
    const double scale = static_cast<double>(picture.width) / gimp_image_width(image_);
    gint ox = 0;
    gint oy = 0;
    gimp_drawable_offsets(drawable_, &ox, &oy);
    gint layerWidth = std::max(1, static_cast<int>(gimp_drawable_width(drawable_) * scale));
    gint layerHeight = std::max(1, static_cast<int>(gimp_drawable_height(drawable_) * scale));
    const GCharPtr layerData(reinterpret_cast<gchar*>(
        gimp_drawable_get_thumbnail_data(drawable_, &layerWidth, &layerHeight, &bpp)));
    const RgbaImage layer = thumbnailToRgba(reinterpret_cast<const uint8_t*>(layerData.get()),
                                            static_cast<size_t>(std::max(0, layerWidth)) *
                                                std::max(0, layerHeight) * bpp,
                                            layerWidth, layerHeight, bpp);
    return layerOnPicture(layer, {picture.width, picture.height},
                          static_cast<int>(std::lround(ox * scale)),
                          static_cast<int>(std::lround(oy * scale)));
}

std::optional<Size> GimpHost::canvasSize() const {
    if (gimp_image_is_valid(image_) == FALSE) {
        return std::nullopt;
    }
    return Size{gimp_image_width(image_), gimp_image_height(image_)};
}

// The inserts of host/layer_steps.h, with GIMP 2.10's calls.
Result<std::vector<int>> GimpHost::insertAboveActive(const std::vector<NewLayer>& layers,
                                                     const std::string& groupName,
                                                     const CancelCheck& isCancelled,
                                                     std::optional<Rect> canvas) {
    // The user may close the image or delete the layer while the run waits for the service.
    if (gimp_image_is_valid(image_) == FALSE || gimp_item_is_valid(drawable_) == FALSE) {
        return closedMeanwhile();
    }
    const int image = image_;
    InsertPlace<int> place = placeIn<int>(image);
    if (const gint32 parent = gimp_item_get_parent(drawable_); parent > 0) {
        place.parent = parent;
    }
    place.position = gimp_image_get_item_position(image, drawable_);
    place.select = [image](int first) {
        gimp_image_set_active_layer(image, first);
    };
    const bool gray = gimp_image_base_type(image) == GIMP_GRAY;
    auto made = insertAbove(stepsFor(image, gray), place, layers, groupName, isCancelled, canvas);
    if (!made) {
        return made.error();
    }
    gimp_displays_flush();
    return std::move(*made);
}

Result<int> GimpHost::createImage(Size canvas, const std::vector<NewLayer>& layers,
                                  const std::string& groupName, const CancelCheck& isCancelled) {
    const gint32 image = gimp_image_new(canvas.width, canvas.height, GIMP_RGB);
    if (image <= 0) {
        return gimpRefused(textf(_("a new image of %dx%d pixels"), canvas.width, canvas.height));
    }
    gimp_image_undo_disable(image);
    const LayerSteps<int> steps = stepsFor(image, false);
    auto made = makeLayers(steps, layers, isCancelled);
    if (!made) {
        gimp_image_delete(image);
        return made.error();
    }
    if (auto in = insertUnder(steps, std::optional<int>(), 0, *made, groupName); !in) {
        gimp_image_delete(image);
        return in.error();
    }
    gimp_image_undo_enable(image);
    if (display_) {
        gimp_display_new(image);
        gimp_displays_flush();
    }
    return image;
}

} // namespace imagegen::host
