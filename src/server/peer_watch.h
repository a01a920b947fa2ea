// Whether the client of a connection has gone away, for handlers that answer only at the end.
//
// httplib (0.11) gives route handlers no socket, so a client that gives up on a non-streaming
// request would keep its sequence generating, and its KV blocks taken, until the end. The kernel
// knows: once the peer closes, our end of the TCP connection sits in CLOSE_WAIT. PeerWatch looks
// the connection up by its port pair in /proc/net/tcp and /proc/net/tcp6 (Linux), at most every
// `interval`; when it cannot tell, it says the client is still there.
#pragma once

#include <chrono>
#include <string>

namespace lorax {

class PeerWatch {
 public:
  PeerWatch(int local_port, int remote_port,
            std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  bool gone();

 private:
  int local_port_;
  int remote_port_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_check_;
  bool gone_ = false;
};

// The TCP state of the connection with these ports in a /proc/net/tcp-format table, or -1.
int tcp_state_in_table(const std::string& table, int local_port, int remote_port);
constexpr int kTcpCloseWait = 0x08;

}  // namespace lorax
