// Raw HTTP connections for the reliability tests: thousands at once, driven by poll() from one
// thread, so a test controls exactly what each connection sends and when, and sees what a real
// client would: answers, resets, timeouts, and closes by the server.
//
//   RawConnections c;
//   c.open(port, 2000);
//   for (size_t i = 0; i < c.size(); ++i) c.send(i, request);
//   c.run(deadline, [](const RawConnection& r) { return parse_response(r.in, r.closed).complete;
//   });
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace lorax::testing {

using Clock = std::chrono::steady_clock;

// The first response in `bytes` (`closed`: the server closed after them).
struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers, lower-cased
  std::string body;  // de-chunked
  bool chunked = false;
  bool complete = false;
  size_t used = 0;  // bytes of `bytes` it spans, once complete
};
RawResponse parse_response(const std::string& bytes, bool closed);
// Every complete response in `bytes`, in order (pipelining).
std::vector<RawResponse> parse_responses(std::string bytes, bool closed);

struct RawConnection {
  int fd = -1;
  std::string out;      // queued to send
  std::string in;       // received
  bool closed = false;  // the server closed (EOF)
  int error = 0;        // errno of a failed connect, send or recv (ECONNRESET: reset)
  Clock::time_point opened{};
  Clock::time_point ended{};  // when it finished, closed or failed
  bool finished = false;
};

class RawConnections {
 public:
  RawConnections() = default;
  ~RawConnections();
  RawConnections(const RawConnections&) = delete;
  RawConnections& operator=(const RawConnections&) = delete;

  // Opens `n` more connections to 127.0.0.1:port; returns how many connected. A non-zero
  // `receive_buffer` shrinks each one's kernel receive buffer (a client that reads slowly fills
  // it soon).
  size_t open(int port, size_t n, int receive_buffer = 0);
  // Replaces connection i by a new one to the same port.
  bool reopen(size_t i, int port);
  size_t size() const { return conns_.size(); }
  RawConnection& operator[](size_t i) { return conns_[i]; }
  void send(size_t i, const std::string& bytes);
  void close(size_t i);
  // Sends what is queued and reads what arrives on every live connection until `finished`
  // holds for each (or it closed or failed), or until `deadline`. True when all finished.
  bool run(Clock::time_point deadline, const std::function<bool(const RawConnection&)>& finished);

 private:
  void pump(RawConnection& c, short revents);
  std::vector<RawConnection> conns_;
};

size_t open_file_count();  // entries of /proc/self/fd
size_t thread_count();     // entries of /proc/self/task

// "POST <path> HTTP/1.x" with a JSON body.
std::string post_request(const std::string& path, const std::string& json_body,
                         const std::string& version = "HTTP/1.1", bool keep_alive = true);
std::string get_request(const std::string& path);

}  // namespace lorax::testing
