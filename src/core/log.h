// Log lines to stderr: "[lorax] 12:00:01.234 INFO message". Each line is written with one call so
// lines from different threads never interleave.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace lorax {

enum class LogLevel { Info, Warn, Error };

void log_line(LogLevel level, std::string_view message);

template <typename... Parts>
void log_info(const Parts&... parts) {
  log_line(LogLevel::Info, detail::error_message(parts...));
}
template <typename... Parts>
void log_warn(const Parts&... parts) {
  log_line(LogLevel::Warn, detail::error_message(parts...));
}
template <typename... Parts>
void log_error(const Parts&... parts) {
  log_line(LogLevel::Error, detail::error_message(parts...));
}

}  // namespace lorax
