#include "core/service/models.h"

#include "core/util/data_files.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"

#include <glib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <tuple>

namespace imagegen {

// One side of a size: a positive whole number in plain digits that fits an int. No sign, space
// or leading zero, so that a size that parses is the text formatSize writes back and the text
// sent to the service is exactly what was checked.
static std::optional<int> parseSide(std::string_view text) {
    if (text.empty() || text.front() < '1' || text.front() > '9') {
        return std::nullopt;
    }
    int value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, problem] = std::from_chars(text.data(), end, value);
    if (problem != std::errc{} || stop != end) { // overflow, or something after the digits
        return std::nullopt;
    }
    return value;
}

std::optional<Size> parseSize(const std::string& text) {
    const size_t x = text.find('x');
    if (x == std::string::npos) {
        return std::nullopt;
    }
    const std::string_view all(text);
    const auto width = parseSide(all.substr(0, x));
    const auto height = parseSide(all.substr(x + 1));
    if (!width || !height) {
        return std::nullopt;
    }
    return Size{*width, *height};
}

std::string formatSize(Size size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

std::string joinAlternatives(const std::vector<std::string>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            // TRANSLATORS: between the last two of a list of choices: "png, jpeg or webp".
            out += (i + 1 == items.size()) ? _(" or ") : C_("list", ", ");
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
        return textf(_("both sides must be multiples of %d"), rule.multiple);
    }
    double aspect = static_cast<double>(s.width) / s.height;
    if (aspect < rule.minAspect - 1e-9 || aspect > rule.maxAspect + 1e-9) {
        return _("the aspect ratio must be between 1:3 and 3:1");
    }
    if (std::max(s.width, s.height) > rule.maxEdge ||
        static_cast<int64_t>(s.width) * s.height > rule.maxPixels) {
        return _("the largest size is 3840x2160");
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
    // TRANSLATORS: "the model table's output_tokens of gpt-image-1 has "high", which is not an
    // object under a quality the model offers"; output_tokens is a field name.
    return makeError(ErrorKind::Configuration,
                     textf(_("the model table's output_tokens of %s has %s, which is %s"),
                           model.c_str(), entry.c_str(), problem));
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
        return badTokenTable(caps.name, _("a value"), _("not an object of qualities"));
    }
    const GListPtr qualities(json_object_get_members(table));
    for (GList* q = qualities.get(); q != nullptr; q = q->next) {
        const std::string quality = static_cast<const char*>(q->data);
        JsonObject* bySize = json::object(table, quality.c_str());
        if (!contains(caps.qualities, quality) || bySize == nullptr) {
            return badTokenTable(caps.name, "\"" + quality + "\"",
                                 _("not an object under a quality the model offers"));
        }
        const GListPtr sizes(json_object_get_members(bySize));
        for (GList* z = sizes.get(); z != nullptr; z = z->next) {
            const std::string size = static_cast<const char*>(z->data);
            const auto tokens = json::integer(bySize, size.c_str());
            if (!parseSize(size) || !caps.offersSize(size) || !tokens || *tokens <= 0) {
                std::string entry = "\"";
                entry.append(quality).append("\": \"").append(size).append("\"");
                return badTokenTable(
                    caps.name, entry,
                    _("not a positive whole number under a size the model offers"));
            }
            caps.outputTokens[quality][size] = *tokens;
        }
    }
    return Ok{};
}

// "2026-12-06": four digits, two, two, with dashes; a date a person can read back.
static bool isIsoDate(const std::string& text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return false;
    }
    return std::all_of(text.begin(), text.end(), [](char c) {
        return c == '-' || std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
}

// A price in US dollars: a positive finite number, nullopt for anything else.
static std::optional<double> readDollars(JsonObject* o, const char* name) {
    const auto value = json::number(o, name);
    if (!value || !std::isfinite(*value) || *value <= 0) {
        return std::nullopt;
    }
    return value;
}

// "per_image": {"<quality>": {"<WxH>": <USD>, …}, …}, only qualities and sizes the model offers.
static bool readPerImage(JsonObject* table, ModelCaps& caps, ModelPrice& price) {
    const GListPtr qualities(json_object_get_members(table));
    for (GList* q = qualities.get(); q != nullptr; q = q->next) {
        const std::string quality = static_cast<const char*>(q->data);
        JsonObject* bySize = json::object(table, quality.c_str());
        if (!contains(caps.qualities, quality) || bySize == nullptr) {
            return false;
        }
        const GListPtr sizes(json_object_get_members(bySize));
        for (GList* z = sizes.get(); z != nullptr; z = z->next) {
            const std::string size = static_cast<const char*>(z->data);
            const auto dollars = readDollars(bySize, size.c_str());
            if (!parseSize(size) || !caps.offersSize(size) || !dollars) {
                return false;
            }
            price.perImage[quality][size] = *dollars;
        }
    }
    return true;
}

// The model's "price", dated by the table's "prices". Unlike output_tokens, a slip here is not an
// error that stops the plug-in: the price is left out as a whole (a price partly read could be
// wrong), and the dialog shows the tokens alone, as it does for a model no page gives a price for.
static std::optional<ModelPrice> readPrice(JsonObject* m, ModelCaps& caps, JsonObject* prices) {
    JsonObject* entry = json::object(m, "price");
    if (entry == nullptr || prices == nullptr) {
        return std::nullopt;
    }
    ModelPrice price;
    price.asOf = json::string(prices, "as_of").value_or("");
    // Prices without their date would be passed off as current: none at all.
    if (!isIsoDate(price.asOf) || json::string(prices, "currency").value_or("USD") != "USD") {
        return std::nullopt;
    }
    price.source =
        json::string(entry, "source").value_or(json::string(prices, "source").value_or(""));
    for (const auto& [name, field] : {std::pair{"image_output_per_1m", &price.imageOutputPer1M},
                                      std::pair{"text_input_per_1m", &price.textInputPer1M}}) {
        if (json_object_has_member(entry, name)) {
            const auto dollars = readDollars(entry, name);
            if (!dollars) {
                return std::nullopt;
            }
            *field = *dollars;
        }
    }
    if (json_object_has_member(entry, "per_image")) {
        JsonObject* table = json::object(entry, "per_image");
        if (table == nullptr || !readPerImage(table, caps, price)) {
            return std::nullopt;
        }
    }
    if (price.imageOutputPer1M <= 0 && price.perImage.empty()) {
        return std::nullopt; // nothing that prices an image
    }
    return price;
}

Result<ModelCatalog> ModelCatalog::fromJson(const std::string& text) {
    auto document = json::parseObject(text);
    JsonObject* root = document ? document->root() : nullptr;
    if (!document) {
        return makeError(ErrorKind::Configuration, textf(_("the model table is not valid: %s"),
                                                         document.error().message.c_str()));
    }
    JsonArray* list = json::array(root, "models");
    if (list == nullptr) {
        return makeError(ErrorKind::Configuration, _("the model table has no \"models\" list"));
    }
    ModelCatalog catalog;
    for (guint i = 0; i < json_array_get_length(list); ++i) {
        JsonObject* m = json_array_get_object_element(list, i);
        ModelCaps caps;
        caps.name = json::string(m, "name").value_or("");
        if (caps.name.empty()) {
            return makeError(ErrorKind::Configuration, _("a model in the model table has no name"));
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
        caps.price = readPrice(m, caps, json::object(root, "prices"));
        catalog.models_.push_back(std::move(caps));
    }
    if (catalog.models_.empty()) {
        return makeError(ErrorKind::Configuration, _("the model table lists no model"));
    }
    return catalog;
}

Result<ModelCatalog> ModelCatalog::fromFile(const std::string& path) {
    auto text = readDataFile(path, _("the model table"));
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
        return refuse(field, textf(_("%s does not take %s (%s)"), model.c_str(), field.c_str(),
                                   value.c_str()));
    }
    // TRANSLATORS: "quality ultra is not offered by dall-e-3: use standard or hd".
    return refuse(field, textf(_("%s %s is not offered by %s: use %s"), field.c_str(),
                               value.c_str(), model.c_str(), joinAlternatives(allowed).c_str()));
}

static Status validateInputImages(const ModelCaps& caps, const ImageRequest& r) {
    if (r.images.empty()) {
        return refuse("image", _("an edit needs an image"));
    }
    if (static_cast<int>(r.images.size()) > caps.maxInputImages) {
        return refuse(
            "image",
            textf(g_dngettext(GETTEXT_PACKAGE, "%s takes at most %d input image, not %zu",
                              "%s takes at most %d input images, not %zu", caps.maxInputImages),
                  caps.name.c_str(), caps.maxInputImages, r.images.size()));
    }
    const std::vector<std::string> types =
        caps.isGptImage() ? std::vector<std::string>{"image/png", "image/jpeg", "image/webp"}
                          : std::vector<std::string>{"image/png"};
    for (const auto& image : r.images) {
        if (!contains(types, image.mimeType)) {
            return refuse("image",
                          textf(_("input images for %s must be %s, not %s"), caps.name.c_str(),
                                joinAlternatives(types).c_str(), image.mimeType.c_str()));
        }
        if (static_cast<int64_t>(image.bytes.size()) > caps.maxImageBytes) {
            return refuse("image", textf(_("an input image is %zu bytes; %s takes at most %lld"),
                                         image.bytes.size(), caps.name.c_str(),
                                         static_cast<long long>(caps.maxImageBytes)));
        }
        if (!caps.isGptImage() && image.width != image.height) {
            return refuse("image",
                          textf(_("%s edits only square images, not %s"), caps.name.c_str(),
                                formatSize({image.width, image.height}).c_str()));
        }
    }
    if (r.mask) {
        constexpr int64_t kMaxMaskBytes = 4LL * 1024 * 1024;
        if (r.mask->mimeType != "image/png") {
            return refuse("mask", _("the mask must be a PNG image"));
        }
        if (static_cast<int64_t>(r.mask->bytes.size()) > kMaxMaskBytes) {
            return refuse("mask", textf(_("the mask is %zu bytes; at most 4 MB is allowed"),
                                        r.mask->bytes.size()));
        }
        const InputImage& first = r.images.front();
        if (r.mask->width != first.width || r.mask->height != first.height) {
            return refuse("mask",
                          textf(_("the mask is %s but the image is %s: they must be the same size"),
                                formatSize({r.mask->width, r.mask->height}).c_str(),
                                formatSize({first.width, first.height}).c_str()));
        }
    }
    return Ok{};
}

// The rules of validateFields, in the order they are checked: the first that fails is the one
// reported.
static Status checkPrompt(const ModelCaps& caps, const ImageRequest& r) {
    const glong length = g_utf8_strlen(r.prompt.c_str(), static_cast<gssize>(r.prompt.size()));
    if (length == 0) {
        return refuse("prompt", _("the prompt is empty: describe what to draw"));
    }
    if (length > caps.promptMax) {
        return refuse("prompt",
                      textf(_("the prompt is %ld characters long; %s takes at most %d"),
                            static_cast<long>(length), caps.name.c_str(), caps.promptMax));
    }
    return Ok{};
}

static Status checkCount(const ModelCaps& caps, const ImageRequest& r) {
    if (r.n != -1 && (r.n < 1 || r.n > caps.maxN)) {
        return refuse("n", textf(_("n %d is not offered by %s: use 1 to %d"), r.n,
                                 caps.name.c_str(), caps.maxN));
    }
    return Ok{};
}

Status validateSize(const ModelCaps& caps, const std::string& size) {
    if (size.empty() || caps.offersSize(size)) {
        return Ok{};
    }
    std::string message = textf(_("size %s is not offered by %s: use %s"), size.c_str(),
                                caps.name.c_str(), joinAlternatives(caps.sizes).c_str());
    auto parsed = parseSize(size);
    if (caps.freeSizes) {
        // TRANSLATORS: follows "size 100x100 is not offered by gpt-image-2: use 1024x1024"; the
        // placeholder says why, e.g. "both sides must be multiples of 16".
        message += parsed ? textf(_(", or any WxH where %s"),
                                  freeSizeProblem(*caps.freeSizes, *parsed).c_str())
                          : std::string(_(", or a size written as WIDTHxHEIGHT"));
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
                      _("a transparent background needs output_format png or webp, not jpeg"));
    }
    if (r.outputCompression == -1) {
        return Ok{};
    }
    if (r.outputCompression < 0 || r.outputCompression > 100) {
        return refuse(
            "output_compression",
            textf(_("output_compression %d is out of range: use 0 to 100"), r.outputCompression));
    }
    if (caps.outputFormats.empty() || (format != "jpeg" && format != "webp")) {
        return refuse("output_compression",
                      _("output_compression applies only to output_format jpeg or webp"));
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
        return refuse("input_fidelity", _("input_fidelity applies only to edits"));
    }
    return checkChoice("input_fidelity", r.inputFidelity,
                       offered(caps.inputFidelity, {"high", "low"}), caps.name);
}

static Status checkStreaming(const ModelCaps& caps, const ImageRequest& r) {
    if (r.stream && !caps.streaming) {
        return refuse("stream", textf(_("%s does not stream its images"), caps.name.c_str()));
    }
    if (r.partialImages == -1) {
        return Ok{};
    }
    if (!r.stream) {
        return refuse("partial_images", _("partial_images needs stream"));
    }
    if (r.partialImages < 0 || r.partialImages > 3) {
        return refuse("partial_images",
                      textf(_("partial_images %d is out of range: use 0 to 3"), r.partialImages));
    }
    return Ok{};
}

static Status checkEdit(const ModelCaps& caps, const ImageRequest& r) {
    if (r.operation != Operation::Edit) {
        return Ok{};
    }
    if (!caps.edits) {
        return refuse("model", textf(_("%s does not edit images: choose a GPT image model such as "
                                       "gpt-image-1 for edits"),
                                     caps.name.c_str()));
    }
    if (!r.style.empty() || !r.moderation.empty()) {
        const char* field = r.style.empty() ? "moderation" : "style";
        return refuse(field, textf(_("%s applies only to generations, not to edits"), field));
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

Size largestSize(const ModelCaps& caps) {
    Size best;
    auto consider = [&best](Size s) {
        if (int64_t{s.width} * s.height > int64_t{best.width} * best.height) {
            best = s;
        }
    };
    for (const auto& offered : caps.sizes) {
        if (auto s = parseSize(offered)) {
            consider(*s);
        }
    }
    if (const auto& rule = caps.freeSizes; rule && rule->maxEdge > 0) {
        // The longest edge, and the longest other edge that keeps within the pixels and the
        // multiple: 3840x2160 for gpt-image-2.
        const int64_t multiple = std::max(1, rule->multiple);
        const int64_t other =
            std::min<int64_t>(rule->maxEdge, rule->maxPixels / rule->maxEdge) / multiple * multiple;
        consider({rule->maxEdge, static_cast<int>(other)});
    }
    return best;
}

std::vector<ImageRequest> planRequests(const ModelCaps& caps, ImageRequest given) {
    ImageRequest request = std::move(given);
    if (!parseSize(request.size) && request.largestSize.empty()) {
        if (const Size largest = largestSize(caps); largest.width > 0) {
            request.largestSize = formatSize(largest);
        }
    }
    const int total = request.n == -1 ? 1 : request.n;
    const int perRequest = std::max(1, caps.nPerRequest);
    std::vector<ImageRequest> plan;
    if (total <= perRequest) {
        plan.push_back(std::move(request)); // its images moved, never copied
        return plan;
    }
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
