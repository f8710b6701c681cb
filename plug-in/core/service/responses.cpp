#include "core/service/responses.h"

#include <algorithm>
#include <cmath>

#include "core/pixels/codec.h"
#include "core/service/models.h"
#include "core/service/service_text.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"

#include <array>

namespace imagegen {

std::optional<std::string> decodeBase64(std::string_view text) {
    static const std::array<int8_t, 256> table = [] {
        std::array<int8_t, 256> t{};
        t.fill(-1);
        const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; ++i) {
            t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
        }
        return t;
    }();
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    size_t padding = 0;
    if (!text.empty() && text.back() == '=') {
        padding = (text.size() >= 2 && text[text.size() - 2] == '=') ? 2 : 1;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    uint32_t acc = 0;
    for (size_t i = 0; i < text.size() - padding; ++i) {
        int8_t v = table[static_cast<unsigned char>(text[i])];
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        if (i % 4 == 3) {
            out += static_cast<char>((acc >> 16) & 0xff);
            out += static_cast<char>((acc >> 8) & 0xff);
            out += static_cast<char>(acc & 0xff);
            acc = 0;
        }
    }
    if (padding == 1) {
        acc <<= 6;
        out += static_cast<char>((acc >> 16) & 0xff);
        out += static_cast<char>((acc >> 8) & 0xff);
    } else if (padding == 2) {
        acc <<= 12;
        out += static_cast<char>((acc >> 16) & 0xff);
    }
    return out;
}

static Usage readUsage(JsonObject* o) {
    Usage u;
    JsonObject* usage = json::object(o, "usage");
    if (usage == nullptr) {
        return u;
    }
    u.present = true;
    u.totalTokens = json::integer(usage, "total_tokens").value_or(0);
    u.inputTokens = json::integer(usage, "input_tokens").value_or(0);
    u.outputTokens = json::integer(usage, "output_tokens").value_or(0);
    JsonObject* details = json::object(usage, "input_tokens_details");
    u.textTokens = json::integer(details, "text_tokens").value_or(0);
    u.imageTokens = json::integer(details, "image_tokens").value_or(0);
    return u;
}

// The first bytes of an image in base64 that the header check decodes: a PNG's or a WebP's
// header is in its first 40 bytes, a JPEG's frame header after its metadata segments, which are
// seldom longer than this.
constexpr size_t kImageStartChars = 64 * 1024;

static bool knownImageSignature(std::string_view bytes) {
    return (bytes.size() >= 8 && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) ||
           (bytes.size() >= 3 && bytes.substr(0, 3) == "\xFF\xD8\xFF") ||
           (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP");
}

// What the start of one image's base64 says, before the whole of it is decoded: text that is
// not base64, bytes that are no image, or a header that claims more pixels than were asked for.
// A start too short to tell, or a header cut off within it, is left to the decoder.
static Status checkImageStart(std::string_view b64, int which, int64_t maxPixels) {
    const bool whole = b64.size() <= kImageStartChars;
    const std::string_view start = whole ? b64 : b64.substr(0, kImageStartChars);
    const auto bytes = decodeBase64(start);
    if (!bytes) {
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("the service sent image %d with broken base64 data"), which));
    }
    constexpr size_t kLongestSignature = 16;
    if (!knownImageSignature(*bytes)) {
        if (bytes->size() < kLongestSignature) {
            return Ok{};
        }
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("the service sent an image that cannot be read: %s"),
                               _("the data is not a PNG, JPEG or WebP image")));
    }
    auto info = probeImage(*bytes);
    if (!info || maxPixels <= 0) {
        return Ok{};
    }
    if (int64_t{info->width} * info->height > maxPixels) {
        // As the pipeline's decoder says it (4x the pixels asked for is its limit too), in the
        // same words, before any of it is decoded.
        const std::string why =
            textf(_("the image claims to be %dx%d, larger than can be opened safely"), info->width,
                  info->height);
        return makeError(
            ErrorKind::MalformedResponse,
            textf(_("the service sent an image that cannot be read: %s"), why.c_str()));
    }
    return Ok{};
}

// The base64 text of an item's image, as the parsed tree holds it (no copy).
static std::optional<std::string_view> base64Of(JsonObject* item) {
    if (!json_object_has_member(item, "b64_json")) {
        return std::nullopt;
    }
    JsonNode* node = json_object_get_member(item, "b64_json");
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
        return std::nullopt;
    }
    return std::string_view(json_node_get_string(node));
}

// Everything of an item but its image bytes; checks the start of its image.
static Result<GeneratedImage> readImageFields(JsonObject* item, size_t index, int64_t maxPixels) {
    GeneratedImage image;
    const int which = static_cast<int>(index) + 1;
    if (auto b64 = base64Of(item)) {
        if (auto ok = checkImageStart(*b64, which, maxPixels); !ok) {
            return ok.error();
        }
    } else if (auto url = json::string(item, "url")) {
        image.url = *url;
    } else {
        return makeError(
            ErrorKind::MalformedResponse,
            textf(_("the service sent image %d with neither b64_json nor url"), which));
    }
    // Kept in the result's parasite and so in a saved XCF: a key the service echoes is dropped.
    image.revisedPrompt =
        serviceText(json::string(item, "revised_prompt").value_or(""), kMaxRevisedPromptChars);
    if (json_object_has_member(item, "content_filter_results")) {
        image.contentFilterResults =
            json::toText(json_object_get_member(item, "content_filter_results"));
    }
    if (json_object_has_member(item, "prompt_filter_results")) {
        image.promptFilterResults =
            json::toText(json_object_get_member(item, "prompt_filter_results"));
    }
    return image;
}

// Decodes an item's image into `image` and frees its base64 text from the tree.
static Status decodeImageOf(JsonObject* item, size_t index, GeneratedImage& image) {
    const auto b64 = base64Of(item);
    if (!b64) {
        return Ok{};
    }
    auto bytes = decodeBase64(*b64);
    if (!bytes || bytes->empty()) {
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("the service sent image %d with broken base64 data"),
                               static_cast<int>(index) + 1));
    }
    json_object_remove_member(item, "b64_json");
    image.bytes = std::move(*bytes);
    return Ok{};
}

static Result<GeneratedImage> readImage(JsonObject* item, size_t index, int64_t maxPixels) {
    auto image = readImageFields(item, index, maxPixels);
    if (!image) {
        return image;
    }
    if (auto decoded = decodeImageOf(item, index, *image); !decoded) {
        return decoded.error();
    }
    return image;
}

Result<ImagesResponse> parseImagesResponse(std::string body, const AnswerBounds& bounds) {
    auto document = json::parseObject(body);
    std::string().swap(body); // the tree holds what is needed: the text is not held twice
    JsonObject* root = document ? document->root() : nullptr;
    if (!document) {
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("the service's answer could not be read: %s"),
                               document.error().message.c_str()));
    }
    ImagesResponse r;
    r.created = json::integer(root, "created").value_or(0);
    JsonArray* data = json::array(root, "data");
    if (data == nullptr || json_array_get_length(data) == 0) {
        return makeError(ErrorKind::MalformedResponse, _("the service's answer holds no image"));
    }
    const guint count = json_array_get_length(data);
    if (bounds.maxImages > 0 && count > bounds.maxImages) {
        const size_t got = count;
        // The message run.cpp's checkImageCount gives for a count that differs after decoding.
        return makeError(
            ErrorKind::MalformedResponse,
            textf(g_dngettext(GETTEXT_PACKAGE,
                              "the service sent %zu image where %zu were asked for",
                              "the service sent %zu images where %zu were asked for", got),
                  got, bounds.maxImages));
    }
    r.size = json::string(root, "size").value_or("");
    if (const auto declared = parseSize(r.size);
        declared && bounds.maxPixels > 0 &&
        int64_t{declared->width} * declared->height > bounds.maxPixels) {
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("the service says its images are %s, far more than the size "
                                 "asked for"),
                               r.size.c_str()));
    }
    // Every image is checked before the first is decoded.
    for (guint i = 0; i < count; ++i) {
        JsonNode* node = json_array_get_element(data, i);
        if (!JSON_NODE_HOLDS_OBJECT(node)) {
            return makeError(ErrorKind::MalformedResponse,
                             _("the service's answer is not an image list"));
        }
        auto image = readImageFields(json_node_get_object(node), i, bounds.maxPixels);
        if (!image) {
            return image.error();
        }
        r.images.push_back(std::move(*image));
    }
    for (guint i = 0; i < count; ++i) {
        JsonObject* item = json_node_get_object(json_array_get_element(data, i));
        if (auto decoded = decodeImageOf(item, i, r.images[i]); !decoded) {
            return decoded.error();
        }
    }
    r.usage = readUsage(root);
    r.outputFormat = json::string(root, "output_format").value_or("");
    r.quality = json::string(root, "quality").value_or("");
    r.background = json::string(root, "background").value_or("");
    return r;
}

bool isContentFilterCode(const std::string& code) {
    return code == "contentFilter" || code == "content_filter" ||
           code == "content_policy_violation" || code == "moderation_blocked" ||
           code == "ResponsibleAIPolicyViolation";
}

static std::string codeOf(JsonObject* o) {
    if (auto s = json::string(o, "code")) {
        return *s;
    }
    if (auto i = json::integer(o, "code")) {
        return std::to_string(*i);
    }
    return {};
}

static FilterStage filterStageOf(JsonObject* err, const std::string& message) {
    if (auto stage = json::string(json::object(err, "moderation_details"), "moderation_stage")) {
        return *stage == "output" ? FilterStage::Output : FilterStage::Prompt;
    }
    if (message.find("Generated image") != std::string::npos ||
        message.find("generated image") != std::string::npos ||
        message.find("output") != std::string::npos) {
        return FilterStage::Output;
    }
    return FilterStage::Prompt;
}

static std::string withStatus(const std::string& what, int status) {
    return status > 0 ? textf(_("%s (HTTP %d)"), what.c_str(), status) : what;
}

// The service's sentence (": …", or nothing) followed by our advice, with one full stop between.
static std::string thenSay(const std::string& detail, const std::string& advice) {
    const bool stopped = !detail.empty() && detail.back() == '.';
    return detail + (stopped ? " " : ". ") + advice;
}

static Error errorFromObject(JsonObject* err, int status, const std::string& receivedId) {
    Error e;
    e.httpStatus = status;
    // What the service says goes to a person (a terminal, an error dialog): no key, no escape
    // sequence, and a message of a readable length, the request ID kept after it.
    const std::string requestId = serviceText(receivedId, kMaxRequestIdChars);
    e.requestId = requestId;
    const std::string serverMessage =
        serviceText(json::string(err, "message").value_or(""), kMaxServiceMessageChars);
    e.code = codeOf(err);
    e.param = serviceText(json::string(err, "param").value_or(""), kMaxRequestIdChars);
    const std::string type = json::string(err, "type").value_or("");
    JsonObject* inner = json::object(err, "inner_error");
    if (inner == nullptr) {
        inner = json::object(err, "innererror");
    }
    const std::string innerCode = codeOf(inner);
    const std::string detail = serverMessage.empty() ? std::string() : ": " + serverMessage;

    if (isContentFilterCode(e.code) || isContentFilterCode(innerCode) ||
        type == "image_generation_user_error") {
        e.kind = ErrorKind::ContentFilter;
        e.filterStage = filterStageOf(err, serverMessage);
        e.message =
            e.filterStage == FilterStage::Output
                ? withStatus(_("The service's safety system refused the generated image"), status) +
                      thenSay(detail, _("Try again, or change the prompt."))
                : withStatus(_("The service's safety system refused the prompt"), status) +
                      thenSay(detail, _("Rephrase the prompt and try again."));
    } else if (status == 401 || status == 403) {
        e.kind = ErrorKind::Authentication;
        e.message = withStatus(_("The service refused the credentials"), status) +
                    thenSay(detail, _("Check the connection's API key or token."));
    } else if (status == 404) {
        e.kind = ErrorKind::NotFound;
        e.message = withStatus(_("The service does not know this deployment or model"), status) +
                    thenSay(detail, _("Check the model or deployment name."));
    } else if (status == 429) {
        e.kind = ErrorKind::RateLimited;
        e.message = withStatus(_("The service's rate limit was reached"), status) +
                    thenSay(detail, _("Wait a moment and try again."));
    } else if (status >= 500) {
        e.kind = ErrorKind::Server;
        e.message = withStatus(_("The service had an internal error"), status) + detail;
    } else {
        e.kind = ErrorKind::BadRequest;
        e.message = withStatus(_("The service refused the request"), status) + detail;
        if (!e.param.empty() && serverMessage.find(e.param) == std::string::npos) {
            e.message += textf(_(" (parameter %s)"), e.param.c_str());
        }
    }
    if (!requestId.empty()) {
        e.message += textf(_(" [request %s]"), requestId.c_str());
    }
    return e;
}

// "The service asks to wait about 2 minutes before trying again." for what the service asked.
// The number is checked before any conversion (NaN, negative, 1e308), and said in the largest
// unit that fits, so that no wait reads as a 19-digit count of seconds.
static void sayHowLongToWait(Error& e, double seconds) {
    const std::string vague = _("Wait a moment and try again.");
    const auto at = e.message.find(vague);
    if (at == std::string::npos || std::isnan(seconds) || seconds <= 0) {
        return;
    }
    constexpr double kMinute = 60;
    constexpr double kHour = 60 * kMinute;
    constexpr double kDay = 24 * kHour;
    constexpr double kWeek =
        7 * kDay; // the longest delay HttpClient takes (kMaxServerDelaySeconds)
    std::string sentence;
    // Each count is at most 60 (or 24, or 7) when it is converted.
    auto count = [](double value) {
        return static_cast<gulong>(std::lround(value));
    };
    if (seconds >= kWeek) {
        sentence = _("The service asks to wait a week or more before trying again.");
    } else if (const gulong days = count(seconds / kDay); seconds >= kDay - kHour / 2) {
        sentence =
            textf(g_dngettext(GETTEXT_PACKAGE,
                              "The service asks to wait about %lu day before trying again.",
                              "The service asks to wait about %lu days before trying again.", days),
                  days);
    } else if (const gulong hours = count(seconds / kHour); seconds >= kHour - kMinute / 2) {
        sentence = textf(
            g_dngettext(GETTEXT_PACKAGE,
                        "The service asks to wait about %lu hour before trying again.",
                        "The service asks to wait about %lu hours before trying again.", hours),
            hours);
    } else if (const gulong minutes = count(seconds / kMinute); seconds > kMinute) {
        sentence = textf(
            g_dngettext(GETTEXT_PACKAGE,
                        "The service asks to wait about %lu minute before trying again.",
                        "The service asks to wait about %lu minutes before trying again.", minutes),
            minutes);
    } else {
        const auto whole = static_cast<gulong>(std::ceil(seconds)); // 1 to 60
        sentence = textf(
            g_dngettext(GETTEXT_PACKAGE,
                        "The service asks to wait about %lu second before trying again.",
                        "The service asks to wait about %lu seconds before trying again.", whole),
            whole);
    }
    e.message.replace(at, vague.size(), sentence);
}

static Error classifyWithoutWait(int status, std::string_view body, const std::string& requestId);

Error classifyHttpError(int status, std::string_view body, const std::string& requestId,
                        std::optional<double> retryAfterSeconds) {
    Error e = classifyWithoutWait(status, body, requestId);
    if (e.kind == ErrorKind::RateLimited && retryAfterSeconds) {
        sayHowLongToWait(e, *retryAfterSeconds);
    }
    return e;
}

static Error classifyWithoutWait(int status, std::string_view body, const std::string& requestId) {
    auto document = json::parseObject(body);
    JsonObject* root = document ? document->root() : nullptr;
    JsonObject* err = document ? json::object(root, "error") : nullptr;
    if (err == nullptr && document) {
        // Some gateways put the message at the top level.
        if (json::string(root, "message")) {
            err = root;
        }
    }
    if (err != nullptr) {
        return errorFromObject(err, status, requestId);
    }
    // No readable error body: say what the status means and nothing of the body, which may be an
    // HTML page from a proxy.
    const JsonObjectPtr none(json_object_new());
    Error e = errorFromObject(none.get(), status, requestId);
    if (status >= 300 && status < 400) {
        e.kind = ErrorKind::Configuration;
        e.message = withStatus(_("The endpoint redirects elsewhere, and a request that carries "
                                 "the key does not follow redirects: check the endpoint URL"),
                               status);
    } else if (status < 400) {
        e.kind = ErrorKind::MalformedResponse;
        e.message = withStatus(
            _("The service answered with something that is not an image response"), status);
    }
    return e;
}

// ---- server-sent events ----

void SseParser::takeLine(std::string_view line, std::vector<SseEvent>& out) {
    if (line.empty()) {
        if (hasData_) {
            out.push_back(std::move(current_));
        }
        current_ = {};
        hasData_ = false;
        return;
    }
    if (line.front() == ':') {
        return; // a comment / keep-alive
    }
    auto colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    if (field == "event") {
        current_.event = value;
    } else if (field == "data") {
        if (hasData_) {
            current_.data += '\n';
        }
        current_.data += value;
        hasData_ = true;
        if (current_.data.size() > maxEventBytes_) {
            overflow();
        }
    }
}

void SseParser::overflow() {
    error_ = makeError(ErrorKind::MalformedResponse,
                       textf(_("the service's stream sent an event larger than %s, more than the "
                               "images asked for can take"),
                             megabytes(maxEventBytes_).c_str()));
    current_ = {};
}

std::vector<SseEvent> SseParser::feed(std::string_view chunk) {
    std::vector<SseEvent> out;
    if (error_) {
        return out;
    }
    buffer_.append(chunk);
    size_t start = 0;
    // A line ends with CRLF, LF or a lone CR; a CRLF split between two chunks is one line end.
    if (afterCr_ && !buffer_.empty()) {
        start = buffer_.front() == '\n' ? 1 : 0;
        afterCr_ = false;
    }
    for (size_t end = buffer_.find_first_of("\r\n", std::max(scanned_, start));
         end != std::string::npos && !error_; end = buffer_.find_first_of("\r\n", start)) {
        takeLine(std::string_view(buffer_).substr(start, end - start), out);
        if (error_) {
            break;
        }
        start = end + 1;
        if (buffer_[end] == '\r') {
            if (start == buffer_.size()) {
                afterCr_ = true; // a \n may begin the next chunk
            } else if (buffer_[start] == '\n') {
                ++start;
            }
        }
    }
    if (error_) {
        buffer_.clear();
        return out;
    }
    buffer_.erase(0, start); // only what the lines took: the rest is one unfinished line
    scanned_ = buffer_.size();
    if (buffer_.size() > maxEventBytes_) {
        overflow();
        buffer_.clear();
    }
    return out;
}

std::vector<SseEvent> SseParser::finish() {
    std::vector<SseEvent> out;
    if (error_) {
        return out;
    }
    if (!buffer_.empty()) {
        std::string rest = std::move(buffer_);
        buffer_.clear();
        takeLine(rest, out);
        scanned_ = 0;
    }
    if (!error_) {
        takeLine("", out);
    }
    return out;
}

Result<StreamEvent> parseStreamEvent(const SseEvent& event, const AnswerBounds& bounds) {
    StreamEvent out;
    if (event.data.rfind("[DONE]", 0) == 0) {
        out.type = StreamEventType::Done;
        return out;
    }
    auto document = json::parseObject(event.data);
    JsonObject* root = document ? document->root() : nullptr;
    if (!document) {
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("the service's stream sent an event that could not be read (%s)"),
                               document.error().message.c_str()));
    }
    if (JsonObject* err = json::object(root, "error")) {
        return errorFromObject(err, 0, {});
    }
    if (event.event == "error") {
        return errorFromObject(root, 0, {});
    }
    const std::string type = json::string(root, "type").value_or(event.event);
    if (type.ends_with(".partial_image") || type.ends_with(".completed")) {
        const bool partial = type.ends_with(".partial_image");
        auto image = readImage(root, 0, bounds.maxPixels);
        if (!image) {
            return image.error();
        }
        out.type = partial ? StreamEventType::PartialImage : StreamEventType::Completed;
        out.partialIndex =
            partial ? static_cast<int>(json::integer(root, "partial_image_index").value_or(0)) : -1;
        out.image = std::move(*image);
        out.usage = readUsage(root);
    }
    return out;
}

void addUsage(Usage& total, const Usage& part) {
    if (!part.present) {
        return;
    }
    total.present = true;
    total.totalTokens += part.totalTokens;
    total.inputTokens += part.inputTokens;
    total.outputTokens += part.outputTokens;
    total.textTokens += part.textTokens;
    total.imageTokens += part.imageTokens;
}

} // namespace imagegen
