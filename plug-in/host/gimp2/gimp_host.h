// GIMP 2.10 as the core's Host, for one image and layer: reading pixels and the selection,
// making layers and images, progress. What the entry point needs of GIMP besides a run is in
// gimp_process.h.
#pragma once

#include "core/run/host.h"
#include "core/util/error.h"

#include <optional>
#include <string>
#include <vector>

namespace imagegen::host {

class GimpHost final : public Host {
  public:
    // image and drawable are -1 for a procedure that needs no image; a new image is displayed
    // when `display`.
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
    [[nodiscard]] RgbaImage readDrawable(int drawable, Rect region) const;
    Result<std::vector<int>> insertAboveActive(const std::vector<NewLayer>& layers,
                                               const std::string& groupName,
                                               const CancelCheck& isCancelled,
                                               std::optional<Rect> canvas);

    int image_;
    int drawable_;
    bool display_;
};

} // namespace imagegen::host
