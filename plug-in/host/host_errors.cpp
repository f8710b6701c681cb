#include "host/host_errors.h"

#include "core/util/i18n.h"

#include <algorithm>

namespace imagegen::host {

Error hostError(const std::string& message) {
    return makeError(ErrorKind::InvalidRequest, message);
}

Error gimpRefused(const std::string& what) {
    return hostError(textf(_("GIMP refused %s; the image is as it was."), what.c_str()));
}

Error closedMeanwhile() {
    return hostError(_("The image or the layer was closed while the service was working; the "
                       "results were not inserted."));
}

Error imageClosed() {
    // The dialog stays open while the user works: the image may have been closed meanwhile.
    return hostError(_("The image was closed. Close this dialog and open it again from an "
                       "image window."));
}

Error indexedImage() {
    return hostError(_("This image is indexed (a palette of colours); the plug-in needs RGB or "
                       "grayscale pixels. Convert it with Image ▸ Mode ▸ RGB and try again."));
}

Error canvasNotEnlarged() {
    return hostError(_("GIMP could not enlarge the canvas; the image is as it was."));
}

Status checkDrawable(DrawableKind kind) {
    switch (kind) {
    case DrawableKind::Missing:
        return hostError(_("The image has no active layer. Choose a layer in the Layers dialog, "
                           "then try again."));
    case DrawableKind::LayerMask:
        return hostError(_("A layer mask is active. Click the layer's own thumbnail in the Layers "
                           "dialog so the layer is active, then try again."));
    case DrawableKind::Channel:
        return hostError(
            _("A channel is active. Choose a layer in the Layers dialog, then try again."));
    case DrawableKind::Group:
        return hostError(
            _("A layer group is active. Choose one of the layers inside it, then try again."));
    case DrawableKind::NotALayer:
        return hostError(_("The active drawable is not a layer. Choose a layer, then try again."));
    case DrawableKind::Layer:
        break;
    }
    return Ok{};
}

Error notAPixelLayer(int layer) {
    return hostError(
        textf(_("options: references names %d, which is not a layer of pixels"), layer));
}

Result<Rect> grownCanvas(Size canvas, Margins margins, const std::vector<NewLayer>& layers) {
    const Rect grown{margins.left, margins.top, canvas.width + margins.left + margins.right,
                     canvas.height + margins.top + margins.bottom};
    for (const NewLayer& l : layers) {
        if (l.bounds.x != 0 || l.bounds.y != 0 || l.bounds.width != grown.width ||
            l.bounds.height != grown.height) {
            return hostError(_("The image's size changed while the service was working; the "
                               "results were not inserted. Run Generative Expand again."));
        }
    }
    return grown;
}

RgbaImage thumbnailToRgba(const uint8_t* data, size_t size, int width, int height, int bpp) {
    if (data == nullptr || width <= 0 || height <= 0 || bpp < 1 || bpp > 4 ||
        size < static_cast<size_t>(width) * height * bpp) {
        return {};
    }
    RgbaImage out(width, height);
    const bool gray = bpp <= 2;
    const bool alpha = bpp == 2 || bpp == 4;
    for (size_t i = 0; i < static_cast<size_t>(width) * height; ++i) {
        const uint8_t* px = data + i * static_cast<size_t>(bpp);
        uint8_t* o = out.pixels.data() + i * 4;
        o[0] = px[0];
        o[1] = gray ? px[0] : px[1];
        o[2] = gray ? px[0] : px[2];
        o[3] = alpha ? px[bpp - 1] : 255;
    }
    return out;
}

RgbaImage layerOnPicture(const RgbaImage& layer, Size picture, int left, int top) {
    RgbaImage out(picture.width, picture.height);
    for (int y = std::max(0, -top); y < layer.height && top + y < out.height; ++y) {
        for (int x = std::max(0, -left); x < layer.width && left + x < out.width; ++x) {
            std::copy_n(layer.at(x, y), 4, out.at(left + x, top + y));
        }
    }
    return out;
}

} // namespace imagegen::host
