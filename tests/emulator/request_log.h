// The requests the emulator received, as GET /_emulator/requests lists them: tests assert on
// what the client sent (headers, fields, files) and on how the emulator answered.
#pragma once

#include "emulator/request.h"

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
};

std::string logJson(const std::vector<LogEntry>& log);

} // namespace emulator
