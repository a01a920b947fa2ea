// Typed reads of one JSON object's fields for the request validators. Absent and null read as
// nullopt (every API here treats null as "not given"); a value of the wrong type throws
// ApiError(Validation) naming the field and the type it should have, so a client learns exactly
// which field to fix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/api_error.h"
#include "server/json_body.h"

namespace lorax {

class FieldReader {
 public:
  // `object` must outlive the reader. `path` prefixes field names in the `param` of errors
  // ("parameters.").
  explicit FieldReader(const Json& object, std::string path = "")
      : object_(object), path_(std::move(path)) {}

  bool has(const char* key) const { return value(key) != nullptr; }
  const Json* value(const char* key) const;  // null when absent or null

  std::optional<double> number(const char* key) const;
  std::optional<int64_t> integer(const char* key) const;
  std::optional<bool> boolean(const char* key) const;
  std::optional<std::string> string(const char* key) const;
  // A seed: a non-negative integer up to 2^64 - 1; with `wrap_negative`, a negative one is taken
  // modulo 2^64 (OpenAI clients may send any int64).
  std::optional<uint64_t> seed(const char* key, bool wrap_negative) const;
  // A list of strings; with `single_ok` a lone string counts as a list of one (OpenAI's `stop`).
  std::optional<std::vector<std::string>> strings(const char* key, bool single_ok) const;

  // Throws ApiError(Validation) "`key` <what>" with the field as its param.
  [[noreturn]] void invalid(const char* key, const std::string& what) const;

 private:
  [[noreturn]] void wrong_type(const char* key, const char* expected) const;

  const Json& object_;
  std::string path_;
};

// A short rendering of a JSON value for error messages (long values are cut).
std::string json_excerpt(const Json& value);

}  // namespace lorax
