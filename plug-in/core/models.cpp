#include "core/models.h"

#include "core/data_files.h"
#include "core/json_util.h"

#include <glib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <tuple>

namespace imagegen {

std::optional<Size> parseSize(const std::string& text) {
    int w = 0;
    int h = 0;
    char x = 0;
    char rest = 0;
    // NOLINTNEXTLINE(cert-err34-c): the result is checked for exactly three conversions
    if (std::sscanf(text.c_str(), "%d%c%d%c", &w, &x, &h, &rest) != 3 || x != 'x' || w <= 0 ||
        h <= 0) {
        return std::nullopt;
    }
    return Size{w, h};
}

std::string formatSize(Size size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

std::string joinAlternatives(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += (i + 1 == items.size()) ? " or " : ", ";
        }
        out += items[i];
    }
    return out;
}

static bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

// Why a free size is refused, or an empty string when it is fine.
static std::string freeSizeProblem(const FreeSizeRule& rule, Size s) {
    if (s.width % rule.multiple != 0 || s.height % rule.multiple != 0) {
        return "both sides must be multiples of " + std::to_string(rule.multiple);
    }
    double aspect = static_cast<double>(s.width) / s.height;
    if (aspect < rule.minAspect - 1e-9 || aspect > rule.maxAspect + 1e-9) {
        return "the aspect ratio must be between 1:3 and 3:1";
    }
    if (std::max(s.width, s.height) > rule.maxEdge ||
        static_cast<int64_t>(s.width) * s.height > rule.maxPixels) {
        return "the largest size is 3840x2160";
    }
    return {};
}

bool ModelCaps::offersSize(const std::string& size) const {
    if (contains(sizes, size)) {
        return true;
    }
    auto parsed = parseSize(size);
    return freeSizes && parsed && freeSizeProblem(*freeSizes, *parsed).empty();
}

static Error badTokenTable(const std::string& model, const std::string& entry,
                           const char* problem) {
    std::string message = "the model table's output_tokens of ";
    message.append(model).append(" has ").append(entry).append(", which is ").append(problem);
    return makeError(ErrorKind::Configuration, message);
}

// "output_tokens": {"<quality>": {"<WxH>": <tokens>, …}, …}. Strict, since a typing slip would
// otherwise show the user a wrong estimate: every quality and size must be one the model offers,
// and every figure a positive whole number.
static Status readOutputTokens(JsonObject* m, ModelCaps& caps) {
    if (!json_object_has_member(m, "output_tokens")) {
        return Ok{};
    }
    JsonObject* table = json::object(m, "output_tokens");
    if (table == nullptr) {
        return badTokenTable(caps.name, "a value", "not an object of qualities");
    }
    const GListPtr qualities(json_object_get_members(table));
    for (GList* q = qualities.get(); q != nullptr; q = q->next) {
        const std::string quality = static_cast<const char*>(q->data);
        JsonObject* bySize = json::object(table, quality.c_str());
        if (!contains(caps.qualities, quality) || bySize == nullptr) {
            return badTokenTable(caps.name, "\"" + quality + "\"",
                                 "not an object under a quality the model offers");
        }
        const GListPtr sizes(json_object_get_members(bySize));
        for (GList* z = sizes.get(); z != nullptr; z = z->next) {
            const std::string size = static_cast<const char*>(z->data);
            const auto tokens = json::integer(bySize, size.c_str());
            if (!parseSize(size) || !caps.offersSize(size) || !tokens || *tokens <= 0) {
                std::string entry = "\"";
                entry.append(quality).append("\": \"").append(size).append("\"");
                return badTokenTable(caps.name, entry,
                                     "not a positive whole number under a size the model offers");
            }
            caps.outputTokens[quality][size] = *tokens;
        }
    }
    return Ok{};
}

Result<ModelCatalog> ModelCatalog::fromJson(const std::string& text) {
    auto document = json::parseObject(text);
    JsonObject* root = document ? document->root() : nullptr;
    if (!document) {
        return makeError(ErrorKind::Configuration,
                         "the model table is not valid: " + document.error().message);
    }
    JsonArray* list = json::array(root, "models");
    if (list == nullptr) {
        return makeError(ErrorKind::Configuration, "the model table has no \"models\" list");
    }
    ModelCatalog catalog;
    for (guint i = 0; i < json_array_get_length(list); ++i) {
        JsonObject* m = json_array_get_object_element(list, i);
        ModelCaps caps;
        caps.name = json::string(m, "name").value_or("");
        if (caps.name.empty()) {
            return makeError(ErrorKind::Configuration, "a model in the model table has no name");
        }
        caps.sizes = json::stringArray(m, "sizes");
        if (JsonObject* f = json::object(m, "free_sizes")) {
            FreeSizeRule rule;
            rule.multiple = static_cast<int>(json::integer(f, "multiple").value_or(16));
            rule.minAspect = json::number(f, "min_aspect").value_or(1.0 / 3.0);
            rule.maxAspect = json::number(f, "max_aspect").value_or(3.0);
            rule.maxEdge = static_cast<int>(json::integer(f, "max_edge").value_or(3840));
            rule.maxPixels = json::integer(f, "max_pixels").value_or(3840LL * 2160LL);
            caps.freeSizes = rule;
        }
        caps.qualities = json::stringArray(m, "qualities");
        caps.maxN = static_cast<int>(json::integer(m, "max_n").value_or(1));
        caps.nPerRequest = static_cast<int>(json::integer(m, "n_per_request").value_or(1));
        caps.promptMax = static_cast<int>(json::integer(m, "prompt_max").value_or(1000));
        caps.edits = json::boolean(m, "edits").value_or(false);
        caps.inputFidelity = json::boolean(m, "input_fidelity").value_or(false);
        caps.streaming = json::boolean(m, "streaming").value_or(false);
        caps.outputFormats = json::stringArray(m, "output_formats");
        caps.background = json::boolean(m, "background").value_or(false);
        caps.moderation = json::boolean(m, "moderation").value_or(false);
        caps.style = json::boolean(m, "style").value_or(false);
        caps.responseFormats = json::stringArray(m, "response_formats");
        caps.maxInputImages = static_cast<int>(json::integer(m, "max_input_images").value_or(0));
        caps.maxImageBytes = json::integer(m, "max_image_bytes").value_or(0);
        if (auto tokens = readOutputTokens(m, caps); !tokens) {
            return tokens.error();
        }
        catalog.models_.push_back(std::move(caps));
    }
    if (catalog.models_.empty()) {
        return makeError(ErrorKind::Configuration, "the model table lists no model");
    }
    return catalog;
}

Result<ModelCatalog> ModelCatalog::fromFile(const std::string& path) {
    auto text = readDataFile(path, "the model table");
    if (!text) {
        return text.error();
    }
    return fromJson(*text);
}

Result<ModelCatalog> ModelCatalog::loadDefault() {
    return fromFile(dataFilePath("models.json"));
}

const ModelCaps* ModelCatalog::find(const std::string& name) const {
    for (const auto& m : models_) {
        if (m.name == name) {
            return &m;
        }
    }
    return nullptr;
}

static std::string alnumLower(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) != 0) {
            out += static_cast<char>(std::tolower(c));
        }
    }
    return out;
}

const ModelCaps& ModelCatalog::familyOf(const std::string& modelOrDeployment) const {
    if (const ModelCaps* exact = find(modelOrDeployment)) {
        return *exact;
    }
    const std::string key = alnumLower(modelOrDeployment);
    const ModelCaps* best = nullptr;
    size_t bestLength = 0;
    for (const auto& m : models_) {
        std::string name = alnumLower(m.name);
        if (name.size() > bestLength && key.find(name) != std::string::npos) {
            best = &m;
            bestLength = name.size();
        }
    }
    if (best != nullptr) {
        return *best;
    }
    const ModelCaps* fallback = find("gpt-image-1");
    return fallback != nullptr ? *fallback : models_.front();
}

static Error refuse(const std::string& field, const std::string& message) {
    Error e = makeError(ErrorKind::InvalidRequest, message);
    e.param = field;
    return e;
}

static Status checkChoice(const std::string& field, const std::string& value,
                          const std::vector<std::string>& allowed, const std::string& model) {
    if (value.empty() || contains(allowed, value)) {
        return Ok{};
    }
    if (allowed.empty()) {
        return refuse(field, model + " does not take " + field + " (" + value + ")");
    }
    return refuse(field, field + " " + value + " is not offered by " + model + ": use " +
                             joinAlternatives(allowed));
}

static Status validateInputImages(const ModelCaps& caps, const ImageRequest& r) {
    if (r.images.empty()) {
        return refuse("image", "an edit needs an image");
    }
    if (static_cast<int>(r.images.size()) > caps.maxInputImages) {
        return refuse("image", caps.name + " takes at most " + std::to_string(caps.maxInputImages) +
                                   " input image" + (caps.maxInputImages == 1 ? "" : "s") +
                                   ", not " + std::to_string(r.images.size()));
    }
    const std::vector<std::string> types =
        caps.isGptImage() ? std::vector<std::string>{"image/png", "image/jpeg", "image/webp"}
                          : std::vector<std::string>{"image/png"};
    for (const auto& image : r.images) {
        if (!contains(types, image.mimeType)) {
            return refuse("image", "input images for " + caps.name + " must be " +
                                       joinAlternatives(types) + ", not " + image.mimeType);
        }
        if (static_cast<int64_t>(image.bytes.size()) > caps.maxImageBytes) {
            return refuse("image", "an input image is " + std::to_string(image.bytes.size()) +
                                       " bytes; " + caps.name + " takes at most " +
                                       std::to_string(caps.maxImageBytes));
        }
        if (!caps.isGptImage() && image.width != image.height) {
            return refuse("image", caps.name + " edits only square images, not " +
                                       formatSize({image.width, image.height}));
        }
    }
    if (r.mask) {
        constexpr int64_t kMaxMaskBytes = 4LL * 1024 * 1024;
        if (r.mask->mimeType != "image/png") {
            return refuse("mask", "the mask must be a PNG image");
        }
        if (static_cast<int64_t>(r.mask->bytes.size()) > kMaxMaskBytes) {
            return refuse("mask", "the mask is " + std::to_string(r.mask->bytes.size()) +
                                      " bytes; at most 4 MB is allowed");
        }
        const InputImage& first = r.images.front();
        if (r.mask->width != first.width || r.mask->height != first.height) {
            return refuse("mask", "the mask is " + formatSize({r.mask->width, r.mask->height}) +
                                      " but the image is " +
                                      formatSize({first.width, first.height}) +
                                      ": they must be the same size");
        }
    }
    return Ok{};
}

// The rules of validateFields, in the order they are checked: the first that fails is the one
// reported.
static Status checkPrompt(const ModelCaps& caps, const ImageRequest& r) {
    const glong length = g_utf8_strlen(r.prompt.c_str(), static_cast<gssize>(r.prompt.size()));
    if (length == 0) {
        return refuse("prompt", "the prompt is empty: describe what to draw");
    }
    if (length > caps.promptMax) {
        return refuse("prompt", "the prompt is " + std::to_string(length) + " characters long; " +
                                    caps.name + " takes at most " + std::to_string(caps.promptMax));
    }
    return Ok{};
}

static Status checkCount(const ModelCaps& caps, const ImageRequest& r) {
    if (r.n != -1 && (r.n < 1 || r.n > caps.maxN)) {
        return refuse("n", "n " + std::to_string(r.n) + " is not offered by " + caps.name +
                               ": use 1 to " + std::to_string(caps.maxN));
    }
    return Ok{};
}

Status validateSize(const ModelCaps& caps, const std::string& size) {
    if (size.empty() || caps.offersSize(size)) {
        return Ok{};
    }
    std::string message = "size " + size + " is not offered by " + caps.name + ": use " +
                          joinAlternatives(caps.sizes);
    auto parsed = parseSize(size);
    if (caps.freeSizes) {
        message += parsed ? ", or any WxH where " + freeSizeProblem(*caps.freeSizes, *parsed)
                          : ", or a size written as WIDTHxHEIGHT";
    }
    return refuse("size", message);
}

static Status checkSize(const ModelCaps& caps, const ImageRequest& r) {
    return validateSize(caps, r.size);
}

// The values a field takes when the model takes it at all.
static std::vector<std::string> offered(bool takes, std::vector<std::string> values) {
    return takes ? std::move(values) : std::vector<std::string>{};
}

static Status checkLook(const ModelCaps& caps, const ImageRequest& r) {
    for (const auto& [field, value, allowed] :
         {std::tuple{"quality", &r.quality, caps.qualities},
          std::tuple{"style", &r.style, offered(caps.style, {"vivid", "natural"})},
          std::tuple{"background", &r.background,
                     offered(caps.background, {"transparent", "opaque", "auto"})},
          std::tuple{"output_format", &r.outputFormat, caps.outputFormats}}) {
        if (auto s = checkChoice(field, *value, allowed, caps.name); !s) {
            return s;
        }
    }
    return Ok{};
}

static Status checkCompression(const ModelCaps& caps, const ImageRequest& r) {
    const std::string format = r.outputFormat.empty() ? "png" : r.outputFormat;
    if (r.background == "transparent" && format == "jpeg") {
        return refuse("background",
                      "a transparent background needs output_format png or webp, not jpeg");
    }
    if (r.outputCompression == -1) {
        return Ok{};
    }
    if (r.outputCompression < 0 || r.outputCompression > 100) {
        return refuse("output_compression", "output_compression " +
                                                std::to_string(r.outputCompression) +
                                                " is out of range: use 0 to 100");
    }
    if (caps.outputFormats.empty() || (format != "jpeg" && format != "webp")) {
        return refuse("output_compression",
                      "output_compression applies only to output_format jpeg or webp");
    }
    return Ok{};
}

static Status checkService(const ModelCaps& caps, const ImageRequest& r) {
    if (auto s = checkChoice("moderation", r.moderation, offered(caps.moderation, {"low", "auto"}),
                             caps.name);
        !s) {
        return s;
    }
    if (auto s = checkChoice("response_format", r.responseFormat, caps.responseFormats, caps.name);
        !s) {
        return s;
    }
    if (r.inputFidelity.empty()) {
        return Ok{};
    }
    if (r.operation != Operation::Edit) {
        return refuse("input_fidelity", "input_fidelity applies only to edits");
    }
    return checkChoice("input_fidelity", r.inputFidelity,
                       offered(caps.inputFidelity, {"high", "low"}), caps.name);
}

static Status checkStreaming(const ModelCaps& caps, const ImageRequest& r) {
    if (r.stream && !caps.streaming) {
        return refuse("stream", caps.name + " does not stream its images");
    }
    if (r.partialImages == -1) {
        return Ok{};
    }
    if (!r.stream) {
        return refuse("partial_images", "partial_images needs stream");
    }
    if (r.partialImages < 0 || r.partialImages > 3) {
        return refuse("partial_images", "partial_images " + std::to_string(r.partialImages) +
                                            " is out of range: use 0 to 3");
    }
    return Ok{};
}

static Status checkEdit(const ModelCaps& caps, const ImageRequest& r) {
    if (r.operation != Operation::Edit) {
        return Ok{};
    }
    if (!caps.edits) {
        return refuse("model", caps.name +
                                   " does not edit images: choose a GPT image model such as "
                                   "gpt-image-1 for edits");
    }
    if (!r.style.empty() || !r.moderation.empty()) {
        const char* field = r.style.empty() ? "moderation" : "style";
        return refuse(field, std::string(field) + " applies only to generations, not to edits");
    }
    return Ok{};
}

Status validateFields(const ModelCaps& caps, const ImageRequest& r) {
    using Rule = Status (*)(const ModelCaps&, const ImageRequest&);
    for (Rule rule : {checkPrompt, checkCount, checkSize, checkLook, checkCompression, checkService,
                      checkStreaming, checkEdit}) {
        if (auto s = rule(caps, r); !s) {
            return s;
        }
    }
    return Ok{};
}

Status validateRequest(const ModelCaps& caps, const ImageRequest& r) {
    if (auto s = validateFields(caps, r); !s) {
        return s;
    }
    return r.operation == Operation::Edit ? validateInputImages(caps, r) : Status(Ok{});
}

std::vector<ImageRequest> planRequests(const ModelCaps& caps, const ImageRequest& request) {
    const int total = request.n == -1 ? 1 : request.n;
    const int perRequest = std::max(1, caps.nPerRequest);
    if (total <= perRequest) {
        return {request};
    }
    std::vector<ImageRequest> plan;
    for (int left = total; left > 0; left -= perRequest) {
        ImageRequest part = request;
        const int count = std::min(left, perRequest);
        // A one-image model gets no n at all: its default is 1 and some servers refuse n.
        part.n = perRequest == 1 ? -1 : count;
        plan.push_back(std::move(part));
    }
    return plan;
}

} // namespace imagegen
