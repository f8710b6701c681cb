// What the server keeps between requests, and the handlers that share it: routing and auth
// (routes.cpp), the Images API (images.cpp), the control endpoints (control.cpp) and the
// server's life (emulator.cpp).
#pragma once

#include "core/util/glib_ptr.h"
#include "emulator/emulator.h"
#include "emulator/errors.h"
#include "emulator/faults.h"
#include "emulator/reply.h"
#include "emulator/request.h"
#include "emulator/request_log.h"
#include "emulator/rules.h"

#include <libsoup/soup.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace emulator {

// An image served at /_emulator/files/ID.png, for answers with response_format=url.
struct StoredFile {
    std::string bytes;
    std::string contentType;
};

struct Emulator::State {
    Config config;
    imagegen::GRef<SoupServer> server;
    int port = 0;
    std::deque<Fault> faults;
    std::vector<LogEntry> log;
    std::map<std::string, StoredFile> files;
    int requestCounter = 0;
    int fileCounter = 0;
    int serialCounter = 0;
    // Expires with the state: the watches on messages (request_watch.cpp) check it first.
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);

    [[nodiscard]] std::string baseUrl() const;
    // The request id header, in the flavour's name; each answer gets a new id.
    Headers idHeaders(Flavour f);
    // Logs the request (when there is an entry) with the error's status and answers with it.
    void sendError(SoupServerMessage* msg, const ApiError& e, Flavour f, LogEntry* entry,
                   const Headers& extra = {});

    // routes.cpp
    static void onRequest(SoupServer* server, SoupServerMessage* msg, const char* path,
                          GHashTable* query, gpointer data);
    void route(SoupServerMessage* msg, const std::string& path, GHashTable* query);

    // images.cpp
    void handleImages(SoupServerMessage* msg, Flavour flavour, bool edit,
                      const std::string& deployment, LogEntry& entry);
    std::optional<ApiError> resolveModel(Flavour flavour, bool edit,
                                         const std::string& deploymentInPath, const Parsed& parsed,
                                         const ModelRules** rules, std::string* deploymentOut);
    bool applyStatusFault(SoupServerMessage* msg, const Fault& f, Flavour flavour, LogEntry& entry);
    void answerImages(SoupServerMessage* msg, const ModelRules& m, Flavour flavour, bool edit,
                      const Parsed& p, const std::optional<Fault>& fault, LogEntry& entry);

    // request_watch.cpp: gives the entry a serial and follows its message to the end, filling
    // in the entry's `ended` and `chunksWrittenAtUs` once it is in the log.
    void watch(SoupServerMessage* msg, LogEntry& entry);
    LogEntry* entryBySerial(int serial);

    // control.cpp
    void control(SoupServerMessage* msg, const std::string& method, const std::string& path);
    void reset();
    void queueFaults(SoupServerMessage* msg, JsonObject* root);
};

} // namespace emulator
