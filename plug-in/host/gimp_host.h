// The host boundary on GIMP's side: the only file (with main.cpp) that includes libgimp. GimpHost
// answers the core's Host for one image and layer; the free functions are what the entry point
// needs of GIMP besides a run.
#pragma once

#include "core/error.h"
#include "core/host.h"

#include <optional>
#include <string>
#include <vector>

namespace imagegen::host {

// Must run first in run(): GEGL, with buffers only (no operation modules are needed).
void initialise(const std::string& executableDir);

class GimpHost final : public Host {
  public:
    // image and drawable are -1 for a procedure that needs no image; a new image is displayed
    // when `display`.
    GimpHost(int image, int drawable, bool display)
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

void message(const std::string& text);

std::optional<std::string> loadLastValues(const char* procedure);
void saveLastValues(const char* procedure, const std::string& json);

// GIMP's user directory (~/.config/GIMP/2.10).
std::string userDirectory();

// The image's active layer now (the user may change it while the dialog is open).
int activeDrawable(int image);
// The X11 window of the image window the call came from, for the dialog to stay above it; 0
// when there is none (a call from Script-Fu's batch mode has no default display).
unsigned long imageWindowHandle();
// Whether GIMP's theme is a dark one (Dark, the default, or Gray).
bool themeIsDark();

} // namespace imagegen::host
