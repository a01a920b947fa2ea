// `lorax serve --port 0 ARGS...` in a child process, for tests that drive the real binary: its
// port is read from its log once it listens; the test can signal it and read its memory.
// Killed (and reaped) on destruction if still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace lorax::testing {

class ServeProcess {
 public:
  // `env`: variables set in the child only.
  ServeProcess(const std::vector<std::string>& args, const std::string& log_path,
               const std::vector<std::pair<std::string, std::string>>& env = {});
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }  // 0 when it never said it listens (within 60 s)
  bool alive() const;
  // VmHWM (peak resident memory) or VmRSS, in bytes.
  size_t memory(const std::string& field) const;
  // Sends `signal` and waits (up to `limit`) for the exit status; -1 when it did not exit.
  int stop(int signal, std::chrono::seconds limit);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace lorax::testing
