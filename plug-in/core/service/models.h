// Model capabilities, loaded from data/models.json, and the validation of a request against
// them before anything is sent.
#pragma once

#include "core/service/image_request.h"
#include "core/util/error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace imagegen {

struct Size {
    int width = 0;
    int height = 0;
    bool operator==(const Size&) const = default;
};

struct FreeSizeRule {
    int multiple = 16;
    double minAspect = 1.0 / 3.0;
    double maxAspect = 3.0;
    int maxEdge = 3840;
    int64_t maxPixels = 3840LL * 2160LL;
};

// A model's list price in US dollars, from models.json's "prices" and the model's "price" (see
// the file's note for where each figure comes from). Every figure is positive; a model whose
// price is missing or malformed has none at all, and the dialog then shows tokens only.
struct ModelPrice {
    std::string asOf;   // "YYYY-MM-DD": the day the prices were read
    std::string source; // the page they were read on
    // GPT Image models, per 1M tokens; 0 where the page gives none.
    double imageOutputPer1M = 0; // the images made, partial images included
    double textInputPer1M = 0;   // the prompt
    // dall-e: the price of one image, by quality and then size ("1024x1024").
    std::map<std::string, std::map<std::string, double>> perImage;
};

struct ModelCaps {
    std::string name;
    std::vector<std::string> sizes; // including "auto" where the model takes it
    std::optional<FreeSizeRule> freeSizes;
    std::vector<std::string> qualities;
    int maxN = 1;
    int nPerRequest = 1; // dall-e-3 takes one image per request: n becomes a plan of requests
    int promptMax = 0;
    bool edits = false;
    bool inputFidelity = false;
    bool streaming = false;
    std::vector<std::string> outputFormats; // empty: the model takes no output_format
    bool background = false;
    bool moderation = false;
    bool style = false;
    std::vector<std::string> responseFormats; // empty: always b64_json, the field is refused
    int maxInputImages = 0;
    int64_t maxImageBytes = 0;
    // Output tokens of one image, by quality and then size ("1024x1024"), as the provider's
    // documentation gives them (models.json "output_tokens"); empty when no source gives the
    // model's figures. Only what is listed is known: nothing is guessed for other sizes.
    std::map<std::string, std::map<std::string, int64_t>> outputTokens;
    std::optional<ModelPrice> price; // none when no OpenAI page gives one

    [[nodiscard]] bool isGptImage() const { return responseFormats.empty(); }
    [[nodiscard]] bool offersSize(const std::string& size) const;
};

// "1536x1024" -> {1536, 1024}; nullopt for anything else (including "auto").
std::optional<Size> parseSize(const std::string& text);
std::string formatSize(Size size);

// "a", "a or b", "a, b or c"
std::string joinAlternatives(const std::vector<std::string>& items);

class ModelCatalog {
  public:
    static Result<ModelCatalog> fromJson(const std::string& json);
    static Result<ModelCatalog> fromFile(const std::string& path);
    // data/models.json under IMAGEGEN_DATADIR (environment) or the installed data folder.
    static Result<ModelCatalog> loadDefault();

    [[nodiscard]] const ModelCaps* find(const std::string& name) const;
    // The model behind a name that may be an Azure deployment: an exact model name, else the
    // longest known model name the deployment's name contains (ignoring case and punctuation),
    // else gpt-image-1.
    [[nodiscard]] const ModelCaps& familyOf(const std::string& modelOrDeployment) const;
    [[nodiscard]] const std::vector<ModelCaps>& models() const { return models_; }

  private:
    std::vector<ModelCaps> models_;
};

// Refuses, before anything is sent, what the model does not take; the message names the field,
// the value and what is allowed.
Status validateRequest(const ModelCaps& caps, const ImageRequest& request);
// The same without the input images, so that a bad prompt or size is refused before any pixel
// is read.
Status validateFields(const ModelCaps& caps, const ImageRequest& request);
// The size rule of validateFields alone: "" (the model chooses) or a size the model offers.
Status validateSize(const ModelCaps& caps, const std::string& size);

// The largest size the model really makes, by pixels: the largest of its listed sizes, or of
// its free sizes (gpt-image-2: 3840x2160). {0, 0} when it lists none.
Size largestSize(const ModelCaps& caps);

// Splits a request into the requests to send: one per image for a model that makes one image
// per call (dall-e-3), else requests of at most nPerRequest images. A request whose size is left
// to the service gets the model's largestSize, to bound its answer.
std::vector<ImageRequest> planRequests(const ModelCaps& caps, ImageRequest request);

} // namespace imagegen
