#include "server/json_body.h"

#include "server/api_error.h"

namespace lorax {

namespace {

// Depth is refused while parsing: a body of a million '[' would otherwise make a value that
// every later recursive walk (copies, dumps, validation) descends into.
bool depth_guard(int depth, Json::parse_event_t, Json&) {
  if (depth > kMaxJsonDepth)
    throw ApiError(ErrorKind::BadRequest,
                   "request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  return true;
}

}  // namespace

std::optional<Json> parse_json_text(const std::string& text) {
  try {
    return Json::parse(text, depth_guard);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Json parse_json_body(const std::string& body) {
  Json value;
  try {
    value = Json::parse(body, depth_guard);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, or out_of_range for a number no double holds (1e400). nlohmann's message
    // starts with "[json.exception.parse_error.101] parse error at ...".
    std::string detail = e.what();
    const size_t start = detail.find("] ");
    if (start != std::string::npos) detail = detail.substr(start + 2);
    throw ApiError(ErrorKind::BadRequest, "request body is not valid JSON: " + detail);
  }
  if (!value.is_object())
    throw ApiError(ErrorKind::BadRequest,
                   std::string("request body must be a JSON object, got ") + value.type_name());
  return value;
}

bool has_string_field(const Json& object, const char* key, std::string_view expected) {
  if (!object.is_object()) return false;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() && it->get_ref<const std::string&>() == expected;
}

std::string dump_json(const Json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lorax
