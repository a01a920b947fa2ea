// Reading fields of tokenizer.json and the config files, with errors that say where.
//
// `where` is a path into the file such as "normalizer.normalizers[1]"; every message starts with
// it, so a user sees which component and field of which file is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lorax::json_fields {

const nlohmann::json& require(const nlohmann::json& j, std::string_view key,
                              const std::string& where);
std::string require_string(const nlohmann::json& j, std::string_view key, const std::string& where);
int64_t require_int(const nlohmann::json& j, std::string_view key, const std::string& where);

// A missing or null field gives `fallback`; a field of the wrong type is an error.
bool optional_bool(const nlohmann::json& j, std::string_view key, bool fallback,
                   const std::string& where);
std::optional<std::string> optional_string(const nlohmann::json& j, std::string_view key,
                                           const std::string& where);

// The component's "type" field.
std::string type_of(const nlohmann::json& j, const std::string& where);

// "where.key" and "where[i]".
std::string field_path(const std::string& where, std::string_view key);
std::string index_path(const std::string& where, size_t index);

}  // namespace lorax::json_fields
