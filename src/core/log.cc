#include "core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace lorax {

void log_line(LogLevel level, std::string_view message) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t seconds = system_clock::to_time_t(now);
  const int millis = int(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  const char* name = level == LogLevel::Info ? "INFO" : level == LogLevel::Warn ? "WARN" : "ERROR";
  char prefix[64];
  std::snprintf(prefix, sizeof(prefix), "[lorax] %02d:%02d:%02d.%03d %s ", parts.tm_hour,
                parts.tm_min, parts.tm_sec, millis, name);
  std::string line = prefix;
  line.append(message);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace lorax
