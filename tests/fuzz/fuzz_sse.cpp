// Fuzz target: a text/event-stream body. SseParser gets it whole and again in chunks whose
// boundaries come from a hash of the input, and must find the same events both ways; each
// event then goes through parseStreamEvent.
#include "core/service/responses.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

using namespace imagegen;

namespace {

void append(std::vector<SseEvent>& to, std::vector<SseEvent>&& from) {
    for (auto& e : from) {
        to.push_back(std::move(e));
    }
}

bool sameEvents(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].event != b[i].event || a[i].data != b[i].data) {
            return false;
        }
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view stream(reinterpret_cast<const char*>(data), size);

    SseParser whole;
    std::vector<SseEvent> wholeEvents = whole.feed(stream);
    append(wholeEvents, whole.finish());

    // FNV-1a of the input seeds a xorshift generator of chunk lengths: byte by byte, short
    // chunks or longer ones, so that boundaries fall inside "\r\n", "data:" and the JSON.
    uint64_t state = 14695981039346656037ULL;
    for (const char byte : stream) {
        state = (state ^ static_cast<uint8_t>(byte)) * 1099511628211ULL;
    }
    state |= 1;
    const uint64_t maxChunk = uint64_t{1} << (state % 7); // 1 .. 64
    SseParser chunked;
    std::vector<SseEvent> chunkedEvents;
    for (size_t at = 0; at < size;) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        const size_t length = 1 + state % maxChunk;
        append(chunkedEvents, chunked.feed(stream.substr(at, length)));
        at += length;
    }
    append(chunkedEvents, chunked.finish());

    // Past its bound a parser stops early, at a point that depends on the chunks.
    if (!whole.error() && !chunked.error() && !sameEvents(wholeEvents, chunkedEvents)) {
        __builtin_trap(); // chunk boundaries changed the events
    }
    for (const SseEvent& event : wholeEvents) {
        auto parsed = parseStreamEvent(event);
        if (!parsed && parsed.error().message.empty()) {
            __builtin_trap();
        }
    }
    return 0;
}
