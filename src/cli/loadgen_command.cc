#include "cli/loadgen_command.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/log.h"

namespace lorax {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct ClientResult {
  std::vector<double> ttft_ms;
  std::vector<double> itl_ms;
  int64_t tokens = 0;
  int64_t ok = 0;
  int64_t errors = 0;
  std::string last_error;
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
      const auto now = Clock::now();
      (tokens == 0 ? r.ttft_ms : r.itl_ms).push_back(seconds(now - last) * 1e3);
      last = now;
      ++tokens;
    }
    return true;
  };
  auto res = http.send(req);
  if (!res || res->status != 200) {
    ++r.errors;
    r.last_error = res ? "HTTP " + std::to_string(res->status) + " " + res->body
                       : "connection failed: " + httplib::to_string(res.error());
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
    all.tokens += r.tokens, all.ok += r.ok, all.errors += r.errors;
    if (!r.last_error.empty()) all.last_error = r.last_error;
  }
  std::printf("\nlorax loadgen: %d clients over %zu adapters, %d requests each, %d new tokens\n",
              o.clients, adapters.size(), o.requests_per_client, o.max_new_tokens);
  std::printf("| requests ok | errors | tokens | wall s | tokens/s | requests/s |\n");
  std::printf("|------------:|-------:|-------:|-------:|---------:|-----------:|\n");
  std::printf("| %11lld | %6lld | %6lld | %6.1f | %8.1f | %10.2f |\n\n", (long long)all.ok,
              (long long)all.errors, (long long)all.tokens, wall, double(all.tokens) / wall,
              double(all.ok) / wall);
  std::printf("| latency ms | p50 | p90 | p99 |\n|---|---:|---:|---:|\n");
  std::printf("| time to first token | %.1f | %.1f | %.1f |\n", percentile(all.ttft_ms, 0.5),
              percentile(all.ttft_ms, 0.9), percentile(all.ttft_ms, 0.99));
  std::printf("| inter-token | %.1f | %.1f | %.1f |\n", percentile(all.itl_ms, 0.5),
              percentile(all.itl_ms, 0.9), percentile(all.itl_ms, 0.99));
  if (all.errors) std::printf("\nlast error: %s\n", all.last_error.c_str());
  return all.errors == 0 ? 0 : 1;
}

}  // namespace lorax
