// Reading what the service answers: the images response, the error bodies of every flavour
// (classified), and the server-sent events of a streamed request.
#pragma once

#include "core/service/connection.h"
#include "core/util/error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imagegen {

struct Usage {
    bool present = false;
    int64_t totalTokens = 0;
    int64_t inputTokens = 0;
    int64_t outputTokens = 0;
    int64_t textTokens = 0;  // input_tokens_details.text_tokens
    int64_t imageTokens = 0; // input_tokens_details.image_tokens
};

// Adds `part` (one answer's, one tile's) to `total`; an absent part changes nothing, so the
// total is absent when no part had any.
void addUsage(Usage& total, const Usage& part);

struct GeneratedImage {
    std::string bytes; // decoded from b64_json, or downloaded from url
    std::string url;   // set when the service answered with a URL still to download
    std::string revisedPrompt;
    std::string contentFilterResults; // Azure, JSON text as received
    std::string promptFilterResults;  // Azure, JSON text as received
};

struct ImagesResponse {
    int64_t created = 0;
    std::vector<GeneratedImage> images;
    Usage usage;
    std::string outputFormat;
    std::string size;
    std::string quality;
    std::string background;
};

// What the request allows an answer to hold, checked before any image is decoded.
struct AnswerBounds {
    size_t maxImages = 0;  // more images than this are refused; 0: any number
    int64_t maxPixels = 0; // per image, as the answer's size or an image's header says; 0: any
};

// Reads an images answer. The count, the declared size and each image's header (from its first
// decoded bytes) are checked before any image is decoded; the body is freed once parsed and the
// images are decoded one at a time, each base64 text freed as its image is decoded, so that a
// large answer is held about twice (text and tree), not four times.
Result<ImagesResponse> parseImagesResponse(std::string body, const AnswerBounds& bounds = {});

// Turns a non-2xx answer into an Error: authentication, not found, bad request (with message
// and param), content filter (prompt or output), rate limited, server error.
// A rate limit's message says how long to wait when the service said (`retryAfterSeconds`).
Error classifyHttpError(int status, std::string_view body, const std::string& requestId,
                        std::optional<double> retryAfterSeconds = std::nullopt);

// True for every content-filter shape of PROTOCOL.md §8.2.
bool isContentFilterCode(const std::string& code);

struct SseEvent {
    std::string event; // empty when the server sent no event: line
    std::string data;  // data: lines joined with \n
};

// Incremental text/event-stream parser: feed it chunks as they arrive. Each byte is scanned
// once, and an unfinished line or event may grow only to a bound: past it the parser stops and
// error() says so, so a server that never ends a line cannot make it hold more.
class SseParser {
  public:
    static constexpr size_t kDefaultMaxEventBytes = 64U << 20;

    explicit SseParser(size_t maxEventBytes = kDefaultMaxEventBytes)
        : maxEventBytes_(maxEventBytes) {}
    std::vector<SseEvent> feed(std::string_view chunk);
    std::vector<SseEvent> finish(); // the last event of a stream that did not end with a blank line
    [[nodiscard]] const std::optional<Error>& error() const { return error_; }

  private:
    void takeLine(std::string_view line, std::vector<SseEvent>& out);
    void overflow();
    size_t maxEventBytes_;
    std::string buffer_;   // the unfinished line
    size_t scanned_ = 0;   // buffer_ holds no line break before this
    bool afterCr_ = false; // the last chunk ended with \r: a \n first in the next one is its end
    SseEvent current_;
    bool hasData_ = false;
    std::optional<Error> error_;
};

enum class StreamEventType { PartialImage, Completed, Done, Ignored };

struct StreamEvent {
    StreamEventType type = StreamEventType::Ignored;
    int partialIndex = -1;
    GeneratedImage image;
    Usage usage;
};

// An image_generation.* / image_edit.* event; an error event (or any data with an `error`
// member) comes back as the Error it carries.
Result<StreamEvent> parseStreamEvent(const SseEvent& event, const AnswerBounds& bounds = {});

// Standard base64 to bytes; nullopt on any character outside the alphabet.
std::optional<std::string> decodeBase64(std::string_view text);

} // namespace imagegen
