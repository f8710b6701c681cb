// The host boundary: everything the plug-in asks of GIMP, in plain C++ types. Only
// gimp_host.cpp includes libgimp; the rest of the plug-in and the core never see a GIMP type.
// Item IDs are plain ints here and never reach the core.
#pragma once

#include "core/codec.h"
#include "core/error.h"
#include "core/pipeline.h"

#include <optional>
#include <string>
#include <vector>

namespace imagegen::host {

// Must run first in run(): GEGL, with buffers only (no operation modules are needed).
void initialise(const std::string& executableDir);

// The canvas, the layer's bounds and the selection's; an error for what cannot be edited
// (indexed images, layer groups, channels, layer masks).
Result<ImageGeometry> inspect(int image, int drawable);
Status checkImage(int image); // indexed images are refused

// 8-bit RGBA of `region` (canvas coordinates) of a drawable; transparent outside the drawable.
RgbaImage readRegion(int drawable, Rect region);
// Selection coverage over `region`, 0..255, 0 outside the canvas.
std::vector<uint8_t> readSelection(int image, Rect region);
// A whole layer (a reference image).
Result<RgbaImage> readLayer(int layer);

struct NewLayer {
    std::string name;
    Rect bounds;               // where it goes, canvas coordinates
    RgbaImage pixels;          // bounds-sized
    std::vector<uint8_t> mask; // bounds-sized layer mask; empty: none
    std::string parasite;      // JSON text attached as "imagegen-result"
    bool visible = true;
};

// Inserts the layers above the drawable, in one undo group; several go into one layer group
// named `groupName`. Returns the IDs of the layers made (the group's children, not the group).
Result<std::vector<int>> insertLayers(int image, int drawable, const std::vector<NewLayer>& layers,
                                      const std::string& groupName);

// A new image holding the layers; displayed when `display`.
Result<int> createImage(Size canvas, const std::vector<NewLayer>& layers,
                        const std::string& groupName, bool display);

class Progress {
  public:
    explicit Progress(const std::string& text);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    Progress(Progress&&) = delete;
    Progress& operator=(Progress&&) = delete;
    void pulse();
    void set(double fraction);
    void text(const std::string& text);
};

void message(const std::string& text);

std::optional<std::string> loadLastValues(const char* procedure);
void saveLastValues(const char* procedure, const std::string& json);

// GIMP's user directory (~/.config/GIMP/2.10).
std::string userDirectory();

} // namespace imagegen::host
