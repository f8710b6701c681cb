// How both GIMP hosts put results into an image, written once over GIMP's handle for a layer (an
// item ID in 2.10, a GimpLayer* in 3): every layer is made outside the image first, so a cancel
// or a refusal there only deletes what was made; then, as one undo step, the canvas may grow and
// the layers go in (in a group when several), and when GIMP refuses one, what went in comes out
// again. Each host gives the GIMP calls (LayerSteps); no libgimp here.
#pragma once

#include "core/run/host.h"
#include "core/util/error.h"
#include "core/util/i18n.h"
#include "host/host_errors.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace imagegen::host {

template <typename Layer> struct LayerSteps {
    // One result layer with its pixels, mask and parasite, outside the image; an error when
    // GIMP refuses any part of it, with nothing of it left.
    std::function<Result<Layer>(const NewLayer&)> make;
    // Deletes a layer that is not in the image.
    std::function<void(Layer)> discard;
    // A new layer group named so, outside the image; nothing when GIMP refuses it.
    std::function<std::optional<Layer>(const std::string&)> newGroup;
    // Into the image under `parent` (none: the top level) at `position`.
    std::function<bool(Layer layer, std::optional<Layer> parent, int position)> insert;
    // Takes a layer out of the image again.
    std::function<void(Layer)> remove;
};

// The image's side of an insert: one undo group, the canvas, the place above the active layer.
template <typename Layer> struct InsertPlace {
    std::function<void()> undoStart;
    std::function<void()> undoEnd;
    std::function<bool(Rect)> resize; // the new canvas; its x and y: where the old one goes
    std::optional<Layer> parent;
    int position = 0;
    std::function<void(Layer)> select; // the first result becomes the active layer
};

template <typename Layer>
Result<std::vector<Layer>> makeLayers(const LayerSteps<Layer>& steps,
                                      const std::vector<NewLayer>& layers,
                                      const CancelCheck& cancelled) {
    std::vector<Layer> made;
    std::optional<Error> stop;
    for (const auto& l : layers) {
        auto layer = steps.make(l);
        if (!layer) {
            stop = layer.error();
            break;
        }
        made.push_back(*layer);
        if (cancelled()) {
            stop = makeError(ErrorKind::Cancelled, "cancelled");
            break;
        }
    }
    if (stop) {
        for (const Layer& layer : made) {
            steps.discard(layer);
        }
        return *stop;
    }
    return made;
}

// Inserts the layers made (in a group when several) under `parent` at `position`. When GIMP
// refuses one, what went in comes out again and the rest is deleted, inside the caller's undo
// group.
template <typename Layer>
Status insertUnder(const LayerSteps<Layer>& steps, std::optional<Layer> parent, int position,
                   const std::vector<Layer>& layers, const std::string& groupName) {
    std::optional<Layer> container = parent;
    int next = position;
    std::optional<Layer> group;
    if (layers.size() > 1) {
        group = steps.newGroup(groupName);
        if (!group || !steps.insert(*group, parent, position)) {
            if (group) {
                steps.discard(*group);
            }
            for (const Layer& layer : layers) {
                steps.discard(layer);
            }
            return gimpRefused(_("a new layer group for the results"));
        }
        container = group;
        next = 0;
    }
    for (size_t i = 0; i < layers.size(); ++i) {
        if (!steps.insert(layers[i], container, next++)) {
            for (size_t j = 0; j < layers.size(); ++j) {
                if (j < i) {
                    steps.remove(layers[j]);
                } else {
                    steps.discard(layers[j]);
                }
            }
            if (group) {
                steps.remove(*group);
            }
            return gimpRefused(_("to insert a result layer into the image"));
        }
    }
    return Ok{};
}

// Both inserts of a host: the layers made, then as one undo step the canvas grown (when `canvas`
// is given) and the layers put above the active layer.
template <typename Layer>
Result<std::vector<Layer>>
insertAbove(const LayerSteps<Layer>& steps, const InsertPlace<Layer>& place,
            const std::vector<NewLayer>& layers, const std::string& groupName,
            const CancelCheck& cancelled, std::optional<Rect> canvas) {
    auto made = makeLayers(steps, layers, cancelled);
    if (!made) {
        return made.error();
    }
    // The undo group ends on every path, the early ones included.
    struct UndoGroup {
        const InsertPlace<Layer>& place;
        explicit UndoGroup(const InsertPlace<Layer>& p) : place(p) { place.undoStart(); }
        ~UndoGroup() { place.undoEnd(); }
        UndoGroup(const UndoGroup&) = delete;
        UndoGroup& operator=(const UndoGroup&) = delete;
        UndoGroup(UndoGroup&&) = delete;
        UndoGroup& operator=(UndoGroup&&) = delete;
    };
    Status done = Ok{};
    {
        const UndoGroup undo(place);
        if (canvas && !place.resize(*canvas)) {
            for (const Layer& layer : *made) {
                steps.discard(layer);
            }
            done = canvasNotEnlarged();
        } else {
            done = insertUnder(steps, place.parent, place.position, *made, groupName);
            if (done && !made->empty()) {
                place.select(made->front());
            }
        }
    }
    if (!done) {
        return done.error();
    }
    return made;
}

} // namespace imagegen::host
