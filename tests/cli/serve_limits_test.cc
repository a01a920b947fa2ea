// `lorax serve` under abuse, as a separate process whose memory the test reads from /proc:
// oversized bodies (declared, sent whole, sent chunked) and absurd parameter values all get a
// 4xx, the server keeps serving, and its peak memory stays within what its limits allow rather
// than growing with what clients send.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/fixtures.h"
#include "support/serve_process.h"

namespace lorax {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// One HTTP exchange on a raw socket, so the test controls exactly what is sent: `head` (request
// line and headers), then `body_bytes` of body produced by repeating `body_piece`, optionally
// in chunked encoding. Returns the response's status, 0 when the server closed the connection
// without one (it may cut off a body it refuses), -1 when it could not be reached.
struct RawReply {
  int status = -1;
  std::string text;
};

RawReply raw_exchange(int port, const std::string& head, const std::string& body_piece = "",
                      size_t body_bytes = 0, bool chunked = false) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval timeout{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return {};
  }
  RawReply reply{0, ""};
  // Reads whatever has arrived, concurrently with sending, so an early refusal is not lost.
  std::thread reader([&] {
    char buffer[65536];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) reply.text.append(buffer, size_t(n));
  });
  const auto send_all = [&](const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += size_t(n);
    }
    return true;
  };
  bool open = send_all(head);
  for (size_t sent = 0; open && sent < body_bytes; sent += body_piece.size()) {
    std::ostringstream chunk;
    if (chunked) chunk << std::hex << body_piece.size() << "\r\n" << body_piece << "\r\n";
    open = send_all(chunked ? chunk.str() : body_piece);
  }
  if (open && chunked) send_all("0\r\n\r\n");
  // No shutdown(SHUT_WR): a half-closed connection reads as a client that left.
  // "Connection: close" has the server close once it has answered.
  reader.join();
  close(fd);
  if (reply.text.rfind("HTTP/1.1 ", 0) == 0) reply.status = std::stoi(reply.text.substr(9, 3));
  return reply;
}

std::string post_head(const std::string& path, const std::string& length_header) {
  return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
         "Connection: close\r\n" + length_header + "\r\n";
}

RawReply post_json(int port, const std::string& path, const std::string& body) {
  return raw_exchange(port,
                      post_head(path, "Content-Length: " + std::to_string(body.size()) + "\r\n"),
                      body, body.size());
}

constexpr size_t kBodyLimit = 256 << 10;
constexpr size_t kHugeBody = size_t(64) << 20;  // 256x the limit

struct Abuse {
  std::string path;
  std::string body;
  int status;
};

// Bodies within the size limit whose values are absurd.
std::vector<Abuse> absurd_requests() {
  const auto generate = [](json parameters) {
    return json{{"inputs", "Once upon a time"}, {"parameters", std::move(parameters)}}.dump();
  };
  json many_stops = json::array();
  for (int i = 0; i < 10000; ++i) many_stops.push_back("ab");
  json many_ids = json::array();
  for (int i = 0; i < 40000; ++i) many_ids.push_back(i % 500);
  json many_messages = json::array();
  for (int i = 0; i < 3000; ++i)
    many_messages.push_back({{"role", i % 2 ? "assistant" : "user"}, {"content", "Lily ran."}});
  const std::string long_text(200 << 10, 'a');
  const json user = json::array({{{"role", "user"}, {"content", "hi"}}});
  return {
      {"/generate", generate({{"max_new_tokens", 1000000000000000}}), 422},
      {"/generate", generate({{"return_k_alternatives", 1000000000}}), 422},
      {"/generate", generate({{"stop", many_stops}}), 422},
      {"/generate", generate({{"best_of", 1000000000}}), 422},
      {"/generate", generate({{"top_k", -9000000000000000000}}), 422},
      {"/generate", R"({"inputs": "x", "parameters": {"seed": 1e400}})", 400},
      {"/generate", json{{"inputs", long_text}}.dump(), 422},
      // as LoRAX: a stream's refusal is one SSE error event of a 200 answer
      {"/generate_stream", generate({{"max_new_tokens", -1}}), 200},
      {"/v1/completions", json{{"prompt", many_ids}}.dump(), 400},
      {"/v1/completions", json{{"prompt", "x"}, {"logprobs", 1000000}}.dump(), 400},
      {"/v1/completions", json{{"prompt", "x"}, {"n", 1000000}}.dump(), 400},
      {"/v1/completions", json{{"prompt", "x"}, {"max_tokens", 1e300}}.dump(), 400},
      {"/v1/chat/completions",
       json{{"messages", user}, {"logprobs", true}, {"top_logprobs", 1000000000}}.dump(), 400},
      {"/v1/chat/completions", json{{"messages", many_messages}}.dump(), 400},
      {"/v1/chat/completions", "{\"messages\": " + std::string(100000, '[') + "}", 400},
      {"/v1/completions", json{{"prompt", "x"}, {"model", std::string(100000, 'm')}}.dump(), 404},
  };
}

TEST(ServeLimits, AbuseGets4xxAndMemoryStaysBounded) {
  testing::TempDir dir;
  // glibc gives each busy thread its own arena, each keeping what it freed, so the resident size
  // of a 64-thread server mostly measures how many threads took a large request. Two arenas keep
  // the measure about what the server holds.
  testing::ServeProcess server(
      {"--model", testing::model_dir("stories260K"), "--threads", "1", "--max-request-bytes",
       std::to_string(kBodyLimit), "--max-new-tokens", "64", "--max-top-logprobs", "5",
       "--max-input-length", "256"},
      dir.file("serve.log"), {{"MALLOC_ARENA_MAX", "2"}});
  ASSERT_GT(server.port(), 0) << testing::read_file(dir.file("serve.log"));
  const int port = server.port();
  const std::string ok_body =
      R"({"inputs": "Once upon a time", "parameters": {"max_new_tokens": 8}})";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(post_json(port, "/generate", ok_body).status, 200);
  const size_t baseline = server.memory("VmHWM");

  const std::vector<Abuse> absurd = absurd_requests();
  const std::string piece(64 << 10, 'a');
  size_t after_first_round = 0;
  for (int round = 0; round < 3; ++round) {
    // Declared far over the limit, no body sent: refused from the headers alone.
    EXPECT_EQ(
        raw_exchange(port, post_head("/generate", "Content-Length: 1000000000000\r\n")).status,
        413);
    // A chunked body just over the limit: read up to the limit, then refused.
    const RawReply chunked =
        raw_exchange(port, post_head("/v1/completions", "Transfer-Encoding: chunked\r\n"), piece,
                     kBodyLimit + piece.size(), true);
    EXPECT_EQ(chunked.status, 413) << chunked.text.substr(0, 200);
    EXPECT_NE(chunked.text.find("larger than the limit of 262144 bytes"), std::string::npos);
    // 64 MiB sent whole, with and without a length: refused without being kept. The server may
    // cut the connection before the client has sent it all; if it answers, the answer is 413.
    const RawReply huge_chunked = raw_exchange(
        port, post_head("/generate", "Transfer-Encoding: chunked\r\n"), piece, kHugeBody, true);
    EXPECT_TRUE(huge_chunked.status == 413 || huge_chunked.status == 0) << huge_chunked.status;
    const RawReply huge = raw_exchange(
        port, post_head("/generate", "Content-Length: " + std::to_string(kHugeBody) + "\r\n"),
        piece, kHugeBody);
    EXPECT_TRUE(huge.status == 413 || huge.status == 0) << huge.status;
    for (const Abuse& a : absurd) {
      ASSERT_LE(a.body.size(), kBodyLimit) << a.body.substr(0, 80);
      const RawReply reply = post_json(port, a.path, a.body);
      EXPECT_EQ(reply.status, a.status)
          << a.path << " " << a.body.substr(0, 100) << " -> " << reply.text.substr(0, 300);
    }
    if (round == 0) after_first_round = server.memory("VmHWM");
  }
  ASSERT_TRUE(server.alive());
  EXPECT_EQ(post_json(port, "/generate", ok_body).status, 200);
  const size_t peak = server.memory("VmHWM");
  // ASan and TSan hold freed memory back (quarantine, shadow), so resident size says little
  // there: their builds check every status and the server's survival, the plain build the bound.
  if (testing::kSanitizedBuild) {
    std::printf("sanitizer build: its allocator keeps freed memory in quarantine, so the peak "
                "(+%.1f MiB) is reported, not bounded\n",
                double(peak - baseline) / (1 << 20));
    return;
  }
  // Each oversized body is 256x the limit: keeping even one would add 64 MiB. What the limits
  // allow (a 256 KiB body, its JSON, a 200 KiB prompt's tokens) is a few MiB.
  EXPECT_LT(peak - baseline, size_t(32) << 20)
      << "baseline " << (baseline >> 20) << " MiB, peak " << (peak >> 20) << " MiB";
  // Repeating the abuse does not add more: nothing accumulates per request.
  EXPECT_LT(peak - after_first_round, size_t(8) << 20)
      << "after one round " << (after_first_round >> 20) << " MiB, after three " << (peak >> 20)
      << " MiB";
  std::printf("serve memory: baseline %.1f MiB, peak after abuse %.1f MiB (+%.1f)\n",
              double(baseline) / (1 << 20), double(peak) / (1 << 20),
              double(peak - baseline) / (1 << 20));
}

}  // namespace
}  // namespace lorax
