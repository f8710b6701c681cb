#include "emulator/rules.h"

#include "core/service/models.h"

#include <algorithm>

using imagegen::parseSize;

namespace emulator {

namespace {

const std::vector<std::string> kGptSizes = {"auto", "1024x1024", "1536x1024", "1024x1536"};
const std::vector<std::string> kGptQualities = {"auto", "low", "medium", "high"};
constexpr int64_t k50MB = 50LL * 1024 * 1024;
constexpr int64_t k4MB = 4LL * 1024 * 1024;

const ModelRules kModels[] = {
    {"gpt-image-1", kGptSizes, kGptSizes, false, kGptQualities, 10, 32000, true, true, false, 16,
     k50MB},
    {"gpt-image-1-mini", kGptSizes, kGptSizes, false, kGptQualities, 10, 32000, true, false, false,
     16, k50MB},
    {"gpt-image-1.5", kGptSizes, kGptSizes, false, kGptQualities, 10, 32000, true, true, false, 16,
     k50MB},
    {"gpt-image-2", kGptSizes, kGptSizes, true, kGptQualities, 10, 32000, true, true, false, 16,
     k50MB},
    {"dall-e-3",
     {"1024x1024", "1792x1024", "1024x1792"},
     {},
     false,
     {"standard", "hd"},
     1,
     4000,
     false,
     false,
     true,
     0,
     0},
    {"dall-e-2",
     {"256x256", "512x512", "1024x1024"},
     {"256x256", "512x512", "1024x1024"},
     false,
     {"standard"},
     10,
     1000,
     false,
     false,
     false,
     1,
     k4MB},
};

// What a rule looks at: the model, the URL's flavour, the operation and the request.
struct Check {
    const ModelRules& m;
    Flavour flavour;
    bool edit;
    const Parsed& p;

    [[nodiscard]] bool has(const char* name) const { return p.has(name); }
    [[nodiscard]] const std::string& operator[](const char* name) const { return p.field(name); }
};

using Rule = std::optional<ApiError> (*)(const Check&);

bool isInteger(const std::string& s) {
    if (s.empty()) {
        return false;
    }
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) {
        return false;
    }
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return s.size() < 10;
}

bool freeSizeOk(int w, int h) {
    const double aspect = static_cast<double>(w) / h;
    return w % 16 == 0 && h % 16 == 0 && aspect >= 1.0 / 3.0 - 1e-9 && aspect <= 3.0 + 1e-9 &&
           std::max(w, h) <= 3840 && static_cast<int64_t>(w) * h <= 3840LL * 2160LL;
}

ApiError unknownParameter(const std::string& name) {
    return invalid(name, "Unknown parameter: '" + name + "'.", "unknown_parameter");
}

ApiError outOfRange(const std::string& name, const std::string& value, int low, int high) {
    return invalid(name,
                   "Invalid '" + name + "': integer out of range. Expected a value between " +
                       std::to_string(low) + " and " + std::to_string(high) + ", but got " + value +
                       " instead.",
                   "integer_out_of_range");
}

// A field whose value must be one of a few words: the message lists them as "'a' and 'b'".
std::optional<ApiError> checkWord(const Check& c, const char* name,
                                  const std::vector<std::string>& words, const char* listed) {
    if (!contains(words, c[name])) {
        return invalid(name,
                       "Invalid value: '" + c[name] + "'. Supported values are: " + listed + ".");
    }
    return std::nullopt;
}

std::optional<ApiError> checkOperation(const Check& c) {
    if (!c.edit || !c.m.editSizes.empty()) {
        return std::nullopt;
    }
    if (c.flavour == Flavour::OpenAI) {
        return invalid("model", "Invalid value: '" + std::string(c.m.name) +
                                    "'. Value must be one of 'dall-e-2', "
                                    "'gpt-image-1', 'gpt-image-1-mini', 'gpt-image-1.5', "
                                    "'gpt-image-2'.");
    }
    return ApiError{400,
                    "DALL-E models don't support the Image Edit API.",
                    "",
                    "OperationNotSupported",
                    "invalid_request_error",
                    ""};
}

std::optional<ApiError> checkPrompt(const Check& c) {
    if (!c.has("prompt")) {
        return invalid("prompt", "Missing required parameter: 'prompt'.",
                       "missing_required_parameter");
    }
    const glong length = g_utf8_strlen(c["prompt"].c_str(), -1);
    if (length == 0) {
        return invalid("prompt",
                       "Invalid 'prompt': empty string. Expected a string with minimum length 1, "
                       "but got an empty string instead.",
                       "empty_string");
    }
    if (length > c.m.promptMax) {
        return invalid("prompt",
                       "Invalid 'prompt': string too long. Expected a string with maximum length " +
                           std::to_string(c.m.promptMax) + ", but got a string with length " +
                           std::to_string(length) + " instead.",
                       "string_above_max_length");
    }
    return std::nullopt;
}

// Form fields arrive as text; these must read as numbers and booleans before any range check.
std::optional<ApiError> checkTypes(const Check& c) {
    for (const char* k : {"n", "output_compression", "partial_images"}) {
        if (c.has(k) && !isInteger(c[k])) {
            return invalid(k, std::string("Invalid type for '") + k + "': expected an integer.",
                           "invalid_type");
        }
    }
    if (c.has("stream") && c["stream"] != "true" && c["stream"] != "false") {
        return invalid("stream", "Invalid value for 'stream': expected true or false.",
                       "invalid_type");
    }
    return std::nullopt;
}

std::optional<ApiError> checkN(const Check& c) {
    if (!c.has("n")) {
        return std::nullopt;
    }
    const int n = std::stoi(c["n"]);
    if (n < 1 || n > 10) {
        return outOfRange("n", c["n"], 1, 10);
    }
    if (n > c.m.maxNPerRequest) {
        return invalid("n",
                       "You requested " + c["n"] + " images, but " + c.m.name +
                           " only supports n=1. Please request n=1.",
                       "invalid_value");
    }
    return std::nullopt;
}

std::optional<ApiError> checkSize(const Check& c) {
    if (!c.has("size")) {
        return std::nullopt;
    }
    const auto& allowed = c.edit ? c.m.editSizes : c.m.sizes;
    auto parsed = parseSize(c["size"]);
    const bool ok = contains(allowed, c["size"]) ||
                    (c.m.freeSizes && parsed && freeSizeOk(parsed->width, parsed->height));
    if (ok) {
        return std::nullopt;
    }
    return invalid("size", "Invalid value: '" + c["size"] +
                               "'. Supported values are: " + oneOf(allowed) +
                               (c.m.freeSizes ? ", or WIDTHxHEIGHT in multiples of 16 with an "
                                                "aspect ratio between 1:3 and 3:1, up to 3840x2160"
                                              : "") +
                               ".");
}

std::optional<ApiError> checkQuality(const Check& c) {
    if (c.has("quality") && !contains(c.m.qualities, c["quality"])) {
        return invalid("quality", "Invalid value: '" + c["quality"] +
                                      "'. Supported values are: " + oneOf(c.m.qualities) + ".");
    }
    return std::nullopt;
}

std::optional<ApiError> checkStyle(const Check& c) {
    if (!c.has("style")) {
        return std::nullopt;
    }
    if (!c.m.style) {
        return unknownParameter("style");
    }
    return checkWord(c, "style", {"vivid", "natural"}, "'vivid' and 'natural'");
}

std::optional<ApiError> checkResponseFormat(const Check& c) {
    if (!c.has("response_format")) {
        return std::nullopt;
    }
    if (c.m.gpt) {
        return unknownParameter("response_format");
    }
    return checkWord(c, "response_format", {"url", "b64_json"}, "'url' and 'b64_json'");
}

std::optional<ApiError> checkGptOnly(const Check& c) {
    for (const char* gptOnly : {"output_format", "output_compression", "background", "moderation",
                                "stream", "partial_images"}) {
        if (c.has(gptOnly) && !c.m.gpt) {
            return unknownParameter(gptOnly);
        }
    }
    return std::nullopt;
}

std::optional<ApiError> checkOutputFormat(const Check& c) {
    std::vector<std::string> formats = {"png", "jpeg", "webp"};
    if (c.flavour == Flavour::AzureDated) {
        formats = {"png", "jpeg"}; // "WEBP images aren't supported in the Azure OpenAI"
    }
    if (c.has("output_format") && !contains(formats, c["output_format"])) {
        return invalid("output_format", "Invalid value: '" + c["output_format"] +
                                            "'. Supported values are: " + oneOf(formats) + ".");
    }
    return std::nullopt;
}

std::optional<ApiError> checkCompression(const Check& c) {
    if (!c.has("output_compression")) {
        return std::nullopt;
    }
    const int compression = std::stoi(c["output_compression"]);
    if (compression < 0 || compression > 100) {
        return outOfRange("output_compression", c["output_compression"], 0, 100);
    }
    if (outputFormat(c.p) == "png") {
        return invalid("output_compression", "Compression less than 100 is only supported "
                                             "for JPEG and WEBP output formats.");
    }
    return std::nullopt;
}

std::optional<ApiError> checkBackground(const Check& c) {
    if (!c.has("background")) {
        return std::nullopt;
    }
    if (auto e = checkWord(c, "background", {"transparent", "opaque", "auto"},
                           "'transparent', 'opaque' and 'auto'")) {
        return e;
    }
    if (c["background"] == "transparent" && outputFormat(c.p) == "jpeg") {
        return invalid("background",
                       "Transparent background is not supported for the JPEG output format. "
                       "Use png or webp.");
    }
    return std::nullopt;
}

std::optional<ApiError> checkModeration(const Check& c) {
    if (!c.has("moderation")) {
        return std::nullopt;
    }
    if (c.edit) {
        return unknownParameter("moderation");
    }
    return checkWord(c, "moderation", {"low", "auto"}, "'low' and 'auto'");
}

std::optional<ApiError> checkPartialImages(const Check& c) {
    if (!c.has("partial_images")) {
        return std::nullopt;
    }
    const int k = std::stoi(c["partial_images"]);
    if (k < 0 || k > 3) {
        return outOfRange("partial_images", c["partial_images"], 0, 3);
    }
    return std::nullopt;
}

std::optional<ApiError> checkInputFidelity(const Check& c) {
    if (!c.has("input_fidelity")) {
        return std::nullopt;
    }
    if (!c.edit) {
        return unknownParameter("input_fidelity");
    }
    if (!c.m.inputFidelity) {
        return invalid("input_fidelity",
                       "input_fidelity is not supported for " + std::string(c.m.name) + ".");
    }
    return checkWord(c, "input_fidelity", {"high", "low"}, "'high' and 'low'");
}

std::optional<ApiError> checkImage(const ModelRules& m, const Upload& u, size_t index) {
    if (static_cast<int64_t>(u.bytes.size()) >= m.maxImageBytes) {
        return invalid("image",
                       "Invalid image " + std::to_string(index + 1) + ": the file is " +
                           std::to_string(u.bytes.size()) + " bytes, but it must be less than " +
                           std::to_string(m.maxImageBytes / (1024 * 1024)) + " MB.",
                       "image_file_too_large");
    }
    if (!m.gpt && (u.info.format != imagegen::ImageFormat::Png || u.info.width != u.info.height)) {
        return invalid("image",
                       "Invalid input image - format must be in ['RGBA', 'LA', 'L'], got RGB, "
                       "and the image must be a square PNG.",
                       "invalid_image_format");
    }
    return std::nullopt;
}

std::optional<ApiError> checkImages(const Check& c) {
    if (!c.edit) {
        return std::nullopt;
    }
    const auto& images = c.p.images;
    if (images.empty()) {
        return invalid("image", "Missing required parameter: 'image'.",
                       "missing_required_parameter");
    }
    if (static_cast<int>(images.size()) > c.m.maxImages) {
        return invalid("image",
                       "Too many images: " + std::string(c.m.name) + " accepts at most " +
                           std::to_string(c.m.maxImages) + " input image" +
                           (c.m.maxImages == 1 ? "" : "s") + ", got " +
                           std::to_string(images.size()) + ".",
                       "too_many_images");
    }
    for (size_t i = 0; i < images.size(); ++i) {
        if (auto e = checkImage(c.m, images[i], i)) {
            return e;
        }
    }
    return std::nullopt;
}

std::optional<ApiError> checkMask(const Check& c) {
    if (!c.edit || !c.p.mask) {
        return std::nullopt;
    }
    const imagegen::ImageInfo& mask = c.p.mask->info;
    if (static_cast<int64_t>(c.p.mask->bytes.size()) >= k4MB) {
        return invalid("mask", "Invalid mask: the file must be less than 4 MB.",
                       "image_file_too_large");
    }
    if (!mask.hasAlpha) {
        return invalid("mask",
                       "Invalid mask image format - the mask must be a PNG with an alpha channel.",
                       "invalid_image_format");
    }
    const imagegen::ImageInfo& first = c.p.images.front().info;
    if (mask.width != first.width || mask.height != first.height) {
        return invalid("mask",
                       "Invalid mask image format - mask size (" + std::to_string(mask.width) +
                           "x" + std::to_string(mask.height) + ") does not match image size (" +
                           std::to_string(first.width) + "x" + std::to_string(first.height) + ").",
                       "invalid_image_format");
    }
    return std::nullopt;
}

// In the order the services check: a request that breaks several rules gets the first one's
// error, and tests assert on which.
constexpr Rule kRules[] = {
    checkOperation,  checkPrompt,        checkTypes,         checkN,
    checkSize,       checkQuality,       checkStyle,         checkResponseFormat,
    checkGptOnly,    checkOutputFormat,  checkCompression,   checkBackground,
    checkModeration, checkPartialImages, checkInputFidelity, checkImages,
    checkMask,
};

} // namespace

std::span<const ModelRules> allModels() {
    return kModels;
}

const ModelRules* findModel(const std::string& name) {
    for (const auto& m : kModels) {
        if (name == m.name) {
            return &m;
        }
    }
    for (const auto& m : kModels) {
        const std::string prefix = std::string(m.name) + "-20";
        if (name.rfind(prefix, 0) == 0) {
            return &m;
        }
    }
    return nullptr;
}

std::optional<ApiError> validate(const ModelRules& m, Flavour flavour, bool edit, const Parsed& p) {
    const Check check{m, flavour, edit, p};
    for (Rule rule : kRules) {
        if (auto e = rule(check)) {
            return e;
        }
    }
    return std::nullopt;
}

std::pair<int, int> outputSize(const ModelRules& m, bool edit, const Parsed& p) {
    if (auto s = parseSize(p.fieldOr("size", "auto"))) {
        return {s->width, s->height};
    }
    if (!m.gpt) {
        return {1024, 1024};
    }
    // auto: the standard size nearest the input's aspect (edits), else square
    if (edit && !p.images.empty()) {
        const double aspect = static_cast<double>(p.images[0].info.width) / p.images[0].info.height;
        if (aspect > 1.25) {
            return {1536, 1024};
        }
        if (aspect < 0.8) {
            return {1024, 1536};
        }
    }
    return {1024, 1024};
}

std::string outputFormat(const Parsed& p) {
    return p.fieldOr("output_format", "png");
}

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

std::string oneOf(const std::vector<std::string>& values) {
    std::string out;
    for (size_t i = 0; i < values.size(); ++i) {
        out += (i == 0 ? "'" : ", '") + values[i] + "'";
    }
    return out;
}

} // namespace emulator
