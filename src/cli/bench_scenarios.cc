#include "cli/bench_scenarios.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "engine/engine.h"

namespace lorax {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5));
  return v[i];
}

// The median and the 99th percentile of a set of latencies, in ms.
struct Spread {
  double p50 = 0, p99 = 0;
};

Spread spread(const std::vector<double>& ms) {
  return {percentile(ms, 50), percentile(ms, 99)};
}

// Deterministic token ids in [2, vocab): distinct streams for distinct salts.
std::vector<int32_t> tokens(int64_t n, uint64_t salt, int64_t vocab) {
  std::vector<int32_t> out;
  uint64_t x = salt * 0x9e3779b97f4a7c15ull + 1;
  for (int64_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    out.push_back(int32_t(2 + x % uint64_t(vocab - 2)));
  }
  return out;
}

EngineOptions scenario_engine(const BenchOptions& options, const CausalLM& model,
                              int64_t kv_tokens) {
  EngineOptions e;
  e.kv.block_size = options.model.block_size;
  e.kv.dtype = options.model.kv_cache(model.activation_dtype());
  e.kv.num_blocks = (kv_tokens + e.kv.block_size - 1) / e.kv.block_size;
  e.max_active_adapters = 8;
  e.max_itl_factor = options.model.max_itl_factor;
  return e;
}

struct SharedPromptResult {
  int64_t prompt_tokens_computed = 0;
  int64_t cached_tokens = 0;
  Spread ttft;
  double seconds = 0;
};

SharedPromptResult shared_prompts(CausalLM& model, const BenchOptions& options,
                                  bool prefix_caching) {
  const int64_t vocab = model.config().vocab_size;
  EngineOptions e = scenario_engine(options, model, 40000);
  e.prefix_caching = prefix_caching;
  Engine engine(model, e);
  std::vector<std::shared_ptr<const LoraAdapter>> adapters;
  for (int a = 0; a < 8; ++a)
    adapters.push_back(LoraAdapter::from_weights(
        "scenario-" + std::to_string(a), random_lora_weights(model.config(), 16, uint64_t(a + 1))));
  std::map<uint64_t, Clock::time_point> arrived;
  std::vector<double> ttft;
  SharedPromptResult r;
  const auto start = Clock::now();
  for (int64_t step = 0, next = 0; next < 64 || engine.has_work(); ++step) {
    if (next < 64) {  // one arrival per step, adapters in turn
      const int64_t a = next % 8;
      GenerationRequest q;
      q.prompt_ids = tokens(1000, uint64_t(a + 1), vocab);
      const auto tail = tokens(50, uint64_t(1000 + next), vocab);
      q.prompt_ids.insert(q.prompt_ids.end(), tail.begin(), tail.end());
      q.max_new_tokens = 16;
      q.ignore_eos = true;
      q.adapter = adapters[size_t(a)];
      arrived[engine.add(std::move(q))] = Clock::now();
      ++next;
    }
    for (const StepOutput& o : engine.step()) {
      auto it = arrived.find(o.request_id);
      if (!o.token || it == arrived.end()) continue;
      ttft.push_back(ms_between(it->second, Clock::now()));
      r.cached_tokens += o.cached_tokens;
      arrived.erase(it);
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.prompt_tokens_computed = engine.stats().prompt_tokens;
  r.ttft = spread(ttft);
  return r;
}

struct LongPromptResult {
  Spread steady, during;  // the streams' gaps between tokens: before it arrives, while it is read
  double long_ttft_ms = 0;
  int64_t steps_during = 0;
  double slowest_step_ms = 0;  // while it is read, and the prompt tokens that step computed
  int64_t slowest_step_tokens = 0;
};

// How the long prompt is read: whole, in fixed chunks, or in chunks the decode pace sizes.
struct Chunking {
  bool chunked = false;
  int64_t budget = 4096;
  double max_itl_factor = 0.0;
};

LongPromptResult long_prompt_among_streams(CausalLM& model, const BenchOptions& options,
                                           const Chunking& chunking) {
  const int64_t vocab = model.config().vocab_size;
  EngineOptions e = scenario_engine(options, model, 4096 + 32 * 200 + 1024);
  e.chunked_prefill = chunking.chunked;
  e.max_batch_prefill_tokens = chunking.budget;
  e.max_itl_factor = chunking.max_itl_factor;
  Engine engine(model, e);
  std::map<uint64_t, std::vector<Clock::time_point>> stream_tokens;
  for (int s = 0; s < 32; ++s) {
    GenerationRequest r;
    r.prompt_ids = tokens(32, uint64_t(5000 + s), vocab);
    r.max_new_tokens = 150;
    r.ignore_eos = true;
    stream_tokens[engine.add(std::move(r))];
  }
  auto record = [&](const std::vector<StepOutput>& outputs, uint64_t long_id) {
    bool long_started = false;
    for (const StepOutput& o : outputs) {
      if (!o.token) continue;
      if (o.request_id == long_id) long_started = true;
      auto it = stream_tokens.find(o.request_id);
      if (it != stream_tokens.end()) it->second.push_back(Clock::now());
    }
    return long_started;
  };
  for (int i = 0; i < 40; ++i) record(engine.step(), 0);  // admitted, then steady decoding
  GenerationRequest big;
  big.prompt_ids = tokens(4000, 99, vocab);
  big.max_new_tokens = 4;
  big.ignore_eos = true;
  const auto arrival = Clock::now();
  const uint64_t long_id = engine.add(std::move(big));
  LongPromptResult r;
  Clock::time_point first_token;
  for (bool started = false; !started; ++r.steps_during) {
    const auto before = Clock::now();
    const int64_t computed = engine.stats().prompt_tokens;
    started = record(engine.step(), long_id);
    first_token = Clock::now();
    if (ms_between(before, first_token) > r.slowest_step_ms) {
      r.slowest_step_ms = ms_between(before, first_token);
      r.slowest_step_tokens = engine.stats().prompt_tokens - computed;
    }
  }
  r.long_ttft_ms = ms_between(arrival, first_token);
  while (engine.has_work()) record(engine.step(), long_id);
  // Each stream's gaps between tokens: before the arrival (steady, after the first ten), and
  // those that overlap the long prompt's reading.
  std::vector<double> steady, during;
  for (const auto& [id, times] : stream_tokens)
    for (size_t t = 1; t < times.size(); ++t) {
      if (times[t] <= arrival && t > 10) steady.push_back(ms_between(times[t - 1], times[t]));
      if (times[t] > arrival && times[t - 1] < first_token)
        during.push_back(ms_between(times[t - 1], times[t]));
    }
  r.steady = spread(steady);
  r.during = spread(during);
  return r;
}

struct ServingResult {
  int64_t requests = 0, tokens = 0;
  double seconds = 0;
  Spread ttft, itl;
  double tokens_per_s() const { return double(tokens) / seconds; }
};

// Requests a serving load sends in all: --requests, or four per stream.
int64_t serving_requests(const BenchOptions& options) {
  return options.requests > 0 ? options.requests : 4 * options.streams;
}

// Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1).
class ZipfDraw {
 public:
  ZipfDraw(int64_t n, uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 1) {
    double sum = 0;
    for (int64_t k = 1; k <= n; ++k) cdf_.push_back(sum += 1.0 / double(k));
    for (double& c : cdf_) c /= sum;
  }
  int64_t operator()() {
    state_ ^= state_ << 13, state_ ^= state_ >> 7, state_ ^= state_ << 17;
    const double u = double(state_ >> 11) / double(uint64_t(1) << 53);
    const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
    return std::min<int64_t>(it - cdf_.begin(), int64_t(cdf_.size()) - 1);
  }

 private:
  std::vector<double> cdf_;
  uint64_t state_;
};

ServingResult serving_run(CausalLM& model, const BenchOptions& options,
                          const std::vector<std::shared_ptr<const LoraAdapter>>& adapters) {
  const int64_t vocab = model.config().vocab_size;
  const int64_t total = serving_requests(options);
  EngineOptions e = scenario_engine(
      options, model, options.streams * (options.prompt_tokens + options.decode_tokens + 32));
  e.max_running = options.streams;
  e.max_active_adapters = options.model.max_active_adapters;
  e.max_batch_prefill_tokens = options.model.max_batch_prefill_tokens;
  Engine engine(model, e);
  ZipfDraw zipf(std::max<int64_t>(int64_t(adapters.size()), 1), 7);
  struct InFlight {
    Clock::time_point sent, last;
    bool started = false;
  };
  std::map<uint64_t, InFlight> flying;
  int64_t sent = 0;
  auto send = [&] {
    GenerationRequest q;
    q.prompt_ids = tokens(options.prompt_tokens, uint64_t(20000 + sent), vocab);
    q.max_new_tokens = options.decode_tokens;
    q.ignore_eos = true;
    if (!adapters.empty()) q.adapter = adapters[size_t(zipf())];
    flying[engine.add(std::move(q))] = {Clock::now(), {}, false};
    ++sent;
  };
  ServingResult r;
  std::vector<double> ttft, itl;
  const auto start = Clock::now();
  while (sent < std::min(total, options.streams)) send();
  while (engine.has_work()) {
    const std::vector<StepOutput> outputs = engine.step();
    const auto now = Clock::now();
    for (const StepOutput& o : outputs) {
      auto it = flying.find(o.request_id);
      if (it == flying.end()) continue;
      if (o.token) {
        ++r.tokens;
        (it->second.started ? itl : ttft)
            .push_back(ms_between(it->second.started ? it->second.last : it->second.sent, now));
        it->second.started = true;
        it->second.last = now;
      }
      if (o.finish != FinishReason::None) {
        flying.erase(it);
        ++r.requests;
        if (sent < total) send();
      }
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.ttft = spread(ttft);
  r.itl = spread(itl);
  return r;
}

}  // namespace

void run_bench_scenarios(CausalLM& model, const BenchOptions& options) {
  std::printf(
      "\nshared system prompts: 64 requests, 8 adapters x 8 questions, 1,000-token system "
      "prompt + 50-token question, 16 new tokens each, one arrival per step\n\n");
  std::printf(
      "| prefix cache | prompt tokens computed | cached tokens | TTFT p50 ms | "
      "TTFT p99 ms | total s |\n|---|---:|---:|---:|---:|---:|\n");
  for (bool on : {false, true}) {
    const SharedPromptResult r = shared_prompts(model, options, on);
    std::printf("| %s | %lld | %lld | %.1f | %.1f | %.2f |\n", on ? "on" : "off",
                (long long)r.prompt_tokens_computed, (long long)r.cached_tokens, r.ttft.p50,
                r.ttft.p99, r.seconds);
    std::fflush(stdout);
  }
  std::printf("\na 4,000-token prompt arrives while 32 streams decode (32-token prompts)\n\n");
  std::printf(
      "| chunked prefill | steady ITL p50 ms | steady ITL p99 ms | ITL p50 ms during "
      "its prefill | ITL p99 ms during its prefill | steps to its first token | its "
      "TTFT ms | slowest step then ms (prompt tokens) "
      "|\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  const double factor = options.model.max_itl_factor > 0 ? options.model.max_itl_factor
                                                         : ModelOptions{}.max_itl_factor;
  char paced[96];
  std::snprintf(paced, sizeof paced, "on (4,096-token budget, chunks paced to %.2gx a decode step)",
                factor);
  const std::pair<const char*, Chunking> variants[] = {
      {"off (4,096-token budget)", {false, 4096, 0.0}},
      {"on (512-token chunks)", {true, 512, 0.0}},
      {paced, {true, 4096, factor}}};
  for (const auto& [label, chunking] : variants) {
    const LongPromptResult r = long_prompt_among_streams(model, options, chunking);
    std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %lld | %.1f | %.2f (%lld) |\n", label,
                r.steady.p50, r.steady.p99, r.during.p50, r.during.p99, (long long)r.steps_during,
                r.long_ttft_ms, r.slowest_step_ms, (long long)r.slowest_step_tokens);
    std::fflush(stdout);
  }
}

void run_serving_load(CausalLM& model, const BenchOptions& options) {
  const int64_t n = options.serving_adapters;
  log_info("building ", n, " random rank-16 adapters on q_proj and v_proj");
  std::vector<std::shared_ptr<const LoraAdapter>> adapters;
  for (int64_t i = 0; i < n; ++i) {
    adapters.push_back(
        LoraAdapter::from_weights("tenant-" + std::to_string(i),
                                  random_lora_weights(model.config(), 16, uint64_t(i + 1), 0.01f,
                                                      {LoraTarget::QProj, LoraTarget::VProj})));
    if ((i + 1) % 100 == 0 && i + 1 < n) log_info("  ", i + 1, " of ", n, " adapters built");
  }
  const int64_t total = serving_requests(options);
  std::printf(
      "\nserving: %lld requests in flight, %lld in all, prompts of %lld tokens, %lld new tokens "
      "each; adapters: %lld (%.1f MiB each in f32 on the host), Zipf s = 1, %lld device slots\n\n",
      (long long)options.streams, (long long)total, (long long)options.prompt_tokens,
      (long long)options.decode_tokens, (long long)n,
      double(adapters.front()->nbytes()) / double(1 << 20),
      (long long)options.model.max_active_adapters);
  std::printf(
      "| load | requests | generated tok/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms "
      "|\n|---|---:|---:|---:|---:|---:|---:|\n");
  ServingResult results[2];
  for (int with : {0, 1}) {
    const ServingResult r = serving_run(
        model, options, with ? adapters : std::vector<std::shared_ptr<const LoraAdapter>>{});
    results[with] = r;
    std::printf("| %s | %lld | %.1f | %.1f | %.1f | %.2f | %.2f |\n",
                with ? "adapters, Zipf" : "no adapters", (long long)r.requests, r.tokens_per_s(),
                r.ttft.p50, r.ttft.p99, r.itl.p50, r.itl.p99);
    std::fflush(stdout);
  }
  std::printf("\nwith adapters against without: throughput %.2fx, TTFT p99 %.2fx\n",
              results[1].tokens_per_s() / results[0].tokens_per_s(),
              results[1].ttft.p99 / std::max(results[0].ttft.p99, 1e-9));
}

}  // namespace lorax
