// Small, type-checked readers over json-glib objects: a member of the wrong type reads as
// absent instead of tripping json-glib's critical warnings.
#pragma once

#include "core/util/error.h"
#include "core/util/glib_ptr.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imagegen::json {

// A parsed JSON text whose root is an object; the document owns the whole tree, so the root
// and everything read from it live as long as the document.
class Document {
  public:
    explicit Document(JsonNodePtr root) : root_(std::move(root)) {}
    [[nodiscard]] JsonObject* root() const { return json_node_get_object(root_.get()); }

  private:
    JsonNodePtr root_;
};

// Deeper nesting than any answer of the Images API needs; json-glib parses (and writes) nested
// values recursively, so a hostile answer nested deeper could overflow the stack.
inline constexpr int kMaxJsonDepth = 64;

// Parses text whose root must be an object, nested at most kMaxJsonDepth levels.
Result<Document> parseObject(std::string_view text);

// How deeply arrays and objects nest in `text` (outside strings), counting no further than
// `limit + 1`: a linear scan that needs no recursion. json-glib also reads comments and
// single-quoted strings, which could hide brackets from the scan; a text with a ' or / outside
// its double-quoted strings counts as too deep (it is not JSON).
int nestingDepth(std::string_view text, int limit = kMaxJsonDepth);

JsonObject* object(JsonObject* o, const char* name);
JsonArray* array(JsonObject* o, const char* name);
std::optional<std::string> string(JsonObject* o, const char* name);
std::optional<int64_t> integer(JsonObject* o, const char* name);
std::optional<double> number(JsonObject* o, const char* name);
std::optional<bool> boolean(JsonObject* o, const char* name);
std::vector<std::string> stringArray(JsonObject* o, const char* name);

// The compact JSON text a builder has built.
std::string builderText(JsonBuilder* builder);

// Compact JSON text of a node (for passing Azure's filter results on unchanged).
std::string toText(JsonNode* node);

} // namespace imagegen::json
