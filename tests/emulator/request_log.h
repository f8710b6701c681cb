// The requests the emulator received, as GET /_emulator/requests lists them: tests assert on
// what the client sent (headers, fields, files) and on how the emulator answered.
#pragma once

#include "emulator/request.h"

#include <glib.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace emulator {

struct LogEntry {
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::string> headerNames; // lower case, as sent
    bool authPresent = false;
    std::string flavour;
    std::string deployment;
    std::map<std::string, std::string> fields;
    std::vector<Upload> images;
    std::optional<Upload> mask;
    int status = 0;
    std::string fault;
    // Set by the watch on the message (request_watch.cpp): how the exchange ended ("" while it is
    // in flight, "answered" once the whole answer was written, "client_closed" when the client
    // went away first), and when each chunk of the answer left (g_get_monotonic_time, µs: the
    // clock of Python's time.monotonic), so a test can time the events of a stream.
    int serial = 0;
    // When the request had arrived and when its whole answer was written (same clock; 0: not
    // yet), so a test can tell requests that were in flight together from ones in a row.
    gint64 receivedAtUs = 0;
    gint64 handledAtUs = 0; // its answer built (and held for the latency, if any)
    gint64 answeredAtUs = 0;
    std::string ended;
    std::vector<gint64> chunksWrittenAtUs;
};

std::string logJson(const std::vector<LogEntry>& log);

} // namespace emulator
