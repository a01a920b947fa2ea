#include "server/json_body.h"

#include "server/api_error.h"

namespace lorax {

Json parse_json_body(const std::string& body) {
  Json value;
  try {
    value = Json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] parse error at ...".
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

std::string dump_json(const Json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lorax
