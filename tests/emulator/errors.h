// Errors as each service shapes them: OpenAI's {error:{message,type,param,code}}, Azure's dated
// API with its own codes and content-filter results, and Azure's v1 API with type "error".
#pragma once

#include <json-glib/json-glib.h>

#include <string>

namespace emulator {

// Which service a request addressed, from its URL: the flavour decides the shape of every
// answer.
enum class Flavour { OpenAI, AzureDated, AzureV1 };

struct ApiError {
    int status = 400;
    std::string message;
    std::string param;
    std::string code;
    std::string type = "invalid_request_error";
    std::string filterStage; // "input"/"output" for content-filter refusals
};

// A 400 for a request that breaks a rule.
ApiError invalid(const std::string& param, const std::string& message,
                 const std::string& code = "invalid_value");

// The content-filter refusal; `shape` ("openai", "azure" or empty: the flavour's own) lets a
// test see Azure's shape on the OpenAI URL and back.
ApiError contentFilterError(Flavour flavour, const std::string& stage, const std::string& shape);

std::string errorBody(const ApiError& e, Flavour flavour);

// Azure's per-category results, in an object the caller has begun: all "safe" but the one
// filtered (nullptr: none).
void addFilterCategories(JsonBuilder* b, const char* filteredCategory);
// Azure's prompt_filter_results object: the categories plus the detectors that never fire here.
void addPromptFilterResults(JsonBuilder* b, const char* filteredCategory);

} // namespace emulator
