// What a caller asks of the Images API, independent of which service will answer it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace imagegen {

enum class Operation { Generate, Edit };

constexpr const char* operationPath(Operation op) {
    return op == Operation::Edit ? "images/edits" : "images/generations";
}

// An encoded image ready to upload (PNG, JPEG or WebP bytes).
struct InputImage {
    std::string bytes;
    std::string mimeType = "image/png";
    std::string filename = "image.png";
    int width = 0;
    int height = 0;
};

// Empty strings and -1 mean "leave it to the service": such fields are not sent.
struct ImageRequest {
    Operation operation = Operation::Generate;
    std::string model; // a model name, or an Azure deployment name
    std::string prompt;
    int n = -1;
    std::string size;
    std::string quality;
    std::string style;
    std::string background;
    std::string inputFidelity;
    std::string outputFormat;
    int outputCompression = -1;
    std::string moderation;
    std::string responseFormat;
    std::string user;
    bool stream = false;
    int partialImages = -1;
    std::vector<InputImage> images; // edits: the first is the one the mask applies to
    std::optional<InputImage> mask;
    // Not sent. With `size` left to the service, the largest size the model makes ("1536x1024",
    // planRequests sets it): what bounds the answer, instead of a guess of 4096x4096.
    std::string largestSize;
};

} // namespace imagegen
