#include "emulator.h"

#include "core/codec.h"
#include "core/glib_ptr.h"
#include "core/json_util.h"
#include "core/models.h"
#include "support/fixtures.h"

#include <libsoup/soup.h>

#include <webp/encode.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <set>
#include <vector>

using imagegen::adoptRef;
using imagegen::GBytesPtr;
using imagegen::GCharPtr;
using imagegen::GErrorPtr;
using imagegen::GRef;
using imagegen::outPtr;
using imagegen::parseSize;
using imagegen::RgbaImage;

namespace emulator {

namespace {

enum class Flavour { OpenAI, AzureDated, AzureV1 };

// ---- what each model takes (PROTOCOL.md §3, §4, §6), kept apart from the client's table ----

struct ModelRules {
    const char* name;
    std::vector<std::string> sizes;     // generations
    std::vector<std::string> editSizes; // edits; empty: no edits
    bool freeSizes;
    std::vector<std::string> qualities;
    int maxNPerRequest;
    int promptMax;
    bool gpt;
    bool inputFidelity;
    bool style;
    int maxImages;
    int64_t maxImageBytes;
};

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

const ModelRules* findModel(const std::string& name) {
    for (const auto& m : kModels) {
        if (name == m.name) {
            return &m;
        }
    }
    // Dated snapshots (gpt-image-2-2026-04-21) behave as their family.
    for (const auto& m : kModels) {
        const std::string prefix = std::string(m.name) + "-20";
        if (name.rfind(prefix, 0) == 0) {
            return &m;
        }
    }
    return nullptr;
}

// ---- errors in each flavour's shape ----

struct ApiError {
    int status = 400;
    std::string message;
    std::string param;
    std::string code;
    std::string type = "invalid_request_error";
    std::string filterStage; // "input"/"output" for content-filter refusals
};

ApiError invalid(const std::string& param, const std::string& message,
                 const std::string& code = "invalid_value") {
    return {400, message, param, code, "invalid_request_error", ""};
}

void addNullable(JsonBuilder* b, const char* name, const std::string& value) {
    json_builder_set_member_name(b, name);
    if (value.empty()) {
        json_builder_add_null_value(b);
    } else {
        json_builder_add_string_value(b, value.c_str());
    }
}

void addFilterCategories(JsonBuilder* b, const char* filteredCategory) {
    for (const char* category : {"hate", "self_harm", "sexual", "violence"}) {
        const bool filtered =
            filteredCategory != nullptr && g_str_equal(category, filteredCategory);
        json_builder_set_member_name(b, category);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "filtered");
        json_builder_add_boolean_value(b, filtered);
        json_builder_set_member_name(b, "severity");
        json_builder_add_string_value(b, filtered ? "high" : "safe");
        json_builder_end_object(b);
    }
}

void addPromptFilterResults(JsonBuilder* b, const char* filteredCategory) {
    json_builder_begin_object(b);
    addFilterCategories(b, filteredCategory);
    for (const char* detector : {"profanity", "jailbreak"}) {
        json_builder_set_member_name(b, detector);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "filtered");
        json_builder_add_boolean_value(b, FALSE);
        json_builder_set_member_name(b, "detected");
        json_builder_add_boolean_value(b, FALSE);
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "custom_blocklists");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "filtered");
    json_builder_add_boolean_value(b, FALSE);
    json_builder_set_member_name(b, "details");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

std::string errorBody(const ApiError& e, Flavour flavour) {
    auto b = adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    if (flavour != Flavour::OpenAI && !e.filterStage.empty()) {
        json_builder_set_member_name(b.get(), "created");
        json_builder_add_int_value(b.get(), g_get_real_time() / 1000000);
    }
    json_builder_set_member_name(b.get(), "error");
    json_builder_begin_object(b.get());
    if (flavour == Flavour::OpenAI) {
        json_builder_set_member_name(b.get(), "message");
        json_builder_add_string_value(b.get(), e.message.c_str());
        json_builder_set_member_name(b.get(), "type");
        json_builder_add_string_value(b.get(), e.type.c_str());
        addNullable(b.get(), "param", e.param);
        addNullable(b.get(), "code", e.code);
        if (!e.filterStage.empty()) {
            json_builder_set_member_name(b.get(), "moderation_details");
            json_builder_begin_object(b.get());
            json_builder_set_member_name(b.get(), "moderation_stage");
            json_builder_add_string_value(b.get(), e.filterStage.c_str());
            json_builder_set_member_name(b.get(), "categories");
            json_builder_begin_array(b.get());
            json_builder_add_string_value(b.get(), "violence");
            json_builder_end_array(b.get());
            json_builder_end_object(b.get());
        }
    } else {
        json_builder_set_member_name(b.get(), "code");
        json_builder_add_string_value(b.get(), e.code.empty() ? std::to_string(e.status).c_str()
                                                              : e.code.c_str());
        json_builder_set_member_name(b.get(), "message");
        json_builder_add_string_value(b.get(), e.message.c_str());
        if (!e.param.empty()) {
            json_builder_set_member_name(b.get(), "param");
            json_builder_add_string_value(b.get(), e.param.c_str());
        }
        json_builder_set_member_name(b.get(), "type");
        json_builder_add_string_value(b.get(),
                                      flavour == Flavour::AzureV1 ? "error" : e.type.c_str());
        if (!e.filterStage.empty()) {
            json_builder_set_member_name(b.get(), "inner_error");
            json_builder_begin_object(b.get());
            json_builder_set_member_name(b.get(), "code");
            json_builder_add_string_value(b.get(), "ResponsibleAIPolicyViolation");
            json_builder_set_member_name(b.get(), "content_filter_results");
            addPromptFilterResults(b.get(), e.filterStage == "input" ? "violence" : nullptr);
            json_builder_end_object(b.get());
        }
    }
    json_builder_end_object(b.get());
    json_builder_end_object(b.get());
    return imagegen::json::builderText(b.get());
}

ApiError contentFilterError(Flavour flavour, const std::string& stage, const std::string& shape) {
    const bool azure = shape == "azure" || (shape.empty() && flavour != Flavour::OpenAI);
    ApiError e;
    e.status = 400;
    e.filterStage = stage;
    if (azure) {
        e.code = "contentFilter";
        e.type = "invalid_request_error";
        e.param = "prompt";
        e.message = stage == "output"
                        ? "Generated image was filtered as a result of our safety system."
                        : "Your task failed as a result of our safety system.";
    } else {
        e.code = "moderation_blocked";
        e.type = "image_generation_user_error";
        e.message =
            "Your request was rejected by the safety system. If you believe this is an error, "
            "contact us at help.openai.com and include the request ID. "
            "safety_violations=[violence].";
    }
    return e;
}

// ---- requests as received ----

struct Upload {
    std::string part;
    std::string filename;
    std::string contentType;
    std::string bytes;
    imagegen::ImageInfo info;
};

struct LogEntry {
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::string> headerNames;
    bool authPresent = false;
    std::string flavour;
    std::string deployment;
    std::map<std::string, std::string> fields;
    std::vector<Upload> images;
    std::optional<Upload> mask;
    int status = 0;
    std::string fault;
};

struct Fault {
    std::string kind;
    std::string header;
    std::string value;
    int status = 0;
    std::string stage;
    std::string shape;
    int ms = 0;
};

struct StoredFile {
    std::string bytes;
    std::string contentType;
};

// ---- deterministic pictures ----

struct Rgb {
    uint8_t r, g, b;
};

// The colour an edit paints, from the prompt alone: tests compute the same.
Rgb promptColour(const std::string& prompt) {
    uint32_t h = 2166136261U;
    for (unsigned char c : prompt) {
        h = (h ^ c) * 16777619U;
    }
    return {static_cast<uint8_t>(64 + (h & 0x7f)), static_cast<uint8_t>(64 + ((h >> 8) & 0x7f)),
            static_cast<uint8_t>(64 + ((h >> 16) & 0x7f))};
}

uint8_t shifted(uint8_t v) {
    return v < 250 ? static_cast<uint8_t>(v + 5) : static_cast<uint8_t>(v - 5);
}

RgbaImage nearestResize(const RgbaImage& in, int w, int h) {
    RgbaImage out(w, h);
    for (int y = 0; y < h; ++y) {
        const int sy =
            std::min(in.height - 1, static_cast<int>(static_cast<int64_t>(y) * in.height / h));
        for (int x = 0; x < w; ++x) {
            const int sx =
                std::min(in.width - 1, static_cast<int>(static_cast<int64_t>(x) * in.width / w));
            std::copy_n(in.at(sx, sy), 4, out.at(x, y));
        }
    }
    return out;
}

RgbaImage drawGeneration(const std::string& prompt, int w, int h, bool transparent) {
    const Rgb c = promptColour(prompt);
    RgbaImage out(w, h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            uint8_t* p = out.at(x, y);
            const bool stripe = ((x + y) / 32) % 2 == 0;
            p[0] = stripe ? c.r : static_cast<uint8_t>(255 - c.r);
            p[1] = stripe ? c.g : static_cast<uint8_t>(255 - c.g);
            p[2] = stripe ? c.b : static_cast<uint8_t>(255 - c.b);
            p[3] = stripe || !transparent ? 255 : 0;
        }
    }
    return out;
}

// The edit: every pixel the mask leaves transparent gets the prompt's colour, every other pixel
// is shifted a little, as a model redraws the whole frame. Without a mask a GPT model redraws
// the whole image; dall-e-2 takes the image's own transparent pixels as the mask.
RgbaImage drawEdit(const std::string& prompt, const RgbaImage& source, const RgbaImage* mask,
                   bool gpt, int w, int h) {
    const Rgb c = promptColour(prompt);
    RgbaImage image = nearestResize(source, w, h);
    std::optional<RgbaImage> m;
    if (mask != nullptr) {
        m = nearestResize(*mask, w, h);
    }
    bool anyTransparent = false;
    for (size_t i = 3; i < image.pixels.size(); i += 4) {
        anyTransparent = anyTransparent || image.pixels[i] == 0;
    }
    RgbaImage out(w, h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const uint8_t* s = image.at(x, y);
            const bool edit = m ? m->at(x, y)[3] == 0 : (gpt || !anyTransparent || s[3] == 0);
            uint8_t* p = out.at(x, y);
            if (edit) {
                p[0] = c.r;
                p[1] = c.g;
                p[2] = c.b;
            } else {
                p[0] = shifted(s[0]);
                p[1] = shifted(s[1]);
                p[2] = shifted(s[2]);
            }
            p[3] = 255;
        }
    }
    return out;
}

// A partial image, further from the final one the earlier it comes.
RgbaImage partialOf(const RgbaImage& final, int index, int count) {
    RgbaImage out = final;
    const double t = static_cast<double>(index + 1) / (count + 1);
    for (size_t i = 0; i < out.pixels.size(); ++i) {
        if (i % 4 != 3) {
            out.pixels[i] = static_cast<uint8_t>(std::lround(128 + (final.pixels[i] - 128) * t));
        }
    }
    return out;
}

std::string encodeAs(const RgbaImage& image, const std::string& format, int compression) {
    if (format == "jpeg") {
        return imagegen::test::encodeJpeg(image, compression < 0 ? 90 : std::max(1, compression));
    }
    if (format == "webp") {
        uint8_t* out = nullptr;
        const size_t size =
            WebPEncodeRGBA(image.pixels.data(), image.width, image.height, image.width * 4,
                           static_cast<float>(compression < 0 ? 90 : compression), &out);
        std::string bytes(reinterpret_cast<char*>(out), size);
        WebPFree(out);
        return bytes;
    }
    auto png = imagegen::encodePng(image, 1);
    return png ? *png : std::string();
}

std::string base64(const std::string& bytes) {
    GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size()));
    return b64.get();
}

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

std::string oneOf(const std::vector<std::string>& values) {
    std::string out;
    for (size_t i = 0; i < values.size(); ++i) {
        out += (i == 0 ? "'" : ", '") + values[i] + "'";
    }
    return out;
}

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

bool freeSizeOk(int w, int h) {
    const double aspect = static_cast<double>(w) / h;
    return w % 16 == 0 && h % 16 == 0 && aspect >= 1.0 / 3.0 - 1e-9 && aspect <= 3.0 + 1e-9 &&
           std::max(w, h) <= 3840 && static_cast<int64_t>(w) * h <= 3840LL * 2160LL;
}

} // namespace

// ---- the server ----

struct Emulator::State {
    Config config;
    GRef<SoupServer> server;
    int port = 0;
    std::deque<Fault> faults;
    std::vector<LogEntry> log;
    std::map<std::string, StoredFile> files;
    int requestCounter = 0;
    int fileCounter = 0;

    std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port); }

    // -- plumbing --

    static void send(SoupServerMessage* msg, int status, const std::string& contentType,
                     const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        soup_server_message_set_status(msg, static_cast<guint>(status), nullptr);
        SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
        for (const auto& [k, v] : headers) {
            soup_message_headers_replace(h, k.c_str(), v.c_str());
        }
        soup_server_message_set_response(msg, contentType.c_str(), SOUP_MEMORY_COPY, body.data(),
                                         body.size());
    }

    // Answers after `ms` milliseconds (the settable latency), or at once.
    void sendLater(SoupServerMessage* msg, int ms, int status, const std::string& contentType,
                   const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers) {
        if (ms <= 0) {
            send(msg, status, contentType, body, headers);
            return;
        }
        struct Later {
            GRef<SoupServerMessage> msg;
            int status;
            std::string contentType, body;
            std::vector<std::pair<std::string, std::string>> headers;
        };
        soup_server_message_pause(msg);
        auto* later = new Later{imagegen::addRef(msg), status, contentType, body, headers};
        g_timeout_add(
            static_cast<guint>(ms),
            [](gpointer p) -> gboolean {
                auto* l = static_cast<Later*>(p);
                send(l->msg.get(), l->status, l->contentType, l->body, l->headers);
                soup_server_message_unpause(l->msg.get());
                delete l;
                return G_SOURCE_REMOVE;
            },
            later);
    }

    std::vector<std::pair<std::string, std::string>> idHeaders(Flavour f) {
        const std::string id = "emu-" + std::to_string(++requestCounter);
        return {{f == Flavour::OpenAI ? "x-request-id" : "apim-request-id", id}};
    }

    void sendError(SoupServerMessage* msg, const ApiError& e, Flavour f, LogEntry* entry,
                   std::vector<std::pair<std::string, std::string>> extra = {}) {
        auto headers = idHeaders(f);
        headers.insert(headers.end(), extra.begin(), extra.end());
        if (entry != nullptr) {
            entry->status = e.status;
            log.push_back(*entry);
        }
        sendLater(msg, config.latencyMs, e.status, "application/json", errorBody(e, f), headers);
    }

    // -- routing --

    static void onRequest(SoupServer* /*server*/, SoupServerMessage* msg, const char* path,
                          GHashTable* query, gpointer data) {
        auto* self = static_cast<State*>(data);
        try {
            self->route(msg, path, query);
        } catch (const std::exception& e) {
            send(msg, 500, "text/plain", std::string("emulator failure: ") + e.what());
        }
    }

    void route(SoupServerMessage* msg, const std::string& path, GHashTable* query) {
        const std::string method = soup_server_message_get_method(msg);
        if (path.rfind("/_emulator/", 0) == 0) {
            control(msg, method, path);
            return;
        }
        Flavour flavour = Flavour::OpenAI;
        std::string deployment;
        std::string operation;
        const char* apiVersion =
            query != nullptr ? static_cast<const char*>(g_hash_table_lookup(query, "api-version"))
                             : nullptr;
        static const std::string kAzureDeployments = "/openai/deployments/";
        if (path.rfind("/v1/images/", 0) == 0) {
            operation = path.substr(std::string("/v1/images/").size());
        } else if (path.rfind("/openai/v1/images/", 0) == 0) {
            flavour = Flavour::AzureV1;
            operation = path.substr(std::string("/openai/v1/images/").size());
        } else if (path.rfind(kAzureDeployments, 0) == 0) {
            flavour = Flavour::AzureDated;
            const std::string rest = path.substr(kAzureDeployments.size());
            const auto slash = rest.find('/');
            if (slash != std::string::npos && rest.compare(slash, 8, "/images/") == 0) {
                GCharPtr unescaped(g_uri_unescape_string(rest.substr(0, slash).c_str(), nullptr));
                deployment = unescaped ? unescaped.get() : "";
                operation = rest.substr(slash + 8);
            }
        }
        if (operation != "generations" && operation != "edits") {
            ApiError e{404, "Resource not found", "", "404", "invalid_request_error", ""};
            if (flavour == Flavour::OpenAI) {
                e.message = "Invalid URL (" + method + " " + path + ")";
                e.code.clear();
            }
            sendError(msg, e, flavour, nullptr);
            return;
        }
        LogEntry entry;
        entry.method = method;
        entry.path = path;
        GUri* uri = soup_server_message_get_uri(msg);
        entry.query = g_uri_get_query(uri) != nullptr ? g_uri_get_query(uri) : "";
        entry.flavour = flavour == Flavour::OpenAI       ? "openai"
                        : flavour == Flavour::AzureDated ? "azure"
                                                         : "azure-v1";
        entry.deployment = deployment;
        SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
        soup_message_headers_foreach(
            headers,
            [](const char* name, const char*, gpointer p) {
                GCharPtr lower(g_ascii_strdown(name, -1));
                static_cast<std::vector<std::string>*>(p)->emplace_back(lower.get());
            },
            &entry.headerNames);

        if (method != "POST") {
            sendError(msg,
                      {405, "Method not allowed: use POST", "", "method_not_allowed",
                       "invalid_request_error", ""},
                      flavour, &entry);
            return;
        }
        // Auth
        const char* authorization = soup_message_headers_get_one(headers, "Authorization");
        const char* apiKey = soup_message_headers_get_one(headers, "api-key");
        entry.authPresent =
            authorization != nullptr || (flavour != Flavour::OpenAI && apiKey != nullptr);
        const std::string bearer =
            authorization != nullptr && g_str_has_prefix(authorization, "Bearer ")
                ? std::string(authorization + 7)
                : std::string();
        const bool authorised =
            flavour == Flavour::OpenAI
                ? bearer == config.apiKey
                : (apiKey != nullptr && config.apiKey == apiKey) || bearer == config.apiKey;
        if (!authorised) {
            ApiError e;
            e.status = 401;
            if (flavour == Flavour::OpenAI) {
                e.message =
                    authorization == nullptr
                        ? "You didn't provide an API key. You need to provide your API key in an "
                          "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                          "YOUR_KEY)."
                        : "Incorrect API key provided. You can find your API key at "
                          "https://platform.openai.com/account/api-keys.";
                e.code = authorization == nullptr ? "" : "invalid_api_key";
            } else {
                e.code = "401";
                e.message =
                    "Access denied due to invalid subscription key or wrong API endpoint. Make "
                    "sure to "
                    "provide a valid key for an active subscription and use a correct regional API "
                    "endpoint for your resource.";
            }
            sendError(msg, e, flavour, &entry);
            return;
        }
        if (flavour == Flavour::AzureDated && (apiVersion == nullptr || *apiVersion == '\0')) {
            sendError(msg, {404, "Resource not found", "", "404", "invalid_request_error", ""},
                      flavour, &entry);
            return;
        }
        handleImages(msg, flavour, operation == "edits", deployment, entry);
    }

    // -- the Images API --

    struct Parsed {
        std::map<std::string, std::string> fields;
        std::vector<Upload> images;
        std::optional<Upload> mask;
    };

    std::optional<ApiError> parseJsonBody(const std::string& contentType, const std::string& body,
                                          Parsed& out) {
        if (contentType.find("application/json") == std::string::npos) {
            return invalid(
                "",
                "Unsupported content type: '" + contentType +
                    "'. This API method only accepts 'application/json' requests, but you "
                    "specified the header 'Content-Type: " +
                    contentType +
                    "'. Please try again with a "
                    "supported content type.",
                "unsupported_content_type");
        }
        auto document = imagegen::json::parseObject(body);
        JsonObject* root = document ? document->root() : nullptr;
        if (!document) {
            return invalid(
                "",
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly.)",
                "");
        }
        static const std::set<std::string> strings = {
            "prompt",     "model",         "size",       "quality",         "style",
            "background", "output_format", "moderation", "response_format", "user"};
        static const std::set<std::string> integers = {"n", "output_compression", "partial_images"};
        GList* members = json_object_get_members(root);
        std::optional<ApiError> problem;
        for (GList* m = members; m != nullptr && !problem; m = m->next) {
            const std::string name = static_cast<const char*>(m->data);
            JsonNode* node = json_object_get_member(root, name.c_str());
            if (JSON_NODE_HOLDS_NULL(node)) {
                continue; // null is "the default" in the schema (nullable)
            }
            const GType type =
                JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
            if (strings.count(name) != 0) {
                if (type != G_TYPE_STRING) {
                    problem = invalid(name,
                                      "Invalid type for '" + name +
                                          "': expected a string, but got another type instead.",
                                      "invalid_type");
                } else {
                    out.fields[name] = json_node_get_string(node);
                }
            } else if (integers.count(name) != 0) {
                if (type != G_TYPE_INT64) {
                    problem = invalid(name,
                                      "Invalid type for '" + name +
                                          "': expected an integer, but got another type instead.",
                                      "invalid_type");
                } else {
                    out.fields[name] = std::to_string(json_node_get_int(node));
                }
            } else if (name == "stream") {
                if (type != G_TYPE_BOOLEAN) {
                    problem = invalid(name,
                                      "Invalid type for 'stream': expected a boolean, but got "
                                      "another type instead.",
                                      "invalid_type");
                } else {
                    out.fields[name] = json_node_get_boolean(node) != FALSE ? "true" : "false";
                }
            } else {
                problem = invalid(name, "Unknown parameter: '" + name + "'.", "unknown_parameter");
            }
        }
        g_list_free(members);
        return problem;
    }

    std::optional<ApiError> parseMultipartBody(SoupServerMessage* msg,
                                               const std::string& contentType, GBytes* body,
                                               Flavour flavour, Parsed& out) {
        if (contentType.rfind("multipart/form-data", 0) != 0) {
            return invalid("",
                           "Unsupported content type: '" + contentType +
                               "'. This API method only accepts 'multipart/form-data' requests.",
                           "unsupported_content_type");
        }
        SoupMultipart* multipart =
            soup_multipart_new_from_message(soup_server_message_get_request_headers(msg), body);
        if (multipart == nullptr) {
            return invalid("", "The multipart body could not be parsed: check the boundary.",
                           "invalid_multipart");
        }
        std::optional<ApiError> problem;
        static const std::set<std::string> textFields = {"prompt",
                                                         "model",
                                                         "n",
                                                         "size",
                                                         "quality",
                                                         "background",
                                                         "input_fidelity",
                                                         "output_format",
                                                         "output_compression",
                                                         "response_format",
                                                         "user",
                                                         "stream",
                                                         "partial_images"};
        bool sawImage = false;
        bool sawImageArray = false;
        for (int i = 0; i < soup_multipart_get_length(multipart) && !problem; ++i) {
            SoupMessageHeaders* ph = nullptr;
            GBytes* pb = nullptr;
            soup_multipart_get_part(multipart, i, &ph, &pb);
            char* disposition = nullptr;
            GHashTable* params = nullptr;
            if (!soup_message_headers_get_content_disposition(ph, &disposition, &params)) {
                problem = invalid("", "A multipart part has no Content-Disposition.",
                                  "invalid_multipart");
                break;
            }
            const char* nameRaw = static_cast<const char*>(g_hash_table_lookup(params, "name"));
            const char* filename =
                static_cast<const char*>(g_hash_table_lookup(params, "filename"));
            const std::string name = nameRaw != nullptr ? nameRaw : "";
            gsize size = 0;
            const auto* data = static_cast<const char*>(g_bytes_get_data(pb, &size));
            std::string value(data != nullptr ? data : "", size);
            const char* partType = soup_message_headers_get_content_type(ph, nullptr);
            if (name == "image" || name == "image[]" || name == "mask") {
                Upload u;
                u.part = name;
                u.filename = filename != nullptr ? filename : "";
                u.contentType = partType != nullptr ? partType : "";
                u.bytes = std::move(value);
                problem = checkUpload(u, flavour, static_cast<int>(out.images.size()) + 1);
                if (!problem) {
                    if (name == "mask") {
                        if (out.mask) {
                            problem =
                                invalid("mask", "Only one mask may be given.", "invalid_value");
                        }
                        out.mask = std::move(u);
                    } else {
                        sawImage = sawImage || name == "image";
                        sawImageArray = sawImageArray || name == "image[]";
                        out.images.push_back(std::move(u));
                    }
                }
            } else if (textFields.count(name) != 0) {
                if (filename != nullptr) {
                    problem = invalid(name,
                                      "Invalid type for '" + name +
                                          "': expected a string, but got a file instead.",
                                      "invalid_type");
                } else {
                    out.fields[name] = std::move(value);
                }
            } else {
                problem = invalid(name, "Unknown parameter: '" + name + "'.", "unknown_parameter");
            }
            g_free(disposition);
            g_hash_table_destroy(params);
        }
        soup_multipart_free(multipart);
        if (!problem && sawImage && (sawImageArray || out.images.size() > 1)) {
            problem = invalid(
                "image", "Send one image as 'image', or several as repeated 'image[]', not both.",
                "invalid_value");
        }
        return problem;
    }

    static std::optional<ApiError> checkUpload(Upload& u, Flavour flavour, int index) {
        const std::string which = u.part == "mask" ? "mask" : "image";
        std::vector<std::string> accepted = {"image/jpeg", "image/png", "image/webp"};
        if (flavour != Flavour::OpenAI && which == "image") {
            accepted = {"image/jpeg", "image/png"}; // Azure: "must be a PNG or JPG file"
        }
        if (u.part == "mask") {
            accepted = {"image/png"};
        }
        if (!contains(accepted, u.contentType)) {
            return invalid(which,
                           "Invalid file '" + which + "': unsupported mimetype ('" + u.contentType +
                               "'). Supported file formats are " + oneOf(accepted) + ".",
                           "unsupported_file_mimetype");
        }
        auto info = imagegen::probeImage(u.bytes);
        const bool matches =
            info && std::string(imagegen::mimeTypeOf(info->format)) == u.contentType;
        if (!matches) {
            return invalid(which,
                           "Invalid image file or mode for " + which + " " + std::to_string(index) +
                               ", please check your image file.",
                           "invalid_image_format");
        }
        u.info = *info;
        return std::nullopt;
    }

    // Which model answers: Azure dated from the deployment; Azure v1 from `model` (a deployment);
    // OpenAI from `model`, with the API's defaults.
    std::optional<ApiError> resolveModel(Flavour flavour, bool edit,
                                         const std::string& deploymentInPath, Parsed& parsed,
                                         const ModelRules** rules, std::string* deploymentOut) {
        std::string name;
        if (flavour == Flavour::OpenAI) {
            name = parsed.fields.count("model") != 0 ? parsed.fields["model"]
                                                     : (edit ? "gpt-image-1.5" : "dall-e-2");
            *rules = findModel(name);
            if (*rules == nullptr) {
                return ApiError{400,
                                "Invalid value for 'model' = " + name + ".",
                                "model",
                                "invalid_value",
                                "invalid_request_error",
                                ""};
            }
            return std::nullopt;
        }
        std::string deployment = deploymentInPath;
        if (flavour == Flavour::AzureV1) {
            if (parsed.fields.count("model") == 0 || parsed.fields["model"].empty()) {
                return ApiError{400,
                                "Missing required parameter: 'model'.",
                                "model",
                                "missing_required_parameter",
                                "invalid_request_error",
                                ""};
            }
            deployment = parsed.fields["model"];
        }
        *deploymentOut = deployment;
        auto it = config.deployments.find(deployment);
        if (it == config.deployments.end()) {
            return ApiError{404,
                            "The API deployment for this resource does not exist. If you created "
                            "the deployment "
                            "within the last 5 minutes, please wait a moment and try again.",
                            "",
                            "DeploymentNotFound",
                            "invalid_request_error",
                            ""};
        }
        *rules = findModel(it->second);
        if (*rules == nullptr) {
            return ApiError{500,
                            "The emulator has no rules for model " + it->second,
                            "",
                            "InternalServerError",
                            "server_error",
                            ""};
        }
        return std::nullopt;
    }

    static std::optional<ApiError> validate(const ModelRules& m, Flavour flavour, bool edit,
                                            Parsed& p) {
        auto& f = p.fields;
        auto has = [&f](const char* k) {
            return f.count(k) != 0;
        };
        const std::string model = m.name;
        if (edit && m.editSizes.empty()) {
            if (flavour == Flavour::OpenAI) {
                return invalid(
                    "model",
                    "Invalid value: '" + model +
                        "'. Value must be one of 'dall-e-2', "
                        "'gpt-image-1', 'gpt-image-1-mini', 'gpt-image-1.5', 'gpt-image-2'.");
            }
            return ApiError{400,
                            "DALL-E models don't support the Image Edit API.",
                            "",
                            "OperationNotSupported",
                            "invalid_request_error",
                            ""};
        }
        if (!has("prompt")) {
            return invalid("prompt", "Missing required parameter: 'prompt'.",
                           "missing_required_parameter");
        }
        const glong length = g_utf8_strlen(f["prompt"].c_str(), -1);
        if (length == 0) {
            return invalid(
                "prompt",
                "Invalid 'prompt': empty string. Expected a string with minimum length 1, "
                "but got an empty string instead.",
                "empty_string");
        }
        if (length > m.promptMax) {
            return invalid(
                "prompt",
                "Invalid 'prompt': string too long. Expected a string with maximum length " +
                    std::to_string(m.promptMax) + ", but got a string with length " +
                    std::to_string(length) + " instead.",
                "string_above_max_length");
        }
        for (const char* k : {"n", "output_compression", "partial_images"}) {
            if (has(k) && !isInteger(f[k])) {
                return invalid(k, std::string("Invalid type for '") + k + "': expected an integer.",
                               "invalid_type");
            }
        }
        if (has("stream") && f["stream"] != "true" && f["stream"] != "false") {
            return invalid("stream", "Invalid value for 'stream': expected true or false.",
                           "invalid_type");
        }
        if (has("n")) {
            const int n = std::stoi(f["n"]);
            if (n < 1 || n > 10) {
                return invalid("n",
                               "Invalid 'n': integer out of range. Expected a value between 1 and "
                               "10, but got " +
                                   f["n"] + " instead.",
                               "integer_out_of_range");
            }
            if (n > m.maxNPerRequest) {
                return invalid("n",
                               "You requested " + f["n"] + " images, but " + model +
                                   " only supports n=1. Please request n=1.",
                               "invalid_value");
            }
        }
        if (has("size")) {
            const auto& allowed = edit ? m.editSizes : m.sizes;
            auto parsed = parseSize(f["size"]);
            const bool ok = contains(allowed, f["size"]) ||
                            (m.freeSizes && parsed && freeSizeOk(parsed->width, parsed->height));
            if (!ok) {
                return invalid(
                    "size",
                    "Invalid value: '" + f["size"] + "'. Supported values are: " + oneOf(allowed) +
                        (m.freeSizes ? ", or WIDTHxHEIGHT in multiples of 16 with an aspect "
                                       "ratio between 1:3 and 3:1, up to 3840x2160"
                                     : "") +
                        ".");
            }
        }
        if (has("quality") && !contains(m.qualities, f["quality"])) {
            return invalid("quality", "Invalid value: '" + f["quality"] +
                                          "'. Supported values are: " + oneOf(m.qualities) + ".");
        }
        if (has("style")) {
            if (!m.style) {
                return invalid("style", "Unknown parameter: 'style'.", "unknown_parameter");
            }
            if (!contains({"vivid", "natural"}, f["style"])) {
                return invalid("style", "Invalid value: '" + f["style"] +
                                            "'. Supported values are: 'vivid' and 'natural'.");
            }
        }
        if (has("response_format")) {
            if (m.gpt) {
                return invalid("response_format", "Unknown parameter: 'response_format'.",
                               "unknown_parameter");
            }
            if (!contains({"url", "b64_json"}, f["response_format"])) {
                return invalid("response_format",
                               "Invalid value: '" + f["response_format"] +
                                   "'. Supported values are: 'url' and 'b64_json'.");
            }
        }
        for (const char* gptOnly : {"output_format", "output_compression", "background",
                                    "moderation", "stream", "partial_images"}) {
            if (has(gptOnly) && !m.gpt) {
                return invalid(gptOnly, std::string("Unknown parameter: '") + gptOnly + "'.",
                               "unknown_parameter");
            }
        }
        std::vector<std::string> formats = {"png", "jpeg", "webp"};
        if (flavour == Flavour::AzureDated) {
            formats = {"png", "jpeg"}; // "WEBP images aren't supported in the Azure OpenAI"
        }
        if (has("output_format") && !contains(formats, f["output_format"])) {
            return invalid("output_format", "Invalid value: '" + f["output_format"] +
                                                "'. Supported values are: " + oneOf(formats) + ".");
        }
        const std::string format = has("output_format") ? f["output_format"] : "png";
        if (has("output_compression")) {
            const int c = std::stoi(f["output_compression"]);
            if (c < 0 || c > 100) {
                return invalid("output_compression",
                               "Invalid 'output_compression': integer out of range. Expected a "
                               "value between 0 and 100, but got " +
                                   f["output_compression"] + " instead.",
                               "integer_out_of_range");
            }
            if (format == "png") {
                return invalid("output_compression", "Compression less than 100 is only supported "
                                                     "for JPEG and WEBP output formats.");
            }
        }
        if (has("background")) {
            if (!contains({"transparent", "opaque", "auto"}, f["background"])) {
                return invalid("background",
                               "Invalid value: '" + f["background"] +
                                   "'. Supported values are: 'transparent', 'opaque' and 'auto'.");
            }
            if (f["background"] == "transparent" && format == "jpeg") {
                return invalid(
                    "background",
                    "Transparent background is not supported for the JPEG output format. "
                    "Use png or webp.");
            }
        }
        if (has("moderation")) {
            if (edit) {
                return invalid("moderation", "Unknown parameter: 'moderation'.",
                               "unknown_parameter");
            }
            if (!contains({"low", "auto"}, f["moderation"])) {
                return invalid("moderation", "Invalid value: '" + f["moderation"] +
                                                 "'. Supported values are: 'low' and 'auto'.");
            }
        }
        if (has("partial_images")) {
            const int k = std::stoi(f["partial_images"]);
            if (k < 0 || k > 3) {
                return invalid("partial_images",
                               "Invalid 'partial_images': integer out of range. Expected a value "
                               "between 0 and 3, but got " +
                                   f["partial_images"] + " instead.",
                               "integer_out_of_range");
            }
        }
        if (has("input_fidelity")) {
            if (!edit) {
                return invalid("input_fidelity", "Unknown parameter: 'input_fidelity'.",
                               "unknown_parameter");
            }
            if (!m.inputFidelity) {
                return invalid("input_fidelity",
                               "input_fidelity is not supported for " + model + ".");
            }
            if (!contains({"high", "low"}, f["input_fidelity"])) {
                return invalid("input_fidelity", "Invalid value: '" + f["input_fidelity"] +
                                                     "'. Supported values are: 'high' and 'low'.");
            }
        }
        if (!edit) {
            return std::nullopt;
        }
        if (p.images.empty()) {
            return invalid("image", "Missing required parameter: 'image'.",
                           "missing_required_parameter");
        }
        if (static_cast<int>(p.images.size()) > m.maxImages) {
            return invalid("image",
                           "Too many images: " + model + " accepts at most " +
                               std::to_string(m.maxImages) + " input image" +
                               (m.maxImages == 1 ? "" : "s") + ", got " +
                               std::to_string(p.images.size()) + ".",
                           "too_many_images");
        }
        for (size_t i = 0; i < p.images.size(); ++i) {
            const Upload& u = p.images[i];
            if (static_cast<int64_t>(u.bytes.size()) >= m.maxImageBytes) {
                return invalid("image",
                               "Invalid image " + std::to_string(i + 1) + ": the file is " +
                                   std::to_string(u.bytes.size()) +
                                   " bytes, but it must be less than " +
                                   std::to_string(m.maxImageBytes / (1024 * 1024)) + " MB.",
                               "image_file_too_large");
            }
            if (!m.gpt &&
                (u.info.format != imagegen::ImageFormat::Png || u.info.width != u.info.height)) {
                return invalid(
                    "image",
                    "Invalid input image - format must be in ['RGBA', 'LA', 'L'], got RGB, "
                    "and the image must be a square PNG.",
                    "invalid_image_format");
            }
        }
        if (p.mask) {
            const Upload& mask = *p.mask;
            if (static_cast<int64_t>(mask.bytes.size()) >= k4MB) {
                return invalid("mask", "Invalid mask: the file must be less than 4 MB.",
                               "image_file_too_large");
            }
            if (!mask.info.hasAlpha) {
                return invalid(
                    "mask",
                    "Invalid mask image format - the mask must be a PNG with an alpha channel.",
                    "invalid_image_format");
            }
            const Upload& first = p.images.front();
            if (mask.info.width != first.info.width || mask.info.height != first.info.height) {
                return invalid(
                    "mask",
                    "Invalid mask image format - mask size (" + std::to_string(mask.info.width) +
                        "x" + std::to_string(mask.info.height) + ") does not match image size (" +
                        std::to_string(first.info.width) + "x" + std::to_string(first.info.height) +
                        ").",
                    "invalid_image_format");
            }
        }
        return std::nullopt;
    }

    static std::pair<int, int> outputSize(const ModelRules& m, bool edit, const Parsed& p) {
        auto it = p.fields.find("size");
        const std::string size = it != p.fields.end() ? it->second : "auto";
        if (auto s = parseSize(size)) {
            return {s->width, s->height};
        }
        if (!m.gpt) {
            return {1024, 1024};
        }
        // auto: the standard size nearest the input's aspect (edits), else square
        if (edit && !p.images.empty()) {
            const double aspect =
                static_cast<double>(p.images[0].info.width) / p.images[0].info.height;
            if (aspect > 1.25) {
                return {1536, 1024};
            }
            if (aspect < 0.8) {
                return {1024, 1536};
            }
        }
        return {1024, 1024};
    }

    void handleImages(SoupServerMessage* msg, Flavour flavour, bool edit,
                      const std::string& deployment, LogEntry& entry) {
        SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
        const char* ct = soup_message_headers_get_one(headers, "Content-Type");
        const std::string contentType = ct != nullptr ? ct : "";
        GBytesPtr body(soup_message_body_flatten(soup_server_message_get_request_body(msg)));
        gsize size = 0;
        const auto* data = static_cast<const char*>(g_bytes_get_data(body.get(), &size));
        Parsed parsed;
        auto problem = edit ? parseMultipartBody(msg, contentType, body.get(), flavour, parsed)
                            : parseJsonBody(contentType,
                                            std::string(data != nullptr ? data : "", size), parsed);
        entry.fields = parsed.fields;
        entry.images = parsed.images;
        entry.mask = parsed.mask;
        if (problem) {
            sendError(msg, *problem, flavour, &entry);
            return;
        }
        const ModelRules* rules = nullptr;
        std::string resolvedDeployment;
        if (auto e = resolveModel(flavour, edit, deployment, parsed, &rules, &resolvedDeployment)) {
            sendError(msg, *e, flavour, &entry);
            return;
        }
        if (!resolvedDeployment.empty()) {
            entry.deployment = resolvedDeployment;
        }
        if (auto e = validate(*rules, flavour, edit, parsed)) {
            sendError(msg, *e, flavour, &entry);
            return;
        }

        std::optional<Fault> fault;
        if (!faults.empty()) {
            fault = faults.front();
            faults.pop_front();
            entry.fault = fault->kind;
        }
        if (fault && applyStatusFault(msg, *fault, flavour, entry)) {
            return;
        }
        answerImages(msg, *rules, flavour, edit, parsed, fault, entry);
    }

    // Faults that replace the answer with an error. True when one was sent.
    bool applyStatusFault(SoupServerMessage* msg, const Fault& f, Flavour flavour,
                          LogEntry& entry) {
        if (f.kind == "rate_limit") {
            ApiError e{429, "", "", "", "requests", ""};
            if (flavour == Flavour::OpenAI) {
                e.message = "Rate limit reached for images per minute. Please try again later.";
                e.code = "rate_limit_exceeded";
            } else {
                e.code = "429";
                e.message = "Requests to the Images API have exceeded the call rate limit of your "
                            "current pricing "
                            "tier. Please retry after the time the response header says.";
            }
            std::vector<std::pair<std::string, std::string>> extra;
            if (f.header == "retry-after-date") {
                GDateTime* when = g_date_time_new_from_unix_utc(
                    g_get_real_time() / 1000000 + std::stoi(f.value.empty() ? "1" : f.value));
                GCharPtr text(soup_date_time_to_string(when, SOUP_DATE_HTTP));
                g_date_time_unref(when);
                extra.emplace_back("Retry-After", text.get());
            } else if (!f.header.empty()) {
                extra.emplace_back(f.header, f.value);
            }
            sendError(msg, e, flavour, &entry, extra);
            return true;
        }
        if (f.kind == "server_error") {
            const int status = f.status != 0 ? f.status : 500;
            ApiError e{
                status,
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
            sendError(msg, e, flavour, &entry);
            return true;
        }
        if (f.kind == "content_filter") {
            sendError(msg,
                      contentFilterError(flavour, f.stage.empty() ? "input" : f.stage, f.shape),
                      flavour, &entry);
            return true;
        }
        if (f.kind == "truncated") {
            entry.status = 200;
            log.push_back(entry);
            const std::string full =
                R"({"created":1,"data":[{"b64_json":")" + std::string(4000, 'A') + "\"}]}";
            const std::string head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(full.size()) + "\r\nConnection: close\r\n\r\n";
            GIOStream* stream = soup_server_message_steal_connection(msg);
            GOutputStream* out = g_io_stream_get_output_stream(stream);
            const std::string cut = head + full.substr(0, full.size() / 2);
            g_output_stream_write_all(out, cut.data(), cut.size(), nullptr, nullptr, nullptr);
            g_io_stream_close(stream, nullptr, nullptr);
            g_object_unref(stream);
            return true;
        }
        return false;
    }

    void answerImages(SoupServerMessage* msg, const ModelRules& m, Flavour flavour, bool edit,
                      Parsed& p, const std::optional<Fault>& fault, LogEntry& entry) {
        auto& f = p.fields;
        const int n = f.count("n") != 0 ? std::stoi(f["n"]) : 1;
        const auto [w, h] = outputSize(m, edit, p);
        const std::string format = f.count("output_format") != 0 ? f["output_format"] : "png";
        const int compression =
            f.count("output_compression") != 0 ? std::stoi(f["output_compression"]) : -1;
        const bool transparent = f.count("background") != 0 && f["background"] == "transparent";
        const std::string prompt = f["prompt"];

        RgbaImage final;
        if (edit) {
            auto source = imagegen::decodeImage(p.images[0].bytes);
            std::optional<RgbaImage> mask;
            if (p.mask) {
                auto decoded = imagegen::decodeImage(p.mask->bytes);
                if (decoded) {
                    mask = std::move(*decoded);
                }
            }
            if (!source) {
                sendError(
                    msg,
                    invalid("image",
                            "Invalid image file or mode for image 1, please check your image file.",
                            "invalid_image_format"),
                    flavour, &entry);
                return;
            }
            final = drawEdit(prompt, *source, mask ? &*mask : nullptr, m.gpt, w, h);
        } else {
            final = drawGeneration(prompt, w, h, transparent);
        }

        int count = n;
        if (fault && fault->kind == "too_few_images") {
            count = n - 1;
        } else if (fault && fault->kind == "too_many_images") {
            count = n + 1;
        }
        const bool stream = f.count("stream") != 0 && f["stream"] == "true";
        const int partials = f.count("partial_images") != 0 ? std::stoi(f["partial_images"]) : 0;
        // The answer's `size` is an enum in the API's schema (the three standard sizes); a free
        // size of gpt-image-2 is reported as "auto", which the schema of the stream events allows.
        const std::string exactSize = std::to_string(w) + "x" + std::to_string(h);
        const std::string sizeText = contains({"1024x1024", "1024x1536", "1536x1024"}, exactSize)
                                         ? exactSize
                                         : std::string("auto");
        const std::string quality =
            f.count("quality") != 0 ? f["quality"] : (m.gpt ? "auto" : "standard");

        auto imageBytes = [&](const RgbaImage& image) -> std::string {
            if (fault && fault->kind == "broken_png") {
                return std::string("\x89PNG\r\n\x1a\n", 8) + "this is not the rest of a PNG";
            }
            if (fault && fault->kind == "huge_png") {
                return imagegen::test::pngHeaderClaiming(100000, 100000) + std::string(64, '\0');
            }
            return encodeAs(image, format, compression);
        };
        auto b64Of = [&](const RgbaImage& image) {
            return fault && fault->kind == "broken_base64" ? std::string("!!not*base64!!")
                                                           : base64(imageBytes(image));
        };

        entry.status = 200;
        log.push_back(entry);
        if (stream) {
            streamImages(msg, edit, final, count, partials, sizeText, quality,
                         transparent ? "transparent" : "opaque", format, b64Of, flavour);
            return;
        }

        auto b = adoptRef(json_builder_new());
        json_builder_begin_object(b.get());
        json_builder_set_member_name(b.get(), "created");
        json_builder_add_int_value(b.get(), g_get_real_time() / 1000000);
        json_builder_set_member_name(b.get(), "data");
        json_builder_begin_array(b.get());
        const bool url = f.count("response_format") != 0 ? f["response_format"] == "url" : !m.gpt;
        for (int i = 0; i < count; ++i) {
            json_builder_begin_object(b.get());
            if (url) {
                const std::string id = std::to_string(++fileCounter);
                files[id] = {imageBytes(final), "image/png"};
                json_builder_set_member_name(b.get(), "url");
                json_builder_add_string_value(
                    b.get(), (baseUrl() + "/_emulator/files/" + id + ".png").c_str());
            } else {
                json_builder_set_member_name(b.get(), "b64_json");
                json_builder_add_string_value(b.get(), b64Of(final).c_str());
            }
            if (std::string(m.name) == "dall-e-3") {
                json_builder_set_member_name(b.get(), "revised_prompt");
                json_builder_add_string_value(b.get(),
                                              ("A detailed rendering of: " + prompt).c_str());
            }
            if (flavour != Flavour::OpenAI) {
                json_builder_set_member_name(b.get(), "content_filter_results");
                json_builder_begin_object(b.get());
                addFilterCategories(b.get(), nullptr);
                json_builder_end_object(b.get());
                json_builder_set_member_name(b.get(), "prompt_filter_results");
                addPromptFilterResults(b.get(), nullptr);
            }
            json_builder_end_object(b.get());
        }
        json_builder_end_array(b.get());
        if (m.gpt) {
            for (const auto& [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
                     {"background", transparent ? "transparent" : "opaque"},
                     {"output_format", format},
                     {"size", sizeText},
                     {"quality", quality == "auto" ? "medium" : quality}}) {
                if (std::string(k) == "size" && v == "auto") {
                    continue; // the response's size enum has no "auto": a free size goes unsaid
                }
                json_builder_set_member_name(b.get(), k);
                json_builder_add_string_value(b.get(), v.c_str());
            }
            addUsage(b.get(), edit, static_cast<int>(p.images.size()), count);
        }
        json_builder_end_object(b.get());
        sendLater(msg, config.latencyMs + (fault && fault->kind == "delay" ? fault->ms : 0), 200,
                  "application/json", imagegen::json::builderText(b.get()), idHeaders(flavour));
    }

    static void addUsage(JsonBuilder* b, bool edit, int inputImages, int outputs) {
        const int text = 12;
        const int image = edit ? 323 * inputImages : 0;
        const int output = 1056 * outputs;
        json_builder_set_member_name(b, "usage");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "total_tokens");
        json_builder_add_int_value(b, text + image + output);
        json_builder_set_member_name(b, "input_tokens");
        json_builder_add_int_value(b, text + image);
        json_builder_set_member_name(b, "output_tokens");
        json_builder_add_int_value(b, output);
        json_builder_set_member_name(b, "input_tokens_details");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "text_tokens");
        json_builder_add_int_value(b, text);
        json_builder_set_member_name(b, "image_tokens");
        json_builder_add_int_value(b, image);
        json_builder_end_object(b);
        json_builder_end_object(b);
    }

    // Server-sent events: for each image, its partials then its completed event, one every
    // streamDelayMs.
    template <typename B64>
    void streamImages(SoupServerMessage* msg, bool edit, const RgbaImage& final, int count,
                      int partials, const std::string& size, const std::string& quality,
                      const std::string& background, const std::string& format, B64 b64Of,
                      Flavour flavour) {
        const std::string prefix = edit ? "image_edit." : "image_generation.";
        std::vector<std::string> events;
        const int64_t created = g_get_real_time() / 1000000;
        for (int i = 0; i < count; ++i) {
            for (int k = 0; k <= partials; ++k) {
                const bool completed = k == partials;
                auto b = adoptRef(json_builder_new());
                json_builder_begin_object(b.get());
                const std::string type = prefix + (completed ? "completed" : "partial_image");
                json_builder_set_member_name(b.get(), "type");
                json_builder_add_string_value(b.get(), type.c_str());
                json_builder_set_member_name(b.get(), "b64_json");
                json_builder_add_string_value(
                    b.get(),
                    (completed ? b64Of(final)
                               : base64(encodeAs(partialOf(final, k, partials), format, -1)))
                        .c_str());
                json_builder_set_member_name(b.get(), "created_at");
                json_builder_add_int_value(b.get(), created);
                for (const auto& [key, v] :
                     std::initializer_list<std::pair<const char*, std::string>>{
                         {"size", size},
                         {"quality", quality == "auto" ? "medium" : quality},
                         {"background", background},
                         {"output_format", format}}) {
                    json_builder_set_member_name(b.get(), key);
                    json_builder_add_string_value(b.get(), v.c_str());
                }
                if (completed) {
                    addUsage(b.get(), edit, 1, 1);
                } else {
                    json_builder_set_member_name(b.get(), "partial_image_index");
                    json_builder_add_int_value(b.get(), k);
                }
                json_builder_end_object(b.get());
                events.push_back("event: " + type +
                                 "\ndata: " + imagegen::json::builderText(b.get()) + "\n\n");
            }
        }
        soup_server_message_set_status(msg, 200, nullptr);
        SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
        soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
        soup_message_headers_replace(h, "Content-Type", "text/event-stream");
        for (const auto& [k, v] : idHeaders(flavour)) {
            soup_message_headers_replace(h, k.c_str(), v.c_str());
        }
        struct Streamer {
            GRef<SoupServerMessage> msg;
            std::vector<std::string> events;
            size_t next = 0;
            bool finished = false;
            gulong handler = 0;
        };
        auto* s = new Streamer{imagegen::addRef(msg), std::move(events)};
        s->handler =
            g_signal_connect(msg, "finished", G_CALLBACK(+[](SoupServerMessage*, gpointer p) {
                                 static_cast<Streamer*>(p)->finished = true;
                             }),
                             s);
        soup_server_message_pause(msg);
        auto step = [](gpointer p) -> gboolean {
            auto* st = static_cast<Streamer*>(p);
            if (st->finished) { // the client went away
                delete st;
                return G_SOURCE_REMOVE;
            }
            SoupMessageBody* body = soup_server_message_get_response_body(st->msg.get());
            const std::string& e = st->events[st->next++];
            soup_message_body_append(body, SOUP_MEMORY_COPY, e.data(), e.size());
            const bool last = st->next == st->events.size();
            if (last) {
                soup_message_body_complete(body);
            }
            soup_server_message_unpause(st->msg.get());
            if (last) {
                g_signal_handler_disconnect(st->msg.get(), st->handler);
                delete st;
                return G_SOURCE_REMOVE;
            }
            return G_SOURCE_CONTINUE;
        };
        g_timeout_add(static_cast<guint>(std::max(1, config.streamDelayMs)), step, s);
    }

    // -- control endpoints --

    void control(SoupServerMessage* msg, const std::string& method, const std::string& path) {
        GBytesPtr body(soup_message_body_flatten(soup_server_message_get_request_body(msg)));
        gsize size = 0;
        const auto* data = static_cast<const char*>(g_bytes_get_data(body.get(), &size));
        const std::string text(data != nullptr ? data : "", size);
        if (path.rfind("/_emulator/files/", 0) == 0 && method == "GET") {
            std::string id = path.substr(std::string("/_emulator/files/").size());
            id = id.substr(0, id.find('.'));
            auto it = files.find(id);
            if (it == files.end()) {
                send(msg, 404, "text/plain", "no such file");
            } else {
                send(msg, 200, it->second.contentType, it->second.bytes);
            }
            return;
        }
        if (path == "/_emulator/health") {
            send(msg, 200, "application/json", R"({"ok":true})");
            return;
        }
        if (path == "/_emulator/requests" && method == "GET") {
            send(msg, 200, "application/json", logJson());
            return;
        }
        if (path == "/_emulator/reset" && method == "POST") {
            faults.clear();
            log.clear();
            files.clear();
            config.latencyMs = 0;
            config.streamDelayMs = 0;
            send(msg, 200, "application/json", R"({"ok":true})");
            return;
        }
        auto document = imagegen::json::parseObject(text.empty() ? "{}" : text);
        JsonObject* root = document ? document->root() : nullptr;
        if (!document) {
            send(msg, 400, "application/json",
                 R"({"error":"the control body must be a JSON object"})");
            return;
        }
        if (path == "/_emulator/latency" && method == "POST") {
            config.latencyMs =
                static_cast<int>(imagegen::json::integer(root, "ms").value_or(config.latencyMs));
            config.streamDelayMs = static_cast<int>(
                imagegen::json::integer(root, "stream_delay_ms").value_or(config.streamDelayMs));
            send(msg, 200, "application/json", R"({"ok":true})");
            return;
        }
        if (path == "/_emulator/faults" && method == "POST") {
            JsonArray* list = imagegen::json::array(root, "faults");
            static const std::set<std::string> kinds = {
                "rate_limit",     "server_error",   "content_filter", "delay",
                "truncated",      "broken_base64",  "broken_png",     "huge_png",
                "too_few_images", "too_many_images"};
            for (guint i = 0; list != nullptr && i < json_array_get_length(list); ++i) {
                JsonObject* o = json_array_get_object_element(list, i);
                Fault fault;
                fault.kind = imagegen::json::string(o, "kind").value_or("");
                if (kinds.count(fault.kind) == 0) {
                    send(msg, 400, "application/json", R"({"error":"unknown fault kind"})");
                    return;
                }
                fault.header = imagegen::json::string(o, "header").value_or("");
                fault.value = imagegen::json::string(o, "value").value_or("");
                fault.status = static_cast<int>(imagegen::json::integer(o, "status").value_or(0));
                fault.stage = imagegen::json::string(o, "stage").value_or("");
                fault.shape = imagegen::json::string(o, "shape").value_or("");
                fault.ms = static_cast<int>(imagegen::json::integer(o, "ms").value_or(0));
                faults.push_back(fault);
            }
            send(msg, 200, "application/json",
                 "{\"queued\":" + std::to_string(faults.size()) + "}");
            return;
        }
        send(msg, 404, "application/json", R"({"error":"unknown control endpoint"})");
    }

    static void addUploadJson(JsonBuilder* b, const Upload& u) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "part");
        json_builder_add_string_value(b, u.part.c_str());
        json_builder_set_member_name(b, "filename");
        json_builder_add_string_value(b, u.filename.c_str());
        json_builder_set_member_name(b, "content_type");
        json_builder_add_string_value(b, u.contentType.c_str());
        json_builder_set_member_name(b, "bytes");
        json_builder_add_int_value(b, static_cast<gint64>(u.bytes.size()));
        json_builder_set_member_name(b, "width");
        json_builder_add_int_value(b, u.info.width);
        json_builder_set_member_name(b, "height");
        json_builder_add_int_value(b, u.info.height);
        json_builder_set_member_name(b, "has_alpha");
        json_builder_add_boolean_value(b, u.info.hasAlpha);
        json_builder_end_object(b);
    }

    std::string logJson() const {
        auto b = adoptRef(json_builder_new());
        json_builder_begin_object(b.get());
        json_builder_set_member_name(b.get(), "requests");
        json_builder_begin_array(b.get());
        for (const auto& e : log) {
            json_builder_begin_object(b.get());
            for (const auto& [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
                     {"method", e.method},
                     {"path", e.path},
                     {"query", e.query},
                     {"flavour", e.flavour},
                     {"deployment", e.deployment},
                     {"fault", e.fault}}) {
                json_builder_set_member_name(b.get(), k);
                json_builder_add_string_value(b.get(), v.c_str());
            }
            json_builder_set_member_name(b.get(), "status");
            json_builder_add_int_value(b.get(), e.status);
            json_builder_set_member_name(b.get(), "auth_present");
            json_builder_add_boolean_value(b.get(), e.authPresent);
            json_builder_set_member_name(b.get(), "header_names");
            json_builder_begin_array(b.get());
            for (const auto& name : e.headerNames) {
                json_builder_add_string_value(b.get(), name.c_str());
            }
            json_builder_end_array(b.get());
            json_builder_set_member_name(b.get(), "fields");
            json_builder_begin_object(b.get());
            for (const auto& [k, v] : e.fields) {
                json_builder_set_member_name(b.get(), k.c_str());
                json_builder_add_string_value(b.get(), v.c_str());
            }
            json_builder_end_object(b.get());
            json_builder_set_member_name(b.get(), "images");
            json_builder_begin_array(b.get());
            for (const auto& u : e.images) {
                addUploadJson(b.get(), u);
            }
            json_builder_end_array(b.get());
            json_builder_set_member_name(b.get(), "mask");
            if (e.mask) {
                addUploadJson(b.get(), *e.mask);
            } else {
                json_builder_add_null_value(b.get());
            }
            json_builder_end_object(b.get());
        }
        json_builder_end_array(b.get());
        json_builder_end_object(b.get());
        return imagegen::json::builderText(b.get());
    }
};

Emulator::Emulator(Config config) : state_(std::make_unique<State>()) {
    state_->config = std::move(config);
    if (state_->config.deployments.empty()) {
        for (const auto& m : kModels) {
            state_->config.deployments[m.name] = m.name;
        }
    }
}

Emulator::~Emulator() {
    if (state_->server) {
        soup_server_disconnect(state_->server.get());
    }
}

int Emulator::listen(int port, std::string* error) {
    state_->server = adoptRef(soup_server_new("server-header", "imagegen-emulator", nullptr));
    soup_server_add_handler(state_->server.get(), nullptr, State::onRequest, state_.get(), nullptr);
    GErrorPtr e;
    if (!soup_server_listen_local(state_->server.get(), static_cast<guint>(port),
                                  SOUP_SERVER_LISTEN_IPV4_ONLY, outPtr(e))) {
        *error = e->message;
        return -1;
    }
    GSList* uris = soup_server_get_uris(state_->server.get());
    state_->port = g_uri_get_port(static_cast<GUri*>(uris->data));
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
    return state_->port;
}

} // namespace emulator
