// The control endpoints under /_emulator/, through which tests steer the emulator: queue
// faults, set latency, list the requests received, fetch the images of url answers, reset.
#include "emulator/state.h"

#include "core/util/json_util.h"

namespace emulator {

namespace {

const char* const kOk = R"({"ok":true})";

void serveFile(SoupServerMessage* msg, const std::map<std::string, StoredFile>& files,
               const std::string& path) {
    std::string id = path.substr(std::string("/_emulator/files/").size());
    id = id.substr(0, id.find('.'));
    auto it = files.find(id);
    if (it == files.end()) {
        send(msg, 404, "text/plain", "no such file");
    } else {
        send(msg, 200, it->second.contentType, it->second.bytes);
    }
}

} // namespace

void Emulator::State::control(SoupServerMessage* msg, const std::string& method,
                              const std::string& path) {
    if (path.rfind("/_emulator/files/", 0) == 0 && method == "GET") {
        serveFile(msg, files, path);
        return;
    }
    if (path == "/_emulator/health") {
        send(msg, 200, "application/json", kOk);
        return;
    }
    if (path == "/_emulator/requests" && method == "GET") {
        send(msg, 200, "application/json", logJson(log));
        return;
    }
    if (path == "/_emulator/reset" && method == "POST") {
        reset();
        send(msg, 200, "application/json", kOk);
        return;
    }
    const imagegen::GBytesPtr body = requestBody(msg);
    const std::string text = bytesText(body.get());
    auto document = imagegen::json::parseObject(text.empty() ? "{}" : text);
    if (!document) {
        send(msg, 400, "application/json", R"({"error":"the control body must be a JSON object"})");
        return;
    }
    JsonObject* root = document->root();
    if (path == "/_emulator/latency" && method == "POST") {
        config.latencyMs =
            static_cast<int>(imagegen::json::integer(root, "ms").value_or(config.latencyMs));
        config.streamDelayMs = static_cast<int>(
            imagegen::json::integer(root, "stream_delay_ms").value_or(config.streamDelayMs));
        send(msg, 200, "application/json", kOk);
        return;
    }
    if (path == "/_emulator/faults" && method == "POST") {
        queueFaults(msg, root);
        return;
    }
    send(msg, 404, "application/json", R"({"error":"unknown control endpoint"})");
}

void Emulator::State::reset() {
    faults.clear();
    log.clear();
    files.clear();
    config.latencyMs = 0;
    config.streamDelayMs = 0;
}

// Faults before an unknown kind stay queued: the 400 tells the test its list was wrong.
void Emulator::State::queueFaults(SoupServerMessage* msg, JsonObject* root) {
    JsonArray* list = imagegen::json::array(root, "faults");
    for (guint i = 0; list != nullptr && i < json_array_get_length(list); ++i) {
        auto fault = faultFromJson(json_array_get_object_element(list, i));
        if (!fault) {
            send(msg, 400, "application/json", R"({"error":"unknown fault kind"})");
            return;
        }
        faults.push_back(*fault);
    }
    send(msg, 200, "application/json", "{\"queued\":" + std::to_string(faults.size()) + "}");
}

} // namespace emulator
