// Text a service sent (an error message, a request ID, a revised prompt) made fit to keep or
// show: a key it echoes back is never kept or shown, and what a person reads holds no control
// character or escape sequence and has a readable length.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace imagegen {

// What a service's own sentence in a message is cut to.
inline constexpr size_t kMaxServiceMessageChars = 500;
// A request ID is a short token; anything longer is not one.
inline constexpr size_t kMaxRequestIdChars = 100;
// A revised prompt is a prompt: no model takes more than 32000 characters.
inline constexpr size_t kMaxRevisedPromptChars = 32000;

// `text` with "[redacted]" in place of `secret` (the run's key or token, when not empty), of the
// token after "Bearer ", and of anything shaped like a key: "sk-" followed by 20 or more key
// characters (sk-proj-… among them), 32 hex digits alone (an Azure key), a JSON Web Token
// (eyJ….….…), and a run of 40 or more letters and digits that mixes capitals, small letters and
// digits. A request ID (req_ and hex, a UUID) is not key-shaped.
std::string redactSecrets(std::string text, const std::string& secret = {});

// `text` as a person can read it safely: invalid UTF-8 repaired; tabs and line breaks as spaces;
// every other control character shown as its visible symbol (ESC as ␛), C1 controls and
// direction overrides as �; cut after `maxChars` characters with "…".
std::string readableText(std::string_view text, size_t maxChars = std::string::npos);

// Both: what a service said, ready for a message, a parasite or a log.
std::string serviceText(std::string_view text, size_t maxChars, const std::string& secret = {});

} // namespace imagegen
