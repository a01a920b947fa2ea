#include "cli/bench_speculation.h"

#include <chrono>
#include <cstdio>
#include <iterator>
#include <map>
#include <random>

#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/engine.h"
#include "tokenizer/text_processor.h"

namespace lorax {

namespace {

using Clock = std::chrono::steady_clock;

// One engine run: the prefill step untimed, then every later step timed.
struct DecodeRun {
  double seconds = 0;
  int64_t steps = 0;      // engine steps after the prefill
  int64_t seq_steps = 0;  // sequences' decode steps (their first tokens excluded)
  int64_t tokens = 0;     // tokens generated after the first of each sequence
  int64_t proposed = 0, accepted = 0;
  std::vector<std::vector<int32_t>> outputs;  // prompt + generated, per request in order
};

DecodeRun run_engine(CausalLM& model, EngineOptions options,
                     const std::vector<GenerationRequest>& requests,
                     std::map<uint64_t, size_t>* index_of = nullptr) {
  Engine engine(model, options);
  std::map<uint64_t, size_t> order;
  for (size_t i = 0; i < requests.size(); ++i) order[engine.add(requests[i])] = i;
  if (index_of) *index_of = order;
  DecodeRun run;
  run.outputs.resize(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) run.outputs[i] = requests[i].prompt_ids;
  auto collect = [&](const std::vector<StepOutput>& outputs, bool decoding) {
    for (const StepOutput& o : outputs) {
      if (!o.token) continue;
      run.outputs[order.at(o.request_id)].push_back(o.token->id);
      if (!decoding) continue;
      ++run.tokens;
      run.seq_steps += o.skipped ? 0 : 1;
    }
  };
  // Every prompt is read in the first step (the budget holds them all): not timed.
  collect(engine.step(), false);
  model.backend().synchronize();
  const auto start = Clock::now();
  while (engine.has_work()) {
    collect(engine.step(), true);
    ++run.steps;
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  run.proposed = engine.stats().drafts_proposed;
  run.accepted = engine.stats().drafts_accepted;
  return run;
}

EngineOptions engine_options(const CausalLM& model, const BenchOptions& options, int64_t batch,
                             int64_t prompt_tokens) {
  EngineOptions e;
  e.kv.block_size = options.model.block_size;
  e.kv.dtype = options.model.kv_cache(model.activation_dtype());
  e.kv.num_blocks = batch * ((prompt_tokens + options.decode_tokens + 32) / e.kv.block_size + 2);
  e.max_batch_prefill_tokens = batch * prompt_tokens;
  e.max_running = batch;
  e.max_active_adapters = std::max<int64_t>(1, int64_t(options.model.adapters.size()));
  e.speculation_max_batch_size = batch;
  return e;
}

int64_t draft_count(const BenchOptions& options) {
  return options.model.speculative_tokens > 0 ? options.model.speculative_tokens : 4;
}

void print_header() {
  std::printf("| %-50s | %9s | %10s | %8s | %10s | %8s | %9s |\n", "workload", "step ms",
              "vs plain", "acc/step", "tok/s", "speed-up", "same out");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(52, '-').c_str(),
              std::string(11, '-').c_str(), std::string(12, '-').c_str(),
              std::string(10, '-').c_str(), std::string(12, '-').c_str(),
              std::string(10, '-').c_str(), std::string(11, '-').c_str());
}

void print_run(const std::string& workload, const DecodeRun& run, const DecodeRun& plain,
               bool same) {
  const double step_ms = 1e3 * run.seconds / double(std::max<int64_t>(run.steps, 1));
  const double plain_ms = 1e3 * plain.seconds / double(std::max<int64_t>(plain.steps, 1));
  const double tok_s = double(run.tokens) / run.seconds;
  const double plain_tok_s = double(plain.tokens) / plain.seconds;
  std::printf("| %-50s | %9.3f | %9.3fx | %8.2f | %10.1f | %7.2fx | %9s |\n", workload.c_str(),
              step_ms, step_ms / plain_ms,
              double(run.accepted) / double(std::max<int64_t>(run.seq_steps, 1)), tok_s,
              tok_s / plain_tok_s, same ? "yes" : "NO");
  std::fflush(stdout);
}

// Verification cost with a drafter of known accuracy: it proposes the plain run's continuation,
// each token replaced by a surely wrong one with probability 1 - p.
void verification_rows(CausalLM& model, const BenchOptions& options, int64_t batch) {
  const int64_t vocab = model.config().vocab_size;
  std::vector<GenerationRequest> requests;
  for (int64_t b = 0; b < batch; ++b) {
    GenerationRequest r;
    for (int64_t i = 0; i < options.prompt_tokens; ++i)
      r.prompt_ids.push_back(int32_t((i * 7919 + b * 104729 + 1) % vocab));
    r.max_new_tokens = options.decode_tokens + 1;  // the first comes from the prefill
    r.ignore_eos = true;
    requests.push_back(std::move(r));
  }
  const EngineOptions plain_options = engine_options(model, options, batch, options.prompt_tokens);
  run_engine(model, plain_options, requests);  // warm-up: workspace, step graphs
  const DecodeRun plain = run_engine(model, plain_options, requests);
  const std::string label = "batch " + std::to_string(batch) + ", ";
  print_run(label + "plain decode", plain, plain, true);
  // p = 0 twice: the first run warms what verification steps use (workspace, kernels).
  const double accuracies[] = {-1.0, 0.0, 0.5, 0.8};
  for (size_t row = 0; row < std::size(accuracies); ++row) {
    const double p = accuracies[row];
    EngineOptions e = plain_options;
    e.speculative_tokens = draft_count(options);
    std::map<uint64_t, size_t> index_of;
    std::mt19937_64 rng(uint64_t(batch) * 1000 + row);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    e.draft_proposer = [&](uint64_t id, std::span<const int32_t> tokens, int64_t most) {
      const std::vector<int32_t>& truth = plain.outputs[index_of.at(id)];
      std::vector<int32_t> drafts;
      if (!std::equal(tokens.begin(), tokens.end(), truth.begin())) return drafts;
      for (size_t i = tokens.size(); i < truth.size() && int64_t(drafts.size()) < most; ++i) {
        int32_t t = truth[i];
        if (uniform(rng) >= p) t = int32_t((t + 1 + int64_t(rng() % uint64_t(vocab - 1))) % vocab);
        drafts.push_back(t);
      }
      return drafts;
    };
    const DecodeRun run = run_engine(model, e, requests, &index_of);
    if (p < 0) continue;
    char what[96];
    std::snprintf(what, sizeof what, "1 + %lld tokens, drafts right with p = %.1f",
                  static_cast<long long>(e.speculative_tokens), p);
    print_run(label + what, run, plain, run.outputs == plain.outputs);
  }
}

// Real prompts on the base model and every --adapter, greedy, in one batch.
void prompt_rows(CausalLM& model, const BenchOptions& options) {
  const auto text = TextProcessor::from_model_dir(options.model.model_dir);
  LORAX_CHECK(text.has_value(), "--prompt needs a model directory with a tokenizer.json");
  std::vector<std::shared_ptr<const LoraAdapter>> adapters{nullptr};
  for (const std::string& spec : options.model.adapters) {
    const size_t eq = spec.find('=');
    LORAX_CHECK(eq != std::string::npos, "--adapter wants NAME=DIR, got ", spec);
    adapters.push_back(LoraAdapter::load(spec.substr(0, eq), spec.substr(eq + 1), model.config()));
  }
  std::vector<GenerationRequest> requests;
  int64_t longest = 0;
  for (const auto& adapter : adapters)
    for (const std::string& prompt : options.prompts) {
      GenerationRequest r;
      r.prompt_ids = text->encode_prompt(prompt);
      r.max_new_tokens = options.decode_tokens;
      r.adapter = adapter;
      longest = std::max(longest, int64_t(r.prompt_ids.size()));
      requests.push_back(std::move(r));
    }
  const int64_t batch = int64_t(requests.size());
  EngineOptions e = engine_options(model, options, batch, longest);
  const DecodeRun plain = run_engine(model, e, requests);
  e.speculative_tokens = draft_count(options);
  const DecodeRun lookup = run_engine(model, e, requests);
  std::printf("\n%zu prompts x %zu (base and adapters), %lld new tokens each, greedy:\n\n",
              options.prompts.size(), adapters.size(),
              static_cast<long long>(options.decode_tokens));
  print_header();
  print_run("plain decode", plain, plain, true);
  print_run("prompt lookup, N = " + std::to_string(e.speculative_tokens), lookup, plain,
            lookup.outputs == plain.outputs);
  std::printf("\nprompt lookup proposed %lld drafts in %lld sequence steps, accepted %lld\n",
              static_cast<long long>(lookup.proposed), static_cast<long long>(lookup.seq_steps),
              static_cast<long long>(lookup.accepted));
}

}  // namespace

void run_speculation_bench(CausalLM& model, const BenchOptions& options) {
  std::printf("\nverification steps (%lld-token prompts, %lld decode steps):\n\n",
              static_cast<long long>(options.prompt_tokens),
              static_cast<long long>(options.decode_tokens));
  print_header();
  for (int64_t batch : options.batch_sizes) verification_rows(model, options, batch);
  if (!options.prompts.empty()) prompt_rows(model, options);
}

}  // namespace lorax
