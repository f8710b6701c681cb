// What each model takes (PROTOCOL.md §3, §4, §6), kept apart from the client's own table so that
// a mistake in one is caught by the other, and the checks that refuse what the services refuse,
// first problem first, with their messages and codes.
#pragma once

#include "emulator/errors.h"
#include "emulator/request.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace emulator {

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

std::span<const ModelRules> allModels();

// The model's rules, a dated snapshot (gpt-image-2-2026-04-21) taking its family's; nullptr for
// a model the emulator does not know.
const ModelRules* findModel(const std::string& name);

// The first rule the request breaks, in the order the services check them.
std::optional<ApiError> validate(const ModelRules& m, Flavour flavour, bool edit, const Parsed& p);

// Width and height of the images a valid request gets.
std::pair<int, int> outputSize(const ModelRules& m, bool edit, const Parsed& p);

std::string outputFormat(const Parsed& p);

bool contains(const std::vector<std::string>& list, const std::string& v);

// "'a', 'b', 'c'", as the services list the values they take.
std::string oneOf(const std::vector<std::string>& values);

} // namespace emulator
