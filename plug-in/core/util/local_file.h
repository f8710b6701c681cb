// Reading a file of the user's or of the install (saved connections, prompt history, model
// table, presets) so that the file cannot decide how long the read takes or how much it holds:
// a FIFO would block a run for good, a link to /dev/zero would read until memory runs out.
#pragma once

#include "core/util/error.h"

#include <cstddef>
#include <optional>
#include <string>

namespace imagegen {

// The most any such file may hold: the largest of them (the model table) is a few kilobytes.
inline constexpr size_t kMaxLocalFileBytes = size_t{1} << 20;

// The whole text of `path`; nullopt when no file is there. It is opened without blocking and
// read only when it is a regular file (a symbolic link to one is followed) of at most `maxBytes`.
// Otherwise the error (Configuration) says why in a clause for the caller's sentence ("it is
// not a regular file: …"); the caller names the file.
Result<std::optional<std::string>> readSmallRegularFile(const std::string& path,
                                                        size_t maxBytes = kMaxLocalFileBytes);

} // namespace imagegen
