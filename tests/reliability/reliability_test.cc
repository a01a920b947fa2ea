// The HTTP layer under connection abuse, over loopback with raw sockets (raw_http.h): thousands
// of connections at once, slowloris clients, thousands of idle keep-alive connections beside
// streams, pipelining, HTTP/1.0 streams, clients leaving mid-stream, SIGTERM with streams in
// flight, and adapter traps beside other requests. A server with a thread per connection fails
// each of them (answers time out or are reset, latencies grow with the abusers, streams wait).
//
// Counts are bounded by the open file limit (raised to the hard limit; a lower one scales the
// counts down, and the test says so). Latencies are asserted only in plain builds: sanitizers
// slow everything several times.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/open_files.h"
#include "io/safetensors.h"
#include "reliability/raw_http.h"
#include "server/server_fixture.h"
#include "support/fixtures.h"
#include "support/serve_process.h"

namespace lorax::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// `wanted` connections, or fewer when the open file limit cannot hold them: each costs the test
// process `fds_each` descriptors (client and, in process, server side).
size_t scaled(size_t wanted, size_t fds_each) {
  const size_t limit = raise_open_file_limit();
  const size_t budget = limit > open_file_count() + 256 ? limit - open_file_count() - 256 : 0;
  const size_t n = std::min(wanted, budget / fds_each);
  if (n < wanted)
    std::printf("open file limit %zu: scaled down from %zu to %zu connections\n", limit, wanted, n);
  return n;
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, size_t(p * double(values.size())))];
}

std::string generate_body(int max_new_tokens, bool ignore_eos = false) {
  return Json{
      {"inputs", "Once upon a time"},
      {"parameters", {{"max_new_tokens", max_new_tokens}, {"ignore_eos_token", ignore_eos}}}}
      .dump();
}

bool complete(const RawConnection& c) {
  return parse_response(c.in, c.closed).complete;
}

// The last SSE payload of a complete stream, parsed.
Json last_event(const RawResponse& r) {
  const std::vector<std::string> payloads = sse_payloads(r.body);
  if (payloads.empty()) return nullptr;
  return Json::parse(payloads.back(), nullptr, false);
}

bool ended_with_text(const Json& event) {
  return event.is_object() && event.contains("generated_text") &&
         event["generated_text"].is_string();
}

TEST(Reliability, TwoThousandConnectionsAtOnceEachGetAnAnswer) {
  const size_t n = scaled(2000, 2);
  TestServerOptions options;
  options.max_concurrent_requests = 64;
  TestServer server(options);
  RawConnections c;
  ASSERT_EQ(c.open(server.port, n), n) << "connections refused by the kernel";
  const std::string request = post_request("/generate", generate_body(2));
  const auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) c.send(i, request);
  c.run(start + 60s, complete);
  size_t ok = 0, busy = 0, other = 0, reset = 0, unanswered = 0;
  double slowest = 0;
  for (size_t i = 0; i < n; ++i) {
    const RawResponse r = parse_response(c[i].in, c[i].closed);
    reset += c[i].error != 0;
    if (!r.complete) {
      ++unanswered;
      continue;
    }
    slowest = std::max(slowest, ms(c[i].ended - start));
    ok += r.status == 200;
    busy += r.status == 429;
    other += r.status != 200 && r.status != 429;
    if (r.status == 429) {
      EXPECT_NE(r.head.find("retry-after: "), std::string::npos) << r.head;
    }
  }
  std::printf(
      "%zu connections at once: %zu answered 200, %zu 429, %zu other, %zu reset, %zu "
      "unanswered; last answer after %.0f ms\n",
      n, ok, busy, other, reset, unanswered, slowest);
  EXPECT_EQ(ok + busy, n);
  EXPECT_EQ(reset, 0u);
  EXPECT_EQ(unanswered, 0u);
  EXPECT_GT(ok, 0u);
}

TEST(Reliability, SlowlorisClientsNeitherDelayOthersNorOutliveTheReadDeadline) {
  // Each slow connection is closed at the read deadline and the attacker reconnects at once, so
  // the pressure lasts the whole 20 s window, ten deadlines of 2 s each.
  constexpr double kReadTimeout = 2.0;
  const auto window = 20s;
  const size_t n = scaled(1000, 2);
  TestServerOptions options;
  options.limits.request_read_timeout_s = kReadTimeout;
  TestServer server(options);
  RawConnections slow;
  ASSERT_EQ(slow.open(server.port, n), n);
  const std::string head = "POST /generate HTTP/1.1\r\nHost: localhost\r\n";
  for (size_t i = 0; i < n; ++i) slow.send(i, head);

  std::vector<double> health_ms, generate_ms;
  size_t failed = 0;
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      const auto t0 = Clock::now();
      failed += server.get("/health").status != 200;
      health_ms.push_back(ms(Clock::now() - t0));
      const auto t1 = Clock::now();
      failed += server.post_raw("/generate", generate_body(2)).status != 200;
      generate_ms.push_back(ms(Clock::now() - t1));
      std::this_thread::sleep_for(20ms);
    }
  });

  size_t closed_by_server = 0, early = 0, late = 0;
  std::vector<double> lifetimes;
  const auto end = Clock::now() + window;
  auto next_byte = Clock::now();
  while (Clock::now() < end) {
    slow.run(std::min(end, Clock::now() + 100ms),
             [](const RawConnection& r) { return r.closed || r.error; });
    for (size_t i = 0; i < n; ++i) {
      RawConnection& r = slow[i];
      if (!r.closed && !r.error) continue;
      const double lived = ms(r.ended - r.opened) / 1000.0;
      lifetimes.push_back(lived);
      ++closed_by_server;
      early += lived < kReadTimeout - 0.05;
      late += lived > kReadTimeout + (kSanitizedBuild ? 5.0 : 1.0);
      slow.reopen(i, server.port);
      slow.send(i, head);
    }
    if (Clock::now() >= next_byte) {  // one more header line now and then: never a whole request
      for (size_t i = 0; i < n; ++i) slow.send(i, "X-Slow: 1\r\n");
      next_byte = Clock::now() + 500ms;
    }
  }
  sampling = false;
  sampler.join();
  std::printf(
      "%zu slowloris connections for %.0f s (read deadline %.0f s): %zu closed by the "
      "server (lifetime p50 %.2f s, max %.2f s); /health p50 %.1f ms p99 %.1f ms, "
      "generation p50 %.1f ms p99 %.1f ms (%zu samples), %zu failed\n",
      n, std::chrono::duration<double>(window).count(), kReadTimeout, closed_by_server,
      percentile(lifetimes, 0.5), percentile(lifetimes, 1.0), percentile(health_ms, 0.5),
      percentile(health_ms, 0.99), percentile(generate_ms, 0.5), percentile(generate_ms, 0.99),
      health_ms.size(), failed);
  EXPECT_EQ(failed, 0u);
  EXPECT_GE(closed_by_server, n * 2) << "each slow connection is closed at every deadline";
  EXPECT_EQ(early, 0u);
  EXPECT_EQ(late, 0u);
  if (!kSanitizedBuild) {
    EXPECT_LT(percentile(health_ms, 0.99), 100.0);
    EXPECT_LT(percentile(generate_ms, 0.99), 100.0);
  }
}

TEST(Reliability, IdleKeepAliveConnectionsDoNotHoldBackStreams) {
  const size_t idle = scaled(5000, 2);
  TestServerOptions options;
  options.max_concurrent_requests = 128;
  TestServer server(options);
  RawConnections c;
  ASSERT_EQ(c.open(server.port, idle), idle);
  for (size_t i = 0; i < idle; ++i) c.send(i, get_request("/health"));
  ASSERT_TRUE(c.run(Clock::now() + 60s, complete)) << "not every idle connection was answered";
  constexpr size_t kStreams = 64;
  const size_t first_stream = c.size();
  ASSERT_EQ(c.open(server.port, kStreams), kStreams);
  const auto start = Clock::now();
  for (size_t i = first_stream; i < c.size(); ++i)
    c.send(i, post_request("/generate_stream", generate_body(50)));
  const bool all = c.run(start + 60s, complete);
  const double took = ms(Clock::now() - start);
  size_t done = 0;
  for (size_t i = first_stream; i < c.size(); ++i) {
    const RawResponse r = parse_response(c[i].in, c[i].closed);
    done += r.complete && r.status == 200 && ended_with_text(last_event(r));
  }
  size_t idle_open = 0;
  for (size_t i = 0; i < first_stream; ++i) idle_open += !c[i].closed && !c[i].error;
  std::printf(
      "%zu idle keep-alive connections held: %zu of %zu streams complete in %.0f ms; %zu "
      "idle connections still open\n",
      idle, done, kStreams, took, idle_open);
  EXPECT_TRUE(all);
  EXPECT_EQ(done, kStreams);
  EXPECT_EQ(idle_open, idle);
}

TEST(Reliability, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server;
  RawConnections c;
  ASSERT_EQ(c.open(server.port, 1), 1u);
  std::string pipeline;
  constexpr int kRequests = 10;
  for (int i = 1; i <= kRequests; ++i) {
    const Json body = {
        {"inputs", "Once upon a time"},
        {"parameters", {{"max_new_tokens", i}, {"details", true}, {"ignore_eos_token", true}}}};
    pipeline += i % 3 == 0 ? get_request("/health") : post_request("/generate", body.dump());
  }
  c.send(0, pipeline);  // all at once, before any answer
  c.run(Clock::now() + 30s, [](const RawConnection& r) {
    return parse_responses(r.in, r.closed).size() == size_t(kRequests);
  });
  const std::vector<RawResponse> answers = parse_responses(c[0].in, c[0].closed);
  ASSERT_EQ(answers.size(), size_t(kRequests));
  for (int i = 1; i <= kRequests; ++i) {
    const RawResponse& r = answers[size_t(i - 1)];
    ASSERT_EQ(r.status, 200) << r.body;
    const Json json = Json::parse(r.body);
    if (i % 3 == 0) {
      EXPECT_EQ(json, Json::object()) << "answer " << i << " is not the health answer";
    } else {
      EXPECT_EQ(json["details"]["generated_tokens"], i) << "answer " << i << " out of order";
    }
  }
}

TEST(Reliability, HttpOneZeroStreamsEndByClosingWithoutChunks) {
  TestServer server;
  RawConnections c;
  ASSERT_EQ(c.open(server.port, 1), 1u);
  c.send(0, post_request("/generate_stream", generate_body(8), "HTTP/1.0"));
  ASSERT_TRUE(c.run(Clock::now() + 30s, [](const RawConnection& r) { return r.closed; }))
      << "the server did not close the HTTP/1.0 stream";
  const RawResponse r = parse_response(c[0].in, true);
  ASSERT_EQ(r.status, 200) << c[0].in;
  EXPECT_EQ(r.head.rfind("http/1.0 200", 0), 0u) << r.head;
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(r.head.find("content-length"), std::string::npos) << r.head;
  EXPECT_NE(r.head.find("connection: close"), std::string::npos) << r.head;
  EXPECT_NE(r.head.find("content-type: text/event-stream"), std::string::npos) << r.head;
  EXPECT_TRUE(ended_with_text(last_event(r))) << r.body;
  EXPECT_EQ(sse_payloads(r.body).size(), 8u) << r.body;
}

TEST(Reliability, StrictFramingRefusesAmbiguousBodies) {
  TestServer server;
  const std::string both =
      "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  const std::string bad_chunk =
      "POST /generate HTTP/1.1\r\nHost: x\r\n"
      "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
  const std::string other_coding =
      "POST /generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc";
  for (const std::string& request : {both, bad_chunk, other_coding}) {
    RawConnections c;
    ASSERT_EQ(c.open(server.port, 1), 1u);
    c.send(0, request);
    c.run(Clock::now() + 10s, [](const RawConnection& r) { return r.closed; });
    const RawResponse r = parse_response(c[0].in, c[0].closed);
    EXPECT_EQ(r.status, 400) << request << " -> " << c[0].in;
    EXPECT_NE(r.head.find("connection: close"), std::string::npos) << r.head;
    EXPECT_TRUE(c[0].closed) << "the connection stays open after a framing error";
  }
  EXPECT_EQ(server.get("/health").status, 200);
}

TEST(Reliability, ClientsLeavingMidStreamLeakNothing) {
  TestServerOptions options;
  options.max_concurrent_requests = 256;
  TestServer server(options);
  // Warm up: lazily started threads (the backend's pool) are not leaks.
  ASSERT_EQ(server.post_raw("/generate", generate_body(4)).status, 200);
  std::this_thread::sleep_for(200ms);
  const size_t fds = open_file_count();
  const size_t threads = thread_count();
  constexpr size_t kStreams = 200;
  RawConnections c;
  ASSERT_EQ(c.open(server.port, kStreams), kStreams);
  for (size_t i = 0; i < kStreams; ++i)
    c.send(i, post_request("/generate_stream", generate_body(200, true)));
  c.run(Clock::now() + 60s,
        [](const RawConnection& r) { return r.in.find("data:") != std::string::npos; });
  const ServiceStats busy = server.service->stats();
  for (size_t i = 0; i < kStreams; i += 2) c.close(i);  // half leave mid-stream
  for (size_t i = 0; i < kStreams; i += 2) c[i].finished = true;
  for (size_t i = 1; i < kStreams; i += 2) c[i].finished = false;
  const bool rest = c.run(Clock::now() + 120s, complete);
  size_t done = 0;
  for (size_t i = 1; i < kStreams; i += 2)
    done += ended_with_text(last_event(parse_response(c[i].in, c[i].closed)));
  for (size_t i = 1; i < kStreams; i += 2) c.close(i);
  const auto settle = Clock::now() + 10s;
  auto settled = [&] {
    const ServiceStats s = server.service->stats();
    return s.in_flight == 0 && s.engine.kv_blocks_free == s.engine.kv_blocks_total &&
           open_file_count() == fds && thread_count() == threads;
  };
  while (!settled() && Clock::now() < settle) std::this_thread::sleep_for(20ms);
  const ServiceStats after = server.service->stats();
  std::printf(
      "%zu streams (%lld in flight at the peak), half left mid-stream: %zu of %zu others "
      "complete; after: %lld in flight, KV blocks free %lld of %lld, fds %zu (baseline "
      "%zu), threads %zu (baseline %zu)\n",
      kStreams, (long long)busy.in_flight, done, kStreams / 2, (long long)after.in_flight,
      (long long)after.engine.kv_blocks_free, (long long)after.engine.kv_blocks_total,
      open_file_count(), fds, thread_count(), threads);
  EXPECT_TRUE(rest);
  EXPECT_EQ(done, kStreams / 2);
  EXPECT_EQ(after.in_flight, 0);
  EXPECT_EQ(after.engine.kv_blocks_free, after.engine.kv_blocks_total);
  EXPECT_EQ(open_file_count(), fds);
  EXPECT_EQ(thread_count(), threads);
  EXPECT_EQ(server.get("/health").status, 200);
}

TEST(Reliability, ConnectionsBeyondTheLimitGet503AndAClose) {
  TestServerOptions options;
  options.limits.max_connections = 50;
  TestServer server(options);
  RawConnections admitted, refused;
  ASSERT_EQ(admitted.open(server.port, 50), 50u);
  for (size_t i = 0; i < 50; ++i) admitted.send(i, get_request("/health"));
  ASSERT_TRUE(admitted.run(Clock::now() + 10s, complete));
  ASSERT_EQ(refused.open(server.port, 10), 10u);
  for (size_t i = 0; i < 10; ++i) refused.send(i, get_request("/health"));
  EXPECT_TRUE(refused.run(Clock::now() + 10s, [](const RawConnection& r) { return r.closed; }));
  for (size_t i = 0; i < 10; ++i) {
    const RawResponse r = parse_response(refused[i].in, refused[i].closed);
    EXPECT_EQ(r.status, 503) << refused[i].in;
    EXPECT_NE(r.head.find("retry-after: "), std::string::npos) << r.head;
    EXPECT_EQ(refused[i].error, 0) << "reset instead of closed";
  }
  // One place frees: a later connection is served. Each try is a connection of its own whose
  // place frees only once the server sees it closed, so the try that succeeds is the check.
  admitted.close(0);
  int status = 0;
  for (int i = 0; i < 100 && (status = server.get("/health").status) != 200; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(status, 200);
}

TEST(Reliability, IdleConnectionsCloseAfterTheKeepAliveTimeout) {
  TestServerOptions options;
  options.limits.keep_alive_timeout_s = 0.5;
  TestServer server(options);
  RawConnections c;
  ASSERT_EQ(c.open(server.port, 1), 1u);
  c.send(0, get_request("/health"));
  ASSERT_TRUE(c.run(Clock::now() + 10s, complete));
  const auto answered = Clock::now();
  c[0].finished = false;
  ASSERT_TRUE(c.run(Clock::now() + 10s, [](const RawConnection& r) { return r.closed; }));
  const double idle = ms(Clock::now() - answered);
  EXPECT_GE(idle, 400.0);
  EXPECT_LT(idle, kSanitizedBuild ? 5000.0 : 1500.0);
}

TEST(Reliability, AClientThatDoesNotReadIsDroppedWithoutHoldingOthers) {
  TestServerOptions options;
  options.limits.stream_buffer_bytes = 8 << 10;
  options.limits.write_timeout_s = 1.0;
  TestServer server(options);
  RawConnections stalled;
  ASSERT_EQ(stalled.open(server.port, 1, 2048), 1u);
  // Every token with its alternatives, in pipelined streams: far more than the kernel buffers
  // hold (megabytes on loopback).
  const Json body = {{"inputs", "Once upon a time"},
                     {"parameters",
                      {{"max_new_tokens", 400},
                       {"ignore_eos_token", true},
                       {"details", true},
                       {"return_k_alternatives", 20}}}};
  constexpr size_t kPipelined = 24;
  for (size_t i = 0; i < kPipelined; ++i)
    stalled.send(0, post_request("/generate_stream", body.dump()));
  // The stalled client reads nothing until the server has dropped it (its request recorded as
  // a client that left); others are served meanwhile.
  const auto limit = Clock::now() + (kSanitizedBuild ? 120s : 30s);
  auto dropped = [&] {
    return server
               .metric(
                   "lorax_adapter_request_count{adapter=\"base\",outcome=\"client_disconnected\"}")
               .value_or(0) >= 1;
  };
  std::vector<double> others_ms;
  while (Clock::now() < limit && !dropped()) {
    const auto t0 = Clock::now();
    EXPECT_EQ(server.post_raw("/generate", generate_body(4)).status, 200);
    others_ms.push_back(ms(Clock::now() - t0));
  }
  for (int i = 0; i < 100 && server.service->stats().in_flight > 0; ++i)
    std::this_thread::sleep_for(10ms);
  const ServiceStats stats = server.service->stats();
  stalled.run(Clock::now() + 10s, [](const RawConnection& r) { return r.closed; });
  const size_t answered = parse_responses(stalled[0].in, false).size();
  std::printf(
      "a client reading nothing: dropped after %zu bytes were delivered (%zu of %zu "
      "streams), %lld in flight after; others p99 %.1f ms over %zu requests\n",
      stalled[0].in.size(), answered, kPipelined, (long long)stats.in_flight,
      percentile(others_ms, 0.99), others_ms.size());
  EXPECT_TRUE(stalled[0].closed || stalled[0].error) << "the stalled client was not dropped";
  EXPECT_LT(answered, kPipelined) << "every stream ended normally: nothing piled up";
  EXPECT_EQ(stats.in_flight, 0);
  if (!kSanitizedBuild) {
    EXPECT_LT(percentile(others_ms, 0.99), 100.0);
  }
}

TEST(Reliability, DrainingAnswers503OnHealth) {
  TestServer server;
  server.server->drain();
  const Reply health = server.get("/health");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_EQ(health.headers.count("Retry-After"), 1u);
}

TEST(Reliability, SigtermEndsEveryStreamWithItsLastEventOrAnErrorEvent) {
  TempDir dir;
  // Half the streams are short enough to end within the grace period, half are cut by it.
  ServeProcess serve({"--model", model_dir("stories260K"), "--max-concurrent-requests", "256",
                      "--shutdown-grace", "1.5"},
                     dir.file("serve.log"));
  ASSERT_GT(serve.port(), 0) << read_file(dir.file("serve.log"));
  constexpr size_t kStreams = 100;
  RawConnections c;
  ASSERT_EQ(c.open(serve.port(), kStreams), kStreams);
  for (size_t i = 0; i < kStreams; ++i)
    c.send(i, post_request("/generate_stream", generate_body(i % 2 ? 40 : 400, true)));
  c.run(Clock::now() + 60s,
        [](const RawConnection& r) { return r.in.find("data:") != std::string::npos; });
  for (size_t i = 0; i < kStreams; ++i) c[i].finished = false;
  const auto signalled = Clock::now();
  std::thread stopper([&] {
    const int status = serve.stop(SIGTERM, 30s);
    EXPECT_EQ(status, 0) << read_file(dir.file("serve.log"));
  });
  c.run(signalled + 30s, [](const RawConnection& r) { return complete(r) || r.closed; });
  stopper.join();
  size_t last = 0, error = 0, cut = 0;
  for (size_t i = 0; i < kStreams; ++i) {
    const RawResponse r = parse_response(c[i].in, c[i].closed);
    const Json event = r.complete ? last_event(r) : Json(nullptr);
    if (ended_with_text(event))
      ++last;
    else if (event.is_object() && event.contains("error"))
      ++error;
    else
      ++cut;
  }
  std::printf(
      "SIGTERM with %zu streams in flight: %zu ended with their last event, %zu with an "
      "error event, %zu cut; exited after %.0f ms\n",
      kStreams, last, error, cut, ms(Clock::now() - signalled));
  EXPECT_EQ(cut, 0u);
  EXPECT_EQ(last + error, kStreams);
}

// Copies the lora-ben adapter to `name` under `root` with one q_proj value set to NaN.
void nan_copy(const std::string& root, const std::string& name) {
  const std::string from = model_dir("stories260K") + "/adapters/lora-ben";
  fs::copy(from, root + "/" + name, fs::copy_options::recursive);
  const std::string weights = root + "/" + name + "/adapter_model.safetensors";
  const auto file = CheckpointTensors::open_file(weights);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& n : file.names()) {
    Tensor t = file.get(n).clone();
    if (n.find("q_proj.lora_A") != std::string::npos) t.data<float>()[0] = std::nanf("");
    tensors.emplace_back(n, std::move(t));
  }
  write_safetensors(weights, tensors);
}

TEST(Reliability, AdapterTrapsAreRefusedWhileOthersAreServed) {
  TempDir root, outside;
  write_file(outside.file("secret"), "not an adapter");
  const std::string ben = model_dir("stories260K") + "/adapters/lora-ben";
  fs::create_directory(root.file("trap"));
  fs::copy_file(ben + "/adapter_config.json", root.file("trap/adapter_config.json"));
  fs::create_symlink(outside.file("secret"), root.file("trap/adapter_model.safetensors"));
  nan_copy(root.path(), "nan");
  TestServerOptions options;
  options.adapter_root = root.path();
  TestServer server(options);
  constexpr size_t kStreams = 16;
  RawConnections c;
  ASSERT_EQ(c.open(server.port, kStreams), kStreams);
  for (size_t i = 0; i < kStreams; ++i)
    c.send(i, post_request("/generate_stream", generate_body(100, true)));
  auto local = [](const std::string& id) {
    return Json{
        {"inputs", "Once upon a time"},
        {"parameters", {{"adapter_id", id}, {"adapter_source", "local"}, {"max_new_tokens", 4}}}};
  };
  for (const std::string& id : {std::string("trap"), std::string("nan"), std::string("ben\x01x")}) {
    const Reply reply = server.post("/generate", local(id));
    EXPECT_GE(reply.status, 400) << id << ": " << reply.body;
    EXPECT_LT(reply.status, 500) << id << ": " << reply.body;
    EXPECT_TRUE(reply.json.contains("error")) << reply.body;
    EXPECT_FALSE(reply.json.value("error", "").empty()) << reply.body;
    EXPECT_EQ(reply.body.find("not an adapter"), std::string::npos) << "quotes the target";
    const Reply other = server.post_raw("/generate", generate_body(3));
    EXPECT_EQ(other.status, 200) << other.body;
  }
  ASSERT_TRUE(c.run(Clock::now() + 60s, complete));
  for (size_t i = 0; i < kStreams; ++i)
    EXPECT_TRUE(ended_with_text(last_event(parse_response(c[i].in, c[i].closed))));
}

}  // namespace
}  // namespace lorax::testing
