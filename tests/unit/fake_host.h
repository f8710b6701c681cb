// An image editor in memory, for running the procedures without GIMP (as G'MIC-Qt's standalone
// host does): one canvas, one active layer, an optional selection, further layers to name as
// references, and a record of what a run read and inserted. Each insertLayers call is one undo
// step, as GIMP's undo group makes it.
#pragma once

#include "core/run/host.h"

#include <glib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace imagegen::test {

using RgbaPixel = std::array<uint8_t, 4>;

class FakeHost final : public Host {
  public:
    // A canvas with one opaque layer covering it, every pixel `fill`.
    FakeHost(int width, int height, RgbaPixel fill = {40, 80, 120, 255})
        : canvas_{width, height}, layerBounds_{0, 0, width, height}, layer_(width, height) {
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                std::copy(fill.begin(), fill.end(), layer_.at(x, y));
            }
        }
    }

    // Every pixel of the layer random (opaque), so that its PNG does not shrink.
    void fillWithNoise() {
        GRand* rand = g_rand_new_with_seed(7);
        for (auto& v : layer_.pixels) {
            v = static_cast<uint8_t>(g_rand_int(rand));
        }
        for (size_t i = 3; i < layer_.pixels.size(); i += 4) {
            layer_.pixels[i] = 255;
        }
        g_rand_free(rand);
    }

    // A rectangular selection, fully selected inside.
    void select(Rect r) {
        selection_.assign(static_cast<size_t>(canvas_.width) * canvas_.height, 0);
        for (int y = r.y; y < r.bottom(); ++y) {
            std::fill_n(selection_.begin() + static_cast<std::ptrdiff_t>(y) * canvas_.width + r.x,
                        r.width, 255);
        }
        selectionBounds_ = r;
    }
    // A canvas (and layer) this large as inspect() reports it, with no selection; for refusals
    // made before any pixel is read: its pixels are never allocated.
    void pretendCanvas(Size canvas) {
        canvas_ = canvas;
        layerBounds_ = {0, 0, canvas.width, canvas.height};
        selection_.clear();
    }
    // What inspect() says when the active drawable cannot be edited (a mask, a group…).
    void refuseWith(std::string message) { refusal_ = std::move(message); }
    void addLayer(int id, RgbaImage pixels) { layers_[id] = std::move(pixels); }

    [[nodiscard]] const RgbaImage& layer() const { return layer_; }
    // The picture as the user sees it, where it differs from the active layer (other layers
    // under or over it): what a "visible" run reads.
    void setPicture(RgbaImage picture) { picture_ = std::move(picture); }
    [[nodiscard]] const RgbaImage& picture() const {
        return picture_.width > 0 ? picture_ : layer_;
    }
    // What each pixel read was of.
    [[nodiscard]] const std::vector<PixelSource>& sources() const { return sources_; }
    [[nodiscard]] int pixelReads() const { return pixelReads_; }
    // One entry per undo step, with the layers it inserted.
    [[nodiscard]] const std::vector<std::vector<NewLayer>>& undoSteps() const { return steps_; }
    [[nodiscard]] const std::vector<std::string>& groupNames() const { return groupNames_; }
    [[nodiscard]] int progressOpen() const { return progressStarts_ - progressEnds_; }
    [[nodiscard]] int progressStarts() const { return progressStarts_; }
    [[nodiscard]] std::optional<Size> createdCanvas() const { return createdCanvas_; }
    [[nodiscard]] int layersMade() const { return layersMade_; }
    [[nodiscard]] Size canvas() const { return canvas_; }
    // The margins of each insertLayersExpanding that went through.
    [[nodiscard]] const std::vector<Margins>& expansions() const { return expansions_; }

    // Runs when the progress bar moves (a request ended, a partial image arrived).
    std::function<void()> onProgress;

    Result<ImageGeometry> inspect() override {
        if (refusal_) {
            return makeError(ErrorKind::InvalidRequest, *refusal_);
        }
        ImageGeometry g;
        g.canvas = canvas_;
        g.drawable = layerBounds_;
        if (!selection_.empty()) {
            g.selection = selectionBounds_;
        }
        return g;
    }

    RgbaImage readRegion(Rect region, PixelSource source) override {
        ++pixelReads_;
        const RgbaImage& from = source == PixelSource::Visible ? picture() : layer_;
        sources_.push_back(source);
        RgbaImage out(region.width, region.height);
        for (int y = 0; y < region.height; ++y) {
            for (int x = 0; x < region.width; ++x) {
                const int cx = region.x + x;
                const int cy = region.y + y;
                if (cx >= 0 && cy >= 0 && cx < from.width && cy < from.height) {
                    std::copy_n(from.at(cx, cy), 4, out.at(x, y));
                }
            }
        }
        return out;
    }

    std::vector<uint8_t> readSelection(Rect region) override {
        ++pixelReads_;
        std::vector<uint8_t> out(static_cast<size_t>(region.width) * region.height, 0);
        for (int y = 0; y < region.height; ++y) {
            for (int x = 0; x < region.width; ++x) {
                const int cx = region.x + x;
                const int cy = region.y + y;
                if (cx >= 0 && cy >= 0 && cx < canvas_.width && cy < canvas_.height) {
                    out[static_cast<size_t>(y) * region.width + x] =
                        selection_[static_cast<size_t>(cy) * canvas_.width + cx];
                }
            }
        }
        return out;
    }

    Result<RgbaImage> readLayer(int id) override {
        ++pixelReads_;
        auto it = layers_.find(id);
        if (it == layers_.end()) {
            return makeError(ErrorKind::InvalidRequest, "options: references names " +
                                                            std::to_string(id) +
                                                            ", which is not a layer of pixels");
        }
        return it->second;
    }

    // The layer, or the picture, scaled down by the nearest pixel.
    RgbaImage thumbnail(int maxSide, PixelSource source) override {
        const RgbaImage& from = source == PixelSource::Visible ? picture() : layer_;
        const int longer = std::max(canvas_.width, canvas_.height);
        const double scale = longer > maxSide ? static_cast<double>(maxSide) / longer : 1.0;
        RgbaImage out(std::max(1, static_cast<int>(canvas_.width * scale)),
                      std::max(1, static_cast<int>(canvas_.height * scale)));
        for (int y = 0; y < out.height; ++y) {
            for (int x = 0; x < out.width; ++x) {
                std::copy_n(from.at(std::min(from.width - 1, static_cast<int>(x / scale)),
                                    std::min(from.height - 1, static_cast<int>(y / scale))),
                            4, out.at(x, y));
            }
        }
        return out;
    }

    Result<std::vector<int>> insertLayers(const std::vector<NewLayer>& layers,
                                          const std::string& groupName,
                                          const CancelCheck& cancelled) override {
        // As GIMP's host does: every layer is made before any goes into the image.
        if (!makeAll(layers, cancelled)) {
            return makeError(ErrorKind::Cancelled, "cancelled");
        }
        return recordStep(layers, groupName);
    }

    // The canvas grows and the layer moves with its pixels, as gimp_image_resize moves it: the
    // layer here is the canvas's size, so it is padded with transparent pixels.
    Result<std::vector<int>> insertLayersExpanding(Margins margins,
                                                   const std::vector<NewLayer>& layers,
                                                   const std::string& groupName,
                                                   const CancelCheck& cancelled) override {
        if (!makeAll(layers, cancelled)) {
            return makeError(ErrorKind::Cancelled, "cancelled");
        }
        const Size grown{canvas_.width + margins.left + margins.right,
                         canvas_.height + margins.top + margins.bottom};
        RgbaImage moved(grown.width, grown.height);
        for (int y = 0; y < layer_.height; ++y) {
            std::copy_n(layer_.at(0, y), static_cast<size_t>(layer_.width) * 4,
                        moved.at(margins.left, y + margins.top));
        }
        layer_ = std::move(moved);
        canvas_ = grown;
        layerBounds_ = {0, 0, grown.width, grown.height};
        selection_.clear();
        expansions_.push_back(margins);
        return recordStep(layers, groupName);
    }

    Result<int> createImage(Size canvas, const std::vector<NewLayer>& layers,
                            const std::string& groupName, const CancelCheck& cancelled) override {
        auto inserted = insertLayers(layers, groupName, cancelled);
        if (!inserted) {
            return inserted.error();
        }
        createdCanvas_ = canvas;
        return nextId_++;
    }

    void progressStart(const std::string& /*text*/) override { ++progressStarts_; }
    void progressPulse() override {}
    void progressSet(double /*fraction*/) override {
        if (onProgress) {
            onProgress();
        }
    }
    void progressEnd() override { ++progressEnds_; }

  private:
    // Counts each layer made; false when a cancel came while they were made.
    bool makeAll(const std::vector<NewLayer>& layers, const CancelCheck& cancelled) {
        for (size_t i = 0; i < layers.size(); ++i) {
            ++layersMade_;
            if (cancelled()) {
                return false;
            }
        }
        return true;
    }

    // One undo step with its layers (in a named group when several), and their new IDs.
    std::vector<int> recordStep(const std::vector<NewLayer>& layers, const std::string& groupName) {
        steps_.push_back(layers);
        if (layers.size() > 1) {
            groupNames_.push_back(groupName);
        }
        std::vector<int> ids;
        for (size_t i = 0; i < layers.size(); ++i) {
            ids.push_back(nextId_++);
        }
        return ids;
    }

    Size canvas_;
    Rect layerBounds_;
    RgbaImage layer_;
    RgbaImage picture_;
    std::vector<PixelSource> sources_;
    std::vector<uint8_t> selection_; // canvas-sized; empty: no selection
    Rect selectionBounds_;
    std::optional<std::string> refusal_;
    std::map<int, RgbaImage> layers_;
    int pixelReads_ = 0;
    std::vector<std::vector<NewLayer>> steps_;
    std::vector<Margins> expansions_;
    std::vector<std::string> groupNames_;
    std::optional<Size> createdCanvas_;
    int nextId_ = 100;
    int progressStarts_ = 0;
    int layersMade_ = 0;
    int progressEnds_ = 0;
};

} // namespace imagegen::test
