// The parameters of the four procedures, with the `options` JSON that Script-Fu passes parsed
// into a typed value.
#pragma once

#include "core/service/image_request.h"
#include "core/util/error.h"

#include <string>
#include <vector>

namespace imagegen {

enum class Procedure { Edit, Generate, NewImage, Expand };

// The `options` parameter: further API fields, and `references` (layer IDs sent as extra input
// images).
struct Options {
    std::string background;
    std::string outputFormat;
    int outputCompression = -1;
    std::string moderation;
    std::string user;
    std::string inputFidelity;
    bool stream = false;
    int partialImages = -1;
    std::vector<int> references;
    // Edit: bring the result back to the source's tone, fitted on the pixels the model was told
    // to keep (core/color_match.h). On unless `"match_colors": false`.
    bool matchColors = true;
    // Edit: how the image to edit goes up. "" or "auto": JPEG when nothing of it is transparent
    // and the model takes JPEG (GPT image models), else PNG; "png" forces PNG. The mask is PNG.
    std::string uploadFormat;
    // Edit and Expand: the pixels sent. "visible": the picture as the user sees it, every visible
    // layer merged (GIMP's "Sample merged"), which the dialog sends unless told otherwise; "layer"
    // or "": the active layer alone, as scripts always had it.
    std::string source;

    [[nodiscard]] bool sendsVisible() const { return source == kSourceVisible; }

    static constexpr const char* kSourceVisible = "visible";
    static constexpr const char* kSourceLayer = "layer";

    bool operator==(const Options&) const = default;
};

// Empty strings and -1 mean "the default" (the connection's or the model's).
struct RunParameters {
    std::string prompt;
    std::string model;
    int n = -1;
    std::string size;
    std::string quality;
    double context = -1; // edit: padding around the selection, a fraction of its larger side
    double feather = -1; // edit: soft inner edge of the result's mask, in pixels
    std::string style;   // generate, new image
    int left = 0;        // expand: the margins added to the canvas, in pixels
    int top = 0;
    int right = 0;
    int bottom = 0;
    std::string connection;
    // The API fields without a parameter of their own, and background and input fidelity (a
    // parameter where the procedure has one): parsed once, where the parameters come in.
    Options options;
};

inline constexpr double kDefaultContext = 0.15;
inline constexpr double kDefaultFeather = 0.0;
// Expand: what an empty prompt asks for.
inline constexpr const char* kExpandPrompt =
    "Continue the picture naturally into the empty border, matching its content, perspective, "
    "lighting and style.";

// Unknown keys and wrong types are refused, naming the key.
Result<Options> parseOptions(const std::string& json);
// The options as parseOptions reads them, with only the keys that differ from unset; an empty
// string when none does.
std::string optionsToJson(const Options& options);

// Fills the API request's fields from the parameters and their options (not images, not the
// model).
ImageRequest requestFrom(Procedure procedure, const RunParameters& p);

} // namespace imagegen
