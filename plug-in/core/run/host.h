// What a run asks of the image editor, in plain types. The GIMP plug-in answers it in
// host/gimp_host.cpp; the unit tests answer it in memory (tests/unit/fake_host.h), the way
// G'MIC-Qt keeps a standalone host beside its GIMP one. The image and layer a run works on are
// fixed when the host is made, so no item ID of the editor reaches the core; the only IDs here
// are the reference layers a caller names in `options`, which the core passes on unread.
#pragma once

#include "core/pixels/codec.h"
#include "core/pixels/expand.h"
#include "core/pixels/pipeline.h"
#include "core/util/error.h"

#include <functional>
#include <string>
#include <vector>

namespace imagegen {

// Where an edit's pixels come from.
enum class PixelSource { ActiveLayer, Visible };

struct NewLayer {
    std::string name;
    Rect bounds;               // where it goes, canvas coordinates
    RgbaImage pixels;          // bounds-sized
    std::vector<uint8_t> mask; // bounds-sized layer mask; empty: none
    std::string parasite;      // JSON text attached as "imagegen-result"
    bool visible = true;
};

// Whether the user has cancelled; checked between the steps of work that does not wait on the
// main loop (decoding, making layers), so a cancel there too leaves the image as it was.
using CancelCheck = std::function<bool()>;

class Host {
  public:
    Host() = default;
    virtual ~Host() = default;
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;
    Host(Host&&) = delete;
    Host& operator=(Host&&) = delete;

    // The canvas, the active layer's bounds and the selection's; an error for what cannot be
    // edited (indexed images, layer groups, channels, layer masks).
    virtual Result<ImageGeometry> inspect() = 0;
    // 8-bit RGBA of `region` (canvas coordinates) of the active layer, or of every visible layer
    // merged (GIMP's "Sample merged"); transparent outside it.
    virtual RgbaImage readRegion(Rect region, PixelSource source) = 0;
    // Selection coverage over `region`, 0..255, 0 outside the canvas.
    virtual std::vector<uint8_t> readSelection(Rect region) = 0;
    // A whole layer, named by the caller (a reference image).
    virtual Result<RgbaImage> readLayer(int layer) = 0;
    // The canvas as `source` has it (the picture as the user sees it, or the active layer alone
    // in its place on a transparent canvas), at most `maxSide` pixels on its longer side: the
    // dialog's picture of what will be sent. Empty when there is no image.
    virtual RgbaImage thumbnail(int maxSide, PixelSource source) = 0;

    // Inserts the layers above the active layer as one undo step; several go into one layer
    // group named `groupName`. Returns the IDs of the layers made (not the group's). Every layer
    // is made before any is inserted, and a cancel while they are made ends it with
    // ErrorKind::Cancelled and the image as it was.
    virtual Result<std::vector<int>> insertLayers(const std::vector<NewLayer>& layers,
                                                  const std::string& groupName,
                                                  const CancelCheck& cancelled) = 0;
    // Generative Expand: enlarges the canvas by `margins` (the layers already there move by left
    // and top, unchanged) and inserts the layers, whose bounds are in the new canvas's
    // coordinates, as insertLayers does; canvas and layers are one undo step. Every layer is made
    // before the canvas changes, so a cancel or an error leaves the image as it was, its size
    // included.
    virtual Result<std::vector<int>> insertLayersExpanding(Margins margins,
                                                           const std::vector<NewLayer>& layers,
                                                           const std::string& groupName,
                                                           const CancelCheck& cancelled) = 0;
    // A new image holding the layers; a cancel while it is made leaves no image.
    virtual Result<int> createImage(Size canvas, const std::vector<NewLayer>& layers,
                                    const std::string& groupName, const CancelCheck& cancelled) = 0;

    // The editor's progress bar: pulses while nothing is known, then moves.
    virtual void progressStart(const std::string& text) = 0;
    virtual void progressPulse() = 0;
    virtual void progressSet(double fraction) = 0;
    virtual void progressEnd() = 0;
};

// Keeps the host's progress bar shown for a scope.
class HostProgress {
  public:
    HostProgress(Host& host, const std::string& text) : host_(host) { host_.progressStart(text); }
    ~HostProgress() { host_.progressEnd(); }
    HostProgress(const HostProgress&) = delete;
    HostProgress& operator=(const HostProgress&) = delete;
    HostProgress(HostProgress&&) = delete;
    HostProgress& operator=(HostProgress&&) = delete;

  private:
    Host& host_;
};

} // namespace imagegen
