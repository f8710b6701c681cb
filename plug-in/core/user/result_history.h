// The dialog's results kept on disk, per image, so that closing the dialog never throws away a
// result that was paid for: reopening the dialog on the same image shows them again, ready to
// insert. Each image has a folder of its own under the plug-in's user folder, named by a hash of
// the image's key (the caller chooses the key: host/gimp2 uses the image's file name, else its
// ID in this GIMP process); in it, index.json (what each result is: place, layer name, parasite,
// the Generate's settings and usage, whether it was inserted) and each result's pixels and mask
// as PNG files named by the result's ID.
//
// Bounded: the newest kMaxPerImage results of an image, within kMaxBytesPerImage of files, and
// kMaxTotalBytes over every image, the images written longest ago dropped whole. Every file is
// written atomically (a new file renamed over the old), readable by the user alone, in folders
// made 0700. No key is ever written: a result's settings name a connection, never its secret.
// Reading is forgiving: a damaged, foreign or missing file gives fewer results, never an error.
#pragma once

#include "core/pixels/expand.h"
#include "core/run/host.h"
#include "core/run/run_parameters.h"
#include "core/service/responses.h"
#include "core/util/error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace imagegen {

// One result as kept, with what it takes to insert it exactly as it was first offered.
struct KeptResult {
    std::string id;      // lower-case letters, digits and '-': it names the result's files
    std::string run;     // the Generate that made it: an expand's results of one run go in together
    int64_t created = 0; // unix seconds
    Procedure procedure = Procedure::Edit;
    NewLayer layer;         // name, place, pixels, mask, parasite (`visible` is not kept)
    RunParameters settings; // the Generate's; its prompt is the result's
    Usage usage;            // the tokens of the Generate that made it, all its results together
    Size canvas;            // expand: the canvas it was made for
    Rect original;          // expand: where the picture lies in that canvas
    bool inserted = false;
};

class ResultHistory {
  public:
    static constexpr size_t kMaxPerImage = 12;
    static constexpr uint64_t kMaxBytesPerImage = uint64_t{128} << 20;
    static constexpr uint64_t kMaxTotalBytes = uint64_t{512} << 20;

    struct Limits {
        size_t perImage = kMaxPerImage;
        uint64_t bytesPerImage = kMaxBytesPerImage;
        uint64_t totalBytes = kMaxTotalBytes;
    };

    // `folder`: where every image's folder goes (made when something is first kept).
    explicit ResultHistory(std::string folder) : ResultHistory(std::move(folder), Limits{}) {}
    ResultHistory(std::string folder, Limits limits)
        : folder_(std::move(folder)), limits_(limits) {}

    // The results kept for `image`, oldest first. Whatever cannot be read as this store wrote
    // it for this image (no file, damaged JSON, another image's or program's file, a PNG missing,
    // broken or not the size of its place) is left out.
    [[nodiscard]] std::vector<KeptResult> load(const std::string& image) const;

    // Keeps `results` (each with an ID not yet kept) after those kept for `image`, then drops
    // the oldest beyond the limits, this image's first by count and bytes, then other images'
    // folders, the least recently written first.
    [[nodiscard]] Status add(const std::string& image,
                             const std::vector<KeptResult>& results) const;

    // Records that the results `ids` of `image` went into the image.
    [[nodiscard]] Status markInserted(const std::string& image,
                                      const std::vector<std::string>& ids) const;

    // The folder that holds `image`'s results.
    [[nodiscard]] std::string folderOf(const std::string& image) const;

    // A new ID for a Generate, unique in practice (the time in microseconds and 32 random bits).
    static std::string newRunId();

  private:
    std::string folder_;
    Limits limits_;
};

} // namespace imagegen
