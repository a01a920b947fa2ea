#include "server/request_fields.h"

#include <limits>

namespace lorax {

std::string json_excerpt(const Json& value) {
  constexpr size_t kMax = 60;
  std::string text = dump_json(value);
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

const Json* FieldReader::value(const char* key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

void FieldReader::invalid(const char* key, const std::string& what) const {
  throw ApiError(ErrorKind::Validation, std::string("`") + key + "` " + what, path_ + key);
}

void FieldReader::wrong_type(const char* key, const char* expected) const {
  invalid(key, std::string("must be ") + expected + ", got " + json_excerpt(*value(key)));
}

std::optional<double> FieldReader::number(const char* key) const {
  const Json* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) wrong_type(key, "a number");
  return v->get<double>();
}

std::optional<int64_t> FieldReader::integer(const char* key) const {
  const Json* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) wrong_type(key, "an integer");
  if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    invalid(key, "is too large");
  return v->get<int64_t>();
}

std::optional<bool> FieldReader::boolean(const char* key) const {
  const Json* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) wrong_type(key, "a boolean");
  return v->get<bool>();
}

std::optional<std::string> FieldReader::string(const char* key) const {
  const Json* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(key, "a string");
  return v->get<std::string>();
}

std::optional<uint64_t> FieldReader::seed(const char* key, bool wrap_negative) const {
  const Json* v = value(key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) wrong_type(key, "an integer");
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  const int64_t s = v->get<int64_t>();
  if (s < 0 && !wrap_negative)
    invalid(key, "must be a non-negative integer, got " + std::to_string(s));
  return uint64_t(s);
}

std::optional<std::vector<std::string>> FieldReader::strings(const char* key,
                                                             bool single_ok) const {
  const Json* v = value(key);
  if (!v) return std::nullopt;
  if (single_ok && v->is_string()) return std::vector<std::string>{v->get<std::string>()};
  const char* expected = single_ok ? "a string or a list of strings" : "a list of strings";
  if (!v->is_array()) wrong_type(key, expected);
  std::vector<std::string> out;
  for (const Json& item : *v) {
    if (!item.is_string()) wrong_type(key, expected);
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace lorax
