// A local imitation of the Images API of OpenAI and Azure OpenAI (both URL styles), as strict as
// the real services: it refuses what they refuse, with their status codes and error shapes, and
// draws deterministic images so tests can assert on pixels. Control endpoints under /_emulator/
// queue faults, set latency and list the requests received.
#pragma once

#include <map>
#include <memory>
#include <string>

namespace emulator {

struct Config {
    std::string apiKey = "emulator-key";            // OpenAI bearer key, Azure api-key or token
    std::map<std::string, std::string> deployments; // Azure deployment name -> model
    int latencyMs = 0;
    int streamDelayMs = 0;
};

class Emulator {
  public:
    explicit Emulator(Config config);
    ~Emulator();
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;
    Emulator(Emulator&&) = delete;
    Emulator& operator=(Emulator&&) = delete;

    // Listens on 127.0.0.1 (port 0: any free port); returns the port, or -1 with a message.
    int listen(int port, std::string* error);

    struct State;

  private:
    std::unique_ptr<State> state_;
};

} // namespace emulator
