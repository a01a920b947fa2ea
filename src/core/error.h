// Errors and checks that survive release builds.
//
// `lorax::Error` is a user-facing error: a bad file, a bad request, a bad flag. Its message names
// what was wrong (file, tensor, field). `LORAX_CHECK` raises one when a condition on outside input
// fails; `assert` stays for internal invariants only.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lorax {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// An error of the device that leaves it unusable (CUDA's sticky errors: an illegal address, a
// launch failure): only a new process recovers. The engine stops the server on it, with a clear
// log line, instead of failing one step and serving on with a broken context.
class DeviceLostError : public Error {
 public:
  using Error::Error;
};

namespace detail {
// Builds a message from any streamable parts: error_message("tensor ", name, " has ", n, " dims").
template <typename... Parts>
std::string error_message(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

// A name read from outside input (a tensor name, a dtype string), fit to quote in a message:
// bytes other than printable ASCII written as \xNN, and cut after `max_chars` (with "...").
inline std::string printable(std::string_view text, size_t max_chars = 120) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text.substr(0, max_chars)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(detail::error_message(parts...));
}

}  // namespace lorax

// LORAX_CHECK(cond, "part", value, "part", ...): throws lorax::Error with the joined parts.
#define LORAX_CHECK(cond, ...)               \
  do {                                       \
    if (!(cond)) ::lorax::fail(__VA_ARGS__); \
  } while (0)
