// The one error type of the core: what went wrong, in words a person understands, plus the
// facts a caller needs to decide what to do (retry, show the parameter, say "cancelled").
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <variant>

namespace imagegen {

enum class ErrorKind {
    InvalidRequest,    // refused by our own validation, before anything was sent
    Configuration,     // no usable connection, endpoint or credentials
    Authentication,    // 401 / 403
    NotFound,          // 404: deployment or model
    BadRequest,        // another 4xx, with the API's message and param
    ContentFilter,     // refused by the safety system (prompt or output)
    RateLimited,       // 429 after the retries
    Server,            // 5xx after the retries
    Network,           // could not connect, connection reset
    Timeout,           // connect or whole-request timeout
    Cancelled,         // the user cancelled
    MalformedResponse, // the server answered something we cannot read
    Image,             // an image could not be decoded or encoded
};

enum class FilterStage { Unknown, Prompt, Output };

struct Error {
    ErrorKind kind = ErrorKind::InvalidRequest;
    std::string message;
    int httpStatus = 0;
    std::string param; // the API's `param`, or the field our validation refused
    std::string code;  // the API's `code`
    FilterStage filterStage = FilterStage::Unknown;
    std::string requestId;
};

const char* errorKindName(ErrorKind kind);

// "1.4 MB": a size for a message.
std::string megabytes(size_t bytes);

inline Error makeError(ErrorKind kind, std::string message) {
    Error e;
    e.kind = kind;
    e.message = std::move(message);
    return e;
}

// `text` with every occurrence of `secret`, and of anything shaped like a key or a bearer token,
// replaced by "[redacted]" (redactSecrets): what a service or a proxy says may echo the key it
// was sent, and no message may show it.
std::string withoutSecret(std::string text, const std::string& secret);

// A value or an Error (std::expected arrives only in C++23).
template <typename T> class Result {
  public:
    Result(T value) : v_(std::move(value)) {}     // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {} // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool ok() const { return std::holds_alternative<T>(v_); }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<T>(v_); }
    const T& value() const { return std::get<T>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    [[nodiscard]] const Error& error() const { return std::get<Error>(v_); }

  private:
    std::variant<T, Error> v_;
};

// For operations that return nothing but can fail.
struct Ok {};
using Status = Result<Ok>;

} // namespace imagegen
