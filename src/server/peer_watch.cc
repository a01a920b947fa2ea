#include "server/peer_watch.h"

#include <fstream>
#include <sstream>

namespace lorax {

namespace {

int port_of(const std::string& address) {  // "0100007F:1F90" -> 0x1F90
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return -1;
  try {
    return std::stoi(address.substr(colon + 1), nullptr, 16);
  } catch (...) {
    return -1;
  }
}

std::string read_all(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int tcp_state_in_table(const std::string& table, int local_port, int remote_port) {
  std::istringstream lines(table);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state)) continue;
    if (port_of(local) != local_port || port_of(remote) != remote_port) continue;
    try {
      return std::stoi(state, nullptr, 16);
    } catch (...) {
      return -1;
    }
  }
  return -1;
}

PeerWatch::PeerWatch(int local_port, int remote_port, std::chrono::milliseconds interval)
    : local_port_(local_port),
      remote_port_(remote_port),
      interval_(interval),
      next_check_(std::chrono::steady_clock::now() + interval) {}

bool PeerWatch::gone() {
  if (gone_ || local_port_ <= 0 || remote_port_ <= 0) return gone_;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return false;
  next_check_ = now + interval_;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    const int state = tcp_state_in_table(read_all(path), local_port_, remote_port_);
    if (state >= 0) {
      gone_ = state == kTcpCloseWait;
      return gone_;
    }
  }
  return false;
}

}  // namespace lorax
