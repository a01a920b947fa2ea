// JSON bodies in and out. Keys keep their order both ways: chat messages reach the template as
// the client wrote them, and responses list `id`, `object`, ... in the order the APIs document.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lorax {

using Json = nlohmann::ordered_json;

// No API here nests deeper than a handful of levels (chat content parts are 4).
inline constexpr int kMaxJsonDepth = 64;

// The request body as a JSON object; anything else throws ApiError(BadRequest) saying what is
// wrong and where ("... at line 1, column 12"), as does nesting deeper than kMaxJsonDepth.
Json parse_json_body(const std::string& body);

// JSON carried inside a request field (LoRAX's chat `inputs`): nullopt when it is not JSON; the
// same depth limit as bodies (ApiError BadRequest beyond it).
std::optional<Json> parse_json_text(const std::string& text);

// Whether `object` is an object whose `key` is the string `expected`. (nlohmann's
// value(key, "") throws when the field holds another type; request fields can hold anything.)
bool has_string_field(const Json& object, const char* key, std::string_view expected);

// Serialized compactly; invalid UTF-8 (which the detokenizer never emits) is replaced, never
// thrown, so a response can always be written.
std::string dump_json(const Json& value);

}  // namespace lorax
