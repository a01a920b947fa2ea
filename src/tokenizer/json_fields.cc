#include "tokenizer/json_fields.h"

#include "core/error.h"

namespace lorax::json_fields {

const nlohmann::json& require(const nlohmann::json& j, std::string_view key,
                              const std::string& where) {
  LORAX_CHECK(j.is_object(), where, ": expected an object");
  const auto it = j.find(key);
  LORAX_CHECK(it != j.end(), where, ": missing field '", key, "'");
  return *it;
}

std::string require_string(const nlohmann::json& j, std::string_view key,
                           const std::string& where) {
  const nlohmann::json& v = require(j, key, where);
  LORAX_CHECK(v.is_string(), where, ": field '", key, "' must be a string");
  return v.get<std::string>();
}

int64_t require_int(const nlohmann::json& j, std::string_view key, const std::string& where) {
  const nlohmann::json& v = require(j, key, where);
  LORAX_CHECK(v.is_number_integer(), where, ": field '", key, "' must be an integer");
  return v.get<int64_t>();
}

bool optional_bool(const nlohmann::json& j, std::string_view key, bool fallback,
                   const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  LORAX_CHECK(it->is_boolean(), where, ": field '", key, "' must be true or false");
  return it->get<bool>();
}

std::optional<std::string> optional_string(const nlohmann::json& j, std::string_view key,
                                           const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  LORAX_CHECK(it->is_string(), where, ": field '", key, "' must be a string");
  return it->get<std::string>();
}

std::string type_of(const nlohmann::json& j, const std::string& where) {
  LORAX_CHECK(j.is_object(), where, ": expected an object with a \"type\" field");
  return require_string(j, "type", where);
}

std::string field_path(const std::string& where, std::string_view key) {
  return where + "." + std::string(key);
}

std::string index_path(const std::string& where, size_t index) {
  return where + "[" + std::to_string(index) + "]";
}

}  // namespace lorax::json_fields
