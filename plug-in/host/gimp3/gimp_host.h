// GIMP 3 as the core's Host, for one image and layer: reading pixels and the selection through
// GEGL (GIMP 3 has no tile API), making layers and images, progress. Items are held by their IDs,
// as the core's Host interface has them, and looked up at each call: the user may close the
// image or delete the layer while the dialog is open.
#pragma once

#include "core/run/host.h"
#include "core/util/error.h"

#include <optional>
#include <string>
#include <vector>

namespace imagegen::host {

class Gimp3Host final : public Host {
  public:
    // image and drawable are GIMP's IDs, -1 for a procedure that needs no image; a new image is
    // displayed when `display`.
    Gimp3Host(int image, int drawable, bool display)
        : image_(image), drawable_(drawable), display_(display) {}

    // Indexed images are refused.
    [[nodiscard]] Status checkImage() const;

    Result<ImageGeometry> inspect() override;
    RgbaImage readRegion(Rect region) override;
    std::vector<uint8_t> readSelection(Rect region) override;
    Result<RgbaImage> readLayer(int layer) override;
    RgbaImage thumbnail(int maxSide) override;
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
    Result<std::vector<int>> insertAboveActive(const std::vector<NewLayer>& layers,
                                               const std::string& groupName,
                                               const CancelCheck& isCancelled,
                                               std::optional<Rect> canvas);

    int image_;
    int drawable_;
    bool display_;
};

} // namespace imagegen::host
