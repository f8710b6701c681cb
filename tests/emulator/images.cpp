// The Images API: a request is parsed, its model resolved, checked against the model's rules,
// then answered with deterministic pictures, as JSON or as a stream of server-sent events,
// unless a queued fault spoils the answer.
#include "emulator/pictures.h"
#include "emulator/state.h"

#include "core/util/json_util.h"

#include <initializer_list>
#include <memory>
#include <tuple>
#include <utility>

namespace emulator {

namespace {

using imagegen::adoptRef;

// What the answer to a valid request holds.
struct Answer {
    bool edit = false;
    std::optional<Fault> fault;
    int inputImages = 0;
    int count = 0;
    int width = 0, height = 0;
    std::string format;
    int compression = -1; // the format's default
    bool transparent = false;
    std::string prompt;
    bool stream = false;
    int partials = 0;
    std::string sizeText;
    std::string quality;
    std::optional<std::string> echo; // the echo_key fault's text, planted in every text field

    [[nodiscard]] std::string imageBytes(const RgbaImage& image) const {
        if (auto corrupt = corruptImageBytes(fault)) {
            return *corrupt;
        }
        return encodeAs(image, format, compression);
    }
    [[nodiscard]] std::string b64Of(const RgbaImage& image) const {
        return breaksBase64(fault) ? std::string("!!not*base64!!") : base64(imageBytes(image));
    }
    [[nodiscard]] const char* background() const { return transparent ? "transparent" : "opaque"; }
    // The answer reports what "auto" became.
    [[nodiscard]] std::string reportedQuality() const {
        return quality == "auto" ? "medium" : quality;
    }
};

Answer planAnswer(const ModelRules& m, bool edit, const Parsed& p,
                  const std::optional<Fault>& fault) {
    Answer a;
    a.edit = edit;
    a.fault = fault;
    a.inputImages = static_cast<int>(p.images.size());
    const int n = p.has("n") ? std::stoi(p.field("n")) : 1;
    std::tie(a.width, a.height) = outputSize(m, edit, p);
    a.format = outputFormat(p);
    a.compression = p.has("output_compression") ? std::stoi(p.field("output_compression")) : -1;
    a.transparent = p.has("background") && p.field("background") == "transparent";
    a.prompt = p.field("prompt");
    a.count = imageCount(fault, n);
    a.stream = p.has("stream") && p.field("stream") == "true";
    a.partials = p.has("partial_images") ? std::stoi(p.field("partial_images")) : 0;
    // The answer's `size` is an enum in the API's schema (the three standard sizes); a free
    // size of gpt-image-2 is reported as "auto", which the schema of the stream events allows.
    const std::string exactSize = std::to_string(a.width) + "x" + std::to_string(a.height);
    a.sizeText = contains({"1024x1024", "1024x1536", "1536x1024"}, exactSize) ? exactSize
                                                                              : std::string("auto");
    a.quality = p.fieldOr("quality", m.gpt ? "auto" : "standard");
    return a;
}

// The final picture; nullopt when the edit's image cannot be decoded after all.
std::optional<RgbaImage> drawFinal(const ModelRules& m, const Parsed& p, const Answer& a) {
    if (!a.edit) {
        return drawGeneration(a.prompt, a.width, a.height, a.transparent);
    }
    auto source = imagegen::decodeImage(p.images[0].bytes);
    std::optional<RgbaImage> mask;
    if (p.mask) {
        auto decoded = imagegen::decodeImage(p.mask->bytes);
        if (decoded) {
            mask = std::move(*decoded);
        }
    }
    if (!source) {
        return std::nullopt;
    }
    return drawEdit(a.prompt, *source, mask ? &*mask : nullptr, m.gpt, a.width, a.height,
                    driftOf(a.fault));
}

void addUsage(JsonBuilder* b, bool edit, int inputImages, int outputs) {
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

void addStrings(JsonBuilder* b,
                std::initializer_list<std::pair<const char*, std::string>> members) {
    for (const auto& [k, v] : members) {
        json_builder_set_member_name(b, k);
        json_builder_add_string_value(b, v.c_str());
    }
}

// GPT models say how they drew; a free size goes unsaid, as the response's size enum has no
// "auto".
void addGptDetails(JsonBuilder* b, const Answer& a) {
    addStrings(b, {{"background", a.background()}, {"output_format", a.format}});
    if (a.sizeText != "auto") {
        addStrings(b, {{"size", a.sizeText}});
    }
    addStrings(b, {{"quality", a.reportedQuality()}});
    addUsage(b, a.edit, a.inputImages, a.count);
}

void addAzureFilterResults(JsonBuilder* b) {
    json_builder_set_member_name(b, "content_filter_results");
    json_builder_begin_object(b);
    addFilterCategories(b, nullptr);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "prompt_filter_results");
    addPromptFilterResults(b, nullptr);
}

// One server-sent event: partial `k` of `partials`, or the completed image when k == partials.
std::string streamEvent(const Answer& a, const RgbaImage& final, int k, int64_t created) {
    const bool completed = k == a.partials;
    const std::string type = std::string(a.edit ? "image_edit." : "image_generation.") +
                             (completed ? "completed" : "partial_image");
    auto b = adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    addStrings(b.get(), {{"type", type},
                         {"b64_json", completed ? a.b64Of(final)
                                                : base64(encodeAs(partialOf(final, k, a.partials),
                                                                  a.format, -1))}});
    json_builder_set_member_name(b.get(), "created_at");
    json_builder_add_int_value(b.get(), created);
    addStrings(b.get(), {{"size", a.sizeText},
                         {"quality", a.reportedQuality()},
                         {"background", a.background()},
                         {"output_format", a.format}});
    if (a.echo) {
        addStrings(b.get(), {{"revised_prompt", *a.echo}});
    }
    if (completed) {
        addUsage(b.get(), a.edit, 1, 1);
    } else {
        json_builder_set_member_name(b.get(), "partial_image_index");
        json_builder_add_int_value(b.get(), k);
    }
    json_builder_end_object(b.get());
    return "event: " + type + "\ndata: " + imagegen::json::builderText(b.get()) + "\n\n";
}

// The echo_key fault with shape "error_event": an error event in place of the completed image.
std::string echoingErrorEvent(const std::string& echo) {
    auto b = adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    addStrings(b.get(), {{"type", "error"}});
    json_builder_set_member_name(b.get(), "error");
    json_builder_begin_object(b.get());
    addStrings(b.get(), {{"type", "invalid_request_error"},
                         {"code", "invalid_api_key"},
                         {"message", "Incorrect API key provided. " + echo}});
    json_builder_end_object(b.get());
    json_builder_end_object(b.get());
    return "event: error\ndata: " + imagegen::json::builderText(b.get()) + "\n\n";
}

// For each image, its partials then its completed event.
std::vector<std::string> streamEvents(const Answer& a, const RgbaImage& final) {
    std::vector<std::string> events;
    const int64_t created = g_get_real_time() / 1000000;
    const bool errorEvent = a.echo && a.fault->shape == "error_event";
    for (int i = 0; i < a.count; ++i) {
        for (int k = 0; k <= a.partials; ++k) {
            events.push_back(errorEvent && k == a.partials ? echoingErrorEvent(*a.echo)
                                                           : streamEvent(a, final, k, created));
        }
    }
    return events;
}

// A stream in progress; the timeout source that writes it owns it.
struct Streamer {
    imagegen::GRef<SoupServerMessage> msg;
    std::vector<std::string> events;
    size_t next = 0;
    bool finished = false;
    gulong handler = 0;

    Streamer(SoupServerMessage* m, std::vector<std::string> e)
        : msg(imagegen::addRef(m)), events(std::move(e)) {
        handler = g_signal_connect(m, "finished", G_CALLBACK(+[](SoupServerMessage*, gpointer p) {
                                       static_cast<Streamer*>(p)->finished = true;
                                   }),
                                   this);
    }
    Streamer(const Streamer&) = delete;
    Streamer& operator=(const Streamer&) = delete;
    Streamer(Streamer&&) = delete;
    Streamer& operator=(Streamer&&) = delete;
    ~Streamer() { g_signal_handler_disconnect(msg.get(), handler); }

    // Writes the next event; false when there is nothing more to write.
    bool step() {
        if (finished) { // the client went away
            return false;
        }
        SoupMessageBody* body = soup_server_message_get_response_body(msg.get());
        // A stream with no events at all (the too_few_images fault with n=1) ends at once, empty.
        if (next < events.size()) {
            const std::string& e = events[next++];
            soup_message_body_append(body, SOUP_MEMORY_COPY, e.data(), e.size());
        }
        const bool last = next >= events.size();
        if (last) {
            soup_message_body_complete(body);
        }
        soup_server_message_unpause(msg.get());
        return !last;
    }
};

// Sends the events one every `delayMs`, with the message paused in between.
void startStream(SoupServerMessage* msg, std::vector<std::string> events, int delayMs,
                 const Headers& headers) {
    soup_server_message_set_status(msg, 200, nullptr);
    SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
    soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
    soup_message_headers_replace(h, "Content-Type", "text/event-stream");
    for (const auto& [k, v] : headers) {
        soup_message_headers_replace(h, k.c_str(), v.c_str());
    }
    auto streamer = std::make_unique<Streamer>(msg, std::move(events));
    soup_server_message_pause(msg);
    addOwnedTimeout(std::max(1, delayMs), std::move(streamer));
}

// Generations send JSON, edits a multipart form.
std::optional<ApiError> parseBody(SoupServerMessage* msg, Flavour flavour, bool edit,
                                  Parsed& parsed) {
    const char* ct =
        soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Content-Type");
    const std::string contentType = ct != nullptr ? ct : "";
    const imagegen::GBytesPtr body = requestBody(msg);
    return edit ? parseMultipartBody(msg, contentType, body.get(), flavour, parsed)
                : parseJsonBody(contentType, bytesText(body.get()), parsed);
}

ApiError undecodableImage() {
    return invalid("image", "Invalid image file or mode for image 1, please check your image file.",
                   "invalid_image_format");
}

} // namespace

void Emulator::State::handleImages(SoupServerMessage* msg, Flavour flavour, bool edit,
                                   const std::string& deployment, LogEntry& entry) {
    Parsed parsed;
    auto problem = parseBody(msg, flavour, edit, parsed);
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

// Which model answers: Azure dated from the deployment; Azure v1 from `model` (a deployment);
// OpenAI from `model`, with the API's defaults.
std::optional<ApiError> Emulator::State::resolveModel(Flavour flavour, bool edit,
                                                      const std::string& deploymentInPath,
                                                      const Parsed& parsed,
                                                      const ModelRules** rules,
                                                      std::string* deploymentOut) {
    if (flavour == Flavour::OpenAI) {
        const std::string name = parsed.fieldOr("model", edit ? "gpt-image-1.5" : "dall-e-2");
        *rules = findModel(name);
        if (*rules == nullptr) {
            return invalid("model", "Invalid value for 'model' = " + name + ".");
        }
        return std::nullopt;
    }
    std::string deployment = deploymentInPath;
    if (flavour == Flavour::AzureV1) {
        if (!parsed.has("model") || parsed.field("model").empty()) {
            return invalid("model", "Missing required parameter: 'model'.",
                           "missing_required_parameter");
        }
        deployment = parsed.field("model");
    }
    *deploymentOut = deployment;
    auto it = config.deployments.find(deployment);
    if (it == config.deployments.end()) {
        return ApiError{404,
                        "The API deployment for this resource does not exist. If you created the "
                        "deployment within the last 5 minutes, please wait a moment and try again.",
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

// Faults that replace the answer; true when one did.
bool Emulator::State::applyStatusFault(SoupServerMessage* msg, const Fault& f, Flavour flavour,
                                       LogEntry& entry) {
    if (f.kind == "truncated") {
        entry.status = 200;
        log.push_back(entry);
        sendTruncated(msg);
        return true;
    }
    if (auto e = faultError(f, flavour)) {
        sendError(msg, e->error, flavour, &entry, e->headers);
        return true;
    }
    if (f.kind == "echo_key" && f.status != 0) {
        // An error that quotes the key, in its message and in its request ID.
        const std::string echo = echoedKey(f, msg).value_or("");
        sendError(msg,
                  ApiError{f.status, "Incorrect API key provided. " + echo, "", "invalid_api_key",
                           "invalid_request_error", ""},
                  flavour, &entry,
                  {{flavour == Flavour::OpenAI ? "x-request-id" : "apim-request-id", echo}});
        return true;
    }
    return false;
}

void Emulator::State::answerImages(SoupServerMessage* msg, const ModelRules& m, Flavour flavour,
                                   bool edit, const Parsed& p, const std::optional<Fault>& fault,
                                   LogEntry& entry) {
    Answer a = planAnswer(m, edit, p, fault);
    a.echo = echoedKey(fault, msg);
    const auto final = drawFinal(m, p, a);
    if (!final) {
        sendError(msg, undecodableImage(), flavour, &entry);
        return;
    }
    entry.status = 200;
    log.push_back(entry);
    if (a.stream) {
        startStream(msg, streamEvents(a, *final), config.streamDelayMs, idHeaders(flavour));
        return;
    }
    auto b = adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "created");
    json_builder_add_int_value(b.get(), g_get_real_time() / 1000000);
    json_builder_set_member_name(b.get(), "data");
    json_builder_begin_array(b.get());
    const bool url = p.has("response_format") ? p.field("response_format") == "url" : !m.gpt;
    for (int i = 0; i < a.count; ++i) {
        json_builder_begin_object(b.get());
        if (url) {
            const std::string id = std::to_string(++fileCounter);
            files[id] = {a.imageBytes(*final), "image/png"};
            addStrings(b.get(), {{"url", baseUrl() + "/_emulator/files/" + id + ".png"}});
        } else {
            addStrings(b.get(), {{"b64_json", a.b64Of(*final)}});
        }
        if (a.echo) {
            addStrings(b.get(), {{"revised_prompt", *a.echo}});
        } else if (std::string(m.name) == "dall-e-3") {
            addStrings(b.get(), {{"revised_prompt", "A detailed rendering of: " + a.prompt}});
        }
        if (flavour != Flavour::OpenAI) {
            addAzureFilterResults(b.get());
        }
        json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
    if (m.gpt) {
        addGptDetails(b.get(), a);
    }
    json_builder_end_object(b.get());
    sendLater(msg, config.latencyMs + extraDelayMs(fault), 200, "application/json",
              imagegen::json::builderText(b.get()), idHeaders(flavour));
}

} // namespace emulator
