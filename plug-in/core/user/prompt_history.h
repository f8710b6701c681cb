// The prompts a user has sent, most recent first, kept between sessions in a small JSON file
// under GIMP's user folder, so the dialog can offer them again and search them.
#pragma once

#include "core/util/error.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imagegen {

class PromptHistory {
  public:
    static constexpr size_t kMaxEntries = 50;

    // A missing, unreadable or damaged file gives an empty history: losing the history is never
    // worth an error in the user's way. What is read is held to the rules of add(). A file that
    // is not a regular file of at most kMaxLocalFileBytes is not read (a FIFO would block, a link
    // to a device would fill memory), and `refused`, when given, says so, naming it.
    static PromptHistory load(const std::string& path, std::optional<Error>* refused = nullptr);
    // {"prompts": [most recent first]}, written atomically (a new file renamed over the old, as
    // g_file_set_contents does), so a crash mid-write leaves the old file; readable by the user
    // alone; the folder is created if need be.
    [[nodiscard]] Status save(const std::string& path) const;

    // Most recent first. Whitespace around the prompt is dropped; a blank prompt is ignored; a
    // prompt already in the history moves to the front; the oldest beyond kMaxEntries go.
    void add(const std::string& prompt);
    // The entries that contain every whitespace-separated word of `query`, in any order,
    // ignoring case (Unicode case folding, so "STRASSE" finds "straße"); in recency order. An
    // empty or blank query gives every entry.
    [[nodiscard]] std::vector<std::string> search(std::string_view query) const;
    [[nodiscard]] const std::vector<std::string>& entries() const { return entries_; }

  private:
    std::vector<std::string> entries_;
};

} // namespace imagegen
