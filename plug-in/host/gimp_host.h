// GIMP as the core's Host, for one image and layer: reading pixels and the selection, making
// layers and images, progress. One declaration for both GIMPs: host/gimp2/gimp_host.cpp defines it
// over GIMP 2.10 (item IDs, the tile API for 8-bit sRGB), host/gimp3/gimp_host.cpp over GIMP 3
// (objects looked up by ID, GEGL buffers), and only one of them is built (meson option gimp).
// What both define alike is in host/gimp_common.cpp; what the entry point needs of GIMP besides a
// run is in gimp_process.h.
#pragma once

#include "core/run/host.h"
#include "core/util/error.h"

#include <optional>
#include <string>
#include <vector>

namespace imagegen::host {

class GimpHost final : public Host {
  public:
    // image and drawable are GIMP's IDs, -1 for a procedure that needs no image; a new image is
    // displayed when `display`. GIMP 3's objects are looked up by ID at each call: the user may
    // close the image or delete the layer while the dialog is open.
    GimpHost(int image, int drawable, bool display)
        : image_(image), drawable_(drawable), display_(display) {}

    // Indexed images are refused.
    [[nodiscard]] Status checkImage() const;

    Result<ImageGeometry> inspect() override;
    RgbaImage readRegion(Rect region, PixelSource source) override;
    std::vector<uint8_t> readSelection(Rect region) override;
    Result<RgbaImage> readLayer(int layer) override;
    RgbaImage thumbnail(int maxSide, PixelSource source) override;
    Result<std::vector<int>> insertLayers(const std::vector<NewLayer>& layers,
                                          const std::string& groupName,
                                          const CancelCheck& cancelled) override;
    Result<std::vector<int>> insertLayersExpanding(Margins margins,
                                                   const std::vector<NewLayer>& layers,
                                                   const std::string& groupName,
                                                   const CancelCheck& cancelled) override;
    Result<int> createImage(Size canvas, const std::vector<NewLayer>& layers,
                            const std::string& groupName, const CancelCheck& cancelled) override;
    void progressStart(const std::string& text) override;
    void progressPulse() override;
    void progressSet(double fraction) override;
    void progressEnd() override;

  private:
    // The pixels of `region` (canvas coordinates) of a layer of the image.
    [[nodiscard]] RgbaImage readDrawable(int drawable, Rect region) const;
    // The canvas now; nothing when the image was closed meanwhile.
    [[nodiscard]] std::optional<Size> canvasSize() const;
    // Both inserts: every layer is made outside the image first (a cancel there leaves the image
    // as it was), then, as one undo step, the canvas grows when `canvas` is given (its x and y are
    // where the old canvas goes) and the layers go above the active layer.
    Result<std::vector<int>> insertAboveActive(const std::vector<NewLayer>& layers,
                                               const std::string& groupName,
                                               const CancelCheck& isCancelled,
                                               std::optional<Rect> canvas);

    int image_;
    int drawable_;
    bool display_;
};

} // namespace imagegen::host
