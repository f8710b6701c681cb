#include "emulator/faults.h"

#include "core/pixels/codec.h"
#include "core/util/glib_ptr.h"
#include "core/util/json_util.h"
#include "support/fixtures.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace emulator {

namespace {

bool is(const std::optional<Fault>& f, const char* kind) {
    return f && f->kind == kind;
}

FaultError rateLimit(const Fault& f, Flavour flavour) {
    ApiError e{429, "", "", "", "requests", ""};
    if (flavour == Flavour::OpenAI) {
        e.message = "Rate limit reached for images per minute. Please try again later.";
        e.code = "rate_limit_exceeded";
    } else {
        e.code = "429";
        e.message = "Requests to the Images API have exceeded the call rate limit of your "
                    "current pricing tier. Please retry after the time the response header says.";
    }
    Headers extra;
    if (f.header == "retry-after-date") {
        const imagegen::GDateTimePtr when(g_date_time_new_from_unix_utc(
            g_get_real_time() / 1000000 + std::stoi(f.value.empty() ? "1" : f.value)));
        const imagegen::GCharPtr text(soup_date_time_to_string(when.get(), SOUP_DATE_HTTP));
        extra.emplace_back("Retry-After", text.get());
    } else if (!f.header.empty()) {
        extra.emplace_back(f.header, f.value);
    }
    return {e, extra};
}

ApiError serverError(const Fault& f, Flavour flavour) {
    const int status = f.status != 0 ? f.status : 500;
    ApiError e{status,
               status == 503
                   ? "The engine is currently overloaded, please try again later."
                   : "The server had an error while processing your request. Sorry about that!",
               "",
               "",
               "server_error",
               ""};
    if (flavour != Flavour::OpenAI) {
        e.code = status == 503 ? "ServiceUnavailable" : "InternalServerError";
    }
    return e;
}

// Three numbers of a drift fault, one per channel; absent members leave `out` as it is.
void readTriple(JsonObject* o, const char* name, std::array<double, 3>& out) {
    JsonArray* a = imagegen::json::array(o, name);
    if (a == nullptr || json_array_get_length(a) != 3) {
        return;
    }
    for (guint i = 0; i < 3; ++i) {
        out[i] = json_node_get_double(json_array_get_element(a, i));
    }
}

} // namespace

std::optional<Fault> faultFromJson(JsonObject* o) {
    static const std::set<std::string> kinds = {
        "rate_limit",    "server_error", "content_filter", "delay",          "truncated",
        "broken_base64", "broken_png",   "huge_png",       "too_few_images", "too_many_images",
        "drift",         "image_size",   "echo_key"};
    using imagegen::json::integer;
    using imagegen::json::string;
    Fault fault;
    fault.kind = string(o, "kind").value_or("");
    if (kinds.count(fault.kind) == 0) {
        return std::nullopt;
    }
    fault.header = string(o, "header").value_or("");
    fault.value = string(o, "value").value_or("");
    fault.status = static_cast<int>(integer(o, "status").value_or(0));
    fault.stage = string(o, "stage").value_or("");
    fault.shape = string(o, "shape").value_or("");
    fault.ms = static_cast<int>(integer(o, "ms").value_or(0));
    readTriple(o, "gain", fault.gain);
    readTriple(o, "offset", fault.offset);
    fault.curve = string(o, "curve").value_or("");
    fault.width = static_cast<int>(integer(o, "width").value_or(0));
    fault.height = static_cast<int>(integer(o, "height").value_or(0));
    return fault;
}

std::optional<FaultError> faultError(const Fault& f, Flavour flavour) {
    if (f.kind == "rate_limit") {
        return rateLimit(f, flavour);
    }
    if (f.kind == "server_error") {
        return FaultError{serverError(f, flavour), {}};
    }
    if (f.kind == "content_filter") {
        return FaultError{contentFilterError(flavour, f.stage.empty() ? "input" : f.stage, f.shape),
                          {}};
    }
    return std::nullopt;
}

void sendTruncated(SoupServerMessage* msg) {
    const std::string full =
        R"({"created":1,"data":[{"b64_json":")" + std::string(4000, 'A') + "\"}]}";
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(full.size()) + "\r\nConnection: close\r\n\r\n";
    const auto stream = imagegen::adoptRef(soup_server_message_steal_connection(msg));
    GOutputStream* out = g_io_stream_get_output_stream(stream.get());
    const std::string cut = head + full.substr(0, full.size() / 2);
    g_output_stream_write_all(out, cut.data(), cut.size(), nullptr, nullptr, nullptr);
    g_io_stream_close(stream.get(), nullptr, nullptr);
}

int imageCount(const std::optional<Fault>& f, int n) {
    if (is(f, "too_few_images")) {
        return n - 1;
    }
    if (is(f, "too_many_images")) {
        return n + 1;
    }
    return n;
}

std::optional<std::string> corruptImageBytes(const std::optional<Fault>& f) {
    if (is(f, "broken_png")) {
        return std::string("\x89PNG\r\n\x1a\n", 8) + "this is not the rest of a PNG";
    }
    if (is(f, "huge_png")) {
        return imagegen::test::pngHeaderClaiming(100000, 100000) + std::string(64, '\0');
    }
    if (is(f, "image_size") && f->width > 0 && f->height > 0) {
        // A real picture of any shape (1x489, 1x600000), one flat colour, whatever was asked.
        imagegen::RgbaImage image(f->width, f->height);
        for (size_t i = 0; i < image.pixels.size(); i += 4) {
            image.pixels[i] = kImageSizeColour[0];
            image.pixels[i + 1] = kImageSizeColour[1];
            image.pixels[i + 2] = kImageSizeColour[2];
            image.pixels[i + 3] = 255;
        }
        auto png = imagegen::encodePng(image, 9);
        return png ? *png : std::string();
    }
    return std::nullopt;
}

uint8_t Drift::apply(int c, uint8_t v) const {
    const auto i = static_cast<size_t>(c);
    double out = (v * gain[i]) + offset[i];
    if (wave) {
        // 24 levels up and down every 64: an affine fit leaves most pixels far from it.
        out += 24.0 * std::sin(2.0 * G_PI * v / 64.0);
    }
    return static_cast<uint8_t>(std::clamp(std::lround(out), 0L, 255L));
}

std::optional<Drift> driftOf(const std::optional<Fault>& f) {
    if (!is(f, "drift")) {
        return std::nullopt;
    }
    return Drift{f->gain, f->offset, f->curve == "wave"};
}

bool breaksBase64(const std::optional<Fault>& f) {
    return is(f, "broken_base64");
}

std::optional<std::string> echoedKey(const std::optional<Fault>& f, SoupServerMessage* msg) {
    if (!is(f, "echo_key")) {
        return std::nullopt;
    }
    SoupMessageHeaders* h = soup_server_message_get_request_headers(msg);
    const char* auth = soup_message_headers_get_one(h, "Authorization");
    if (auth == nullptr) {
        auth = soup_message_headers_get_one(h, "api-key");
    }
    return std::string("You sent ") + (auth != nullptr ? auth : "") + "; also " + f->value;
}

int extraDelayMs(const std::optional<Fault>& f) {
    return is(f, "delay") ? f->ms : 0;
}

} // namespace emulator
