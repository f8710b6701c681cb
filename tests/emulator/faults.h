// Faults a test queues through /_emulator/faults: each spoils the answer to one valid request,
// the way a real service or network sometimes does (rate limits, 5xx, content filters, cut or
// corrupt bodies, wrong image counts, delays).
#pragma once

#include "emulator/errors.h"
#include "emulator/reply.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <array>
#include <optional>
#include <string>

namespace emulator {

struct Fault {
    std::string kind;
    std::string header; // rate_limit: a header to send ("retry-after-date": an HTTP date)
    std::string value;
    int status = 0; // server_error: 500 unless given
    std::string stage;
    std::string shape;
    int ms = 0; // delay
    // drift: the whole answer's tone shifted, as a model's sometimes is. Affine per channel
    // (v * gain + offset), or with curve "wave" a tone curve no gain and offset can follow.
    std::array<double, 3> gain{1, 1, 1};
    std::array<double, 3> offset{0, 0, 0};
    std::string curve;
    int width = 0; // image_size: every image of the answer is this size, whatever was asked
    int height = 0;
};

// The colour of image_size's pictures.
inline constexpr std::array<uint8_t, 3> kImageSizeColour = {200, 40, 40};

// The fault a control request describes; nullopt for a kind the emulator does not know.
std::optional<Fault> faultFromJson(JsonObject* o);

// Faults that replace the answer with an error.
struct FaultError {
    ApiError error;
    Headers headers;
};
std::optional<FaultError> faultError(const Fault& f, Flavour flavour);

// A 200 whose body stops halfway through, on a connection that then closes.
void sendTruncated(SoupServerMessage* msg);

// How many images the answer holds when `n` were asked for.
int imageCount(const std::optional<Fault>& f, int n);

// The bytes of an image the fault corrupts or replaces; nullopt when it leaves images alone.
std::optional<std::string> corruptImageBytes(const std::optional<Fault>& f);

bool breaksBase64(const std::optional<Fault>& f);

// The drift fault's tone curve for channel `c` (0-2); nullopt when there is no drift fault.
struct Drift {
    std::array<double, 3> gain{1, 1, 1};
    std::array<double, 3> offset{0, 0, 0};
    bool wave = false;
    [[nodiscard]] uint8_t apply(int c, uint8_t v) const;
};
std::optional<Drift> driftOf(const std::optional<Fault>& f);

// echo_key: the text a hostile or careless service plants in every text field of its answer
// (revised prompts, stream events, an error's message and request ID): the key the request
// carried, as its auth header held it ("Bearer sk-…", or the api-key value), then the case's own
// key-shaped text (`value`). nullopt for any other fault.
std::optional<std::string> echoedKey(const std::optional<Fault>& f, SoupServerMessage* msg);

// Milliseconds the fault adds to the answer's latency.
int extraDelayMs(const std::optional<Fault>& f);

} // namespace emulator
