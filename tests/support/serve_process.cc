#include "support/serve_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include "support/fixtures.h"

namespace lorax::testing {

ServeProcess::ServeProcess(const std::vector<std::string>& args, const std::string& log_path,
                           const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> argv_strings = {lorax_binary(), "serve", "--port", "0"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const std::regex listening("listening on http://[^:]+:([0-9]+)");
  for (int i = 0; i < 1200 && port_ == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::smatch match;
    const std::string log = read_file(log_path);
    if (std::regex_search(log, match, listening)) port_ = std::stoi(match[1]);
  }
}

ServeProcess::~ServeProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

bool ServeProcess::alive() const {
  return pid_ > 0 && kill(pid_, 0) == 0;
}

size_t ServeProcess::memory(const std::string& field) const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0)
      return size_t(std::stoull(line.substr(field.size() + 1))) << 10;
  return 0;
}

int ServeProcess::stop(int signal, std::chrono::seconds limit) {
  kill(pid_, signal);
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

}  // namespace lorax::testing
