#include "cli/loadgen_command.h"

// The clients are cpp-httplib's blocking client, one thread per simulated client (at most
// --clients, 4096): a client that waits on its own stream measures its latencies simply, and the
// server under test is what must be event-driven, not the load generator. The idle connections
// of --connections, which must scale further, are plain sockets that hold no thread.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/log.h"
#include "core/open_files.h"

namespace lorax {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct ClientResult {
  std::vector<double> ttft_ms;
  std::vector<double> itl_ms;
  int64_t tokens = 0;
  int64_t ok = 0;
  int64_t connection_errors = 0;  // no answer: refused, reset, timed out
  int64_t http_errors = 0;        // an answer other than 200, or a stream without its last event
  std::string last_error;
};

// Idle keep-alive connections held open during the run: each asks GET /health once (so the
// server has served it and keeps it as a keep-alive connection), then stays silent.
class IdleConnections {
 public:
  IdleConnections(const std::string& host, int port, int count) {
    for (int i = 0; i < count; ++i) {
      const int fd = open_one(host, port);
      if (fd >= 0)
        fds_.push_back(fd);
      else
        ++failed_;
    }
  }
  ~IdleConnections() {
    for (int fd : fds_) close(fd);
  }
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;

  size_t opened() const { return fds_.size(); }
  int failed() const { return failed_; }
  // Those the server has not closed.
  size_t still_open() const {
    size_t open = 0;
    for (int fd : fds_) {
      pollfd p{fd, POLLIN, 0};
      char byte;
      const bool readable = poll(&p, 1, 0) > 0;
      open += !readable || recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    }
    return open;
  }

 private:
  static int open_one(const std::string& host, int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    const std::string request = "GET /health HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    std::string answer;
    char buffer[512];
    bool ok =
        inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) == 1 &&
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size());
    while (ok && answer.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      ok = n > 0;
      if (ok) answer.append(buffer, size_t(n));
    }
    if (!ok || answer.rfind("HTTP/1.1 200", 0) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  std::vector<int> fds_;
  int failed_ = 0;
};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// One streamed request; appends its timings to `r`.
void stream_one(httplib::Client& http, const LoadgenOptions& o, const std::string& adapter,
                ClientResult& r) {
  json body = {{"inputs", o.prompt},
               {"parameters", {{"max_new_tokens", o.max_new_tokens}, {"ignore_eos_token", true}}}};
  if (adapter != "base") body["parameters"]["adapter_id"] = adapter;
  const auto start = Clock::now();
  auto last = start;
  int64_t tokens = 0;
  bool ended = false;  // the last event (with generated_text) arrived
  std::string error_event;  // what an error event said
  std::string pending;
  httplib::Headers headers;
  if (!o.api_key.empty()) headers.emplace("Authorization", "Bearer " + o.api_key);
  httplib::Request req;
  req.method = "POST";
  req.path = "/generate_stream";
  req.headers = headers;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    pending.append(data, size);
    for (size_t end; (end = pending.find("\n\n")) != std::string::npos;) {
      const std::string event = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (event.rfind("data:", 0) != 0) continue;
      const json parsed = json::parse(event.substr(5), nullptr, false);
      if (parsed.is_object() && parsed.contains("error")) {  // not a token
        error_event = parsed["error"].is_string() ? parsed["error"].get<std::string>()
                                                  : parsed["error"].dump();
        continue;
      }
      ended = parsed.is_object() && parsed.value("generated_text", json()).is_string();
      const auto now = Clock::now();
      (tokens == 0 ? r.ttft_ms : r.itl_ms).push_back(seconds(now - last) * 1e3);
      last = now;
      ++tokens;
    }
    return true;
  };
  auto res = http.send(req);
  if (!res) {
    ++r.connection_errors;
    r.last_error = "connection failed: " + httplib::to_string(res.error());
    return;
  }
  if (res->status != 200 || !ended) {
    ++r.http_errors;
    r.last_error = res->status != 200    ? "HTTP " + std::to_string(res->status) + " " + res->body
                   : error_event.empty() ? "the stream ended without its last event"
                                         : "the stream ended with an error event: " + error_event;
    return;
  }
  ++r.ok;
  r.tokens += tokens;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

}  // namespace

int run_loadgen(const LoadgenOptions& o) {
  std::vector<std::string> adapters = o.adapters.empty() ? std::vector<std::string>{"base"}
                                                         : o.adapters;
  raise_open_file_limit();
  const IdleConnections idle(o.host, o.port, o.connections);
  if (o.connections > 0)
    std::printf("holding %zu idle keep-alive connections (%d failed to open)\n", idle.opened(),
                idle.failed());
  std::vector<ClientResult> results(size_t(o.clients));
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(o.time_limit_s);
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client http(o.host, o.port);
      http.set_read_timeout(std::chrono::seconds(120));
      const std::string& adapter = adapters[size_t(c) % adapters.size()];
      for (int i = 0; i < o.requests_per_client && Clock::now() < deadline; ++i)
        stream_one(http, o, adapter, results[size_t(c)]);
    });
  for (auto& t : threads) t.join();
  const double wall = seconds(Clock::now() - start);

  ClientResult all;
  for (const auto& r : results) {
    all.ttft_ms.insert(all.ttft_ms.end(), r.ttft_ms.begin(), r.ttft_ms.end());
    all.itl_ms.insert(all.itl_ms.end(), r.itl_ms.begin(), r.itl_ms.end());
    all.tokens += r.tokens, all.ok += r.ok;
    all.connection_errors += r.connection_errors, all.http_errors += r.http_errors;
    if (!r.last_error.empty()) all.last_error = r.last_error;
  }
  std::printf("\nlorax loadgen: %d clients over %zu adapters, %d requests each, %d new tokens\n",
              o.clients, adapters.size(), o.requests_per_client, o.max_new_tokens);
  std::printf(
      "| requests ok | connection errors | HTTP errors | tokens | wall s | tokens/s | "
      "requests/s |\n");
  std::printf(
      "|------------:|------------------:|------------:|-------:|-------:|---------:|"
      "-----------:|\n");
  std::printf("| %11lld | %17lld | %11lld | %6lld | %6.1f | %8.1f | %10.2f |\n\n",
              (long long)all.ok, (long long)all.connection_errors, (long long)all.http_errors,
              (long long)all.tokens, wall, double(all.tokens) / wall, double(all.ok) / wall);
  if (o.connections > 0)
    std::printf("idle keep-alive connections: %zu opened, %d failed, %zu still open at the end\n\n",
                idle.opened(), idle.failed(), idle.still_open());
  std::printf("| latency ms | p50 | p90 | p99 |\n|---|---:|---:|---:|\n");
  std::printf("| time to first token | %.1f | %.1f | %.1f |\n", percentile(all.ttft_ms, 0.5),
              percentile(all.ttft_ms, 0.9), percentile(all.ttft_ms, 0.99));
  std::printf("| inter-token | %.1f | %.1f | %.1f |\n", percentile(all.itl_ms, 0.5),
              percentile(all.itl_ms, 0.9), percentile(all.itl_ms, 0.99));
  const int64_t errors = all.connection_errors + all.http_errors;
  if (errors) std::printf("\nlast error: %s\n", all.last_error.c_str());
  return errors == 0 && idle.failed() == 0 ? 0 : 1;
}

}  // namespace lorax
