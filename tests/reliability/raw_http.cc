#include "reliability/raw_http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace lorax::testing {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

// De-chunks from `at`; returns the end of the terminating chunk, or npos while incomplete.
size_t dechunk(const std::string& bytes, size_t at, std::string& body) {
  for (;;) {
    const size_t line_end = bytes.find("\r\n", at);
    if (line_end == std::string::npos) return std::string::npos;
    const size_t size = std::stoul(bytes.substr(at, line_end - at), nullptr, 16);
    const size_t data = line_end + 2;
    if (bytes.size() < data + size + 2) return std::string::npos;
    if (size == 0) return data + 2;
    body.append(bytes, data, size);
    at = data + size + 2;
  }
}

size_t count_entries(const char* dir) {
  size_t n = 0;
  if (DIR* d = opendir(dir)) {
    while (const dirent* entry = readdir(d))
      if (entry->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

int connect_to(int port, int& error, int receive_buffer = 0) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    error = errno;
    return -1;
  }
  if (receive_buffer > 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = errno;
    ::close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

RawResponse parse_response(const std::string& bytes, bool closed) {
  RawResponse r;
  const size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string::npos) return r;
  r.head = lower(bytes.substr(0, head_end + 2));
  if (r.head.rfind("http/1.", 0) == 0 && r.head.size() > 12)
    r.status = std::stoi(r.head.substr(9, 3));
  const size_t body_start = head_end + 4;
  const size_t length = r.head.find("\r\ncontent-length:");
  r.chunked = r.head.find("\r\ntransfer-encoding: chunked") != std::string::npos;
  if (length != std::string::npos) {
    const size_t n = std::stoul(r.head.substr(length + 17));
    if (bytes.size() < body_start + n) return r;
    r.body = bytes.substr(body_start, n);
    r.used = body_start + n;
    r.complete = true;
  } else if (r.chunked) {
    const size_t end = dechunk(bytes, body_start, r.body);
    if (end == std::string::npos) return r;
    r.used = end;
    r.complete = true;
  } else {
    r.body = bytes.substr(body_start);
    r.used = bytes.size();
    r.complete = closed;
  }
  return r;
}

std::vector<RawResponse> parse_responses(std::string bytes, bool closed) {
  std::vector<RawResponse> all;
  for (;;) {
    RawResponse r = parse_response(bytes, closed);
    if (!r.complete) return all;
    bytes.erase(0, r.used);
    all.push_back(std::move(r));
    if (bytes.empty()) return all;
  }
}

RawConnections::~RawConnections() {
  for (size_t i = 0; i < conns_.size(); ++i) close(i);
}

size_t RawConnections::open(int port, size_t n, int receive_buffer) {
  size_t connected = 0;
  for (size_t i = 0; i < n; ++i) {
    RawConnection c;
    c.opened = Clock::now();
    c.fd = connect_to(port, c.error, receive_buffer);
    connected += c.fd >= 0;
    conns_.push_back(std::move(c));
  }
  return connected;
}

bool RawConnections::reopen(size_t i, int port) {
  close(i);
  RawConnection c;
  c.opened = Clock::now();
  c.fd = connect_to(port, c.error);
  conns_[i] = std::move(c);
  return conns_[i].fd >= 0;
}

void RawConnections::send(size_t i, const std::string& bytes) {
  conns_[i].out += bytes;
  pump(conns_[i], POLLOUT);
}

void RawConnections::close(size_t i) {
  if (conns_[i].fd >= 0) ::close(conns_[i].fd);
  conns_[i].fd = -1;
}

void RawConnections::pump(RawConnection& c, short revents) {
  if (c.fd < 0 || c.error || c.closed) return;
  if ((revents & POLLOUT) && !c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0) c.out.erase(0, size_t(n));
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.error = errno;
  }
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    char buffer[16384];
    for (;;) {
      const ssize_t n = recv(c.fd, buffer, sizeof(buffer), 0);
      if (n > 0) {
        c.in.append(buffer, size_t(n));
        continue;
      }
      if (n == 0) c.closed = true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.error = errno;
      break;
    }
  }
  if ((c.closed || c.error) && c.ended == Clock::time_point{}) c.ended = Clock::now();
}

bool RawConnections::run(Clock::time_point deadline,
                         const std::function<bool(const RawConnection&)>& finished) {
  std::vector<pollfd> fds;
  std::vector<size_t> index;
  for (;;) {
    fds.clear();
    index.clear();
    bool all = true;
    for (size_t i = 0; i < conns_.size(); ++i) {
      RawConnection& c = conns_[i];
      if (!c.finished && finished(c)) {
        c.finished = true;
        if (c.ended == Clock::time_point{}) c.ended = Clock::now();
      }
      if (c.finished) continue;
      if (c.fd < 0 || c.closed || c.error) {
        all = false;
        continue;
      }
      all = false;
      fds.push_back({c.fd, short(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
      index.push_back(i);
    }
    if (all) return true;
    if (fds.empty() || Clock::now() >= deadline) return false;
    if (poll(fds.data(), fds.size(), 20) < 0 && errno != EINTR) return false;
    for (size_t k = 0; k < fds.size(); ++k)
      if (fds[k].revents) pump(conns_[index[k]], fds[k].revents);
  }
}

size_t open_file_count() {
  return count_entries("/proc/self/fd");
}

size_t thread_count() {
  return count_entries("/proc/self/task");
}

std::string post_request(const std::string& path, const std::string& json_body,
                         const std::string& version, bool keep_alive) {
  return "POST " + path + " " + version + "\r\nHost: localhost\r\n" +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(json_body.size()) +
         "\r\n" + (keep_alive ? "" : "Connection: close\r\n") + "\r\n" + json_body;
}

std::string get_request(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
}

}  // namespace lorax::testing
