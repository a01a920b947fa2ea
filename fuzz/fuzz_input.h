// Helpers shared by the fuzz targets: splitting one input into parts, and a tiny base model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lorax::fuzz {

// Parts of a multi-part input (a config and a weights file, a template and its messages) are
// separated by this line; seeds are written the same way, and the fuzzer's mutations keep it.
inline constexpr std::string_view kSeparator = "\n#--#\n";

inline std::vector<std::string_view> split_parts(const uint8_t* data, size_t size,
                                                 size_t max_parts) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t at = rest.find(kSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(rest.substr(0, at));
    rest.remove_prefix(at + kSeparator.size());
  }
  parts.push_back(rest);
  return parts;
}

// The first byte picks a mode; the rest is the payload.
struct Selected {
  uint8_t mode = 0;
  std::string_view payload;
};
inline Selected select_mode(const uint8_t* data, size_t size, uint8_t modes) {
  if (size == 0) return {};
  return {uint8_t(data[0] % modes), {reinterpret_cast<const char*>(data) + 1, size - 1}};
}

}  // namespace lorax::fuzz
