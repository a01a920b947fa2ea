#include "cli/bench_command.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "core/log.h"
#include "core/thread_pool.h"
#include "tokenizer/tokenizer.h"

namespace lorax {

ModelConfig synthetic_config(const std::string& shape) {
  ModelConfig c;
  if (shape == "llama-3.2-1b") {
    c.model_type = "llama";
    c.vocab_size = 128256, c.hidden_size = 2048, c.intermediate_size = 8192;
    c.num_layers = 16, c.num_heads = 32, c.num_kv_heads = 8, c.head_dim = 64;
    c.rms_norm_eps = 1e-5, c.rope_theta = 500000.0, c.tie_word_embeddings = true;
    c.max_position_embeddings = 131072;
    c.rope.type = RopeScaling::Type::Llama3;
    c.rope.factor = 32.0, c.rope.low_freq_factor = 1.0, c.rope.high_freq_factor = 4.0;
    c.rope.original_max_position_embeddings = 8192;
    c.activation = Activation::Silu;
  } else if (shape == "gemma-2b") {
    c.model_type = "gemma";
    c.vocab_size = 256000, c.hidden_size = 2048, c.intermediate_size = 16384;
    c.num_layers = 18, c.num_heads = 8, c.num_kv_heads = 1, c.head_dim = 256;
    c.rms_norm_eps = 1e-6, c.rope_theta = 10000.0, c.tie_word_embeddings = true;
    c.max_position_embeddings = 8192;
    c.activation = Activation::GeluTanh;
  } else if (shape == "tiny") {
    c.model_type = "llama";
    c.vocab_size = 512, c.hidden_size = 64, c.intermediate_size = 176;
    c.num_layers = 2, c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 16;
    c.max_position_embeddings = 2048;
  } else {
    fail("unknown bench shape '", shape, "' (llama-3.2-1b, gemma-2b, tiny)");
  }
  c.validate("bench shape " + shape);
  return c;
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Read bandwidth of this machine with the same thread count: sums a buffer much larger than the
// caches, best of three passes.
double measure_read_bandwidth(int threads) {
  const size_t bytes = size_t(1) << 30;
  Tensor buffer = Tensor::empty({int64_t(bytes / 4)}, DType::F32);
  std::memset(buffer.raw(), 1, bytes);
  ThreadPool pool(threads);
  const int64_t chunks = 256;
  const int64_t per = int64_t(bytes / 4) / chunks;
  std::vector<float> sums(static_cast<size_t>(chunks));
  double best = 0.0;
  for (int pass = 0; pass < 3; ++pass) {
    const auto start = Clock::now();
    pool.parallel_for(chunks, [&](int64_t c) {
      const float* p = buffer.data<float>() + c * per;
      float acc[16] = {};
      for (int64_t i = 0; i < per; i += 16)
        for (int j = 0; j < 16; ++j) acc[j] += p[i + j];
      float total = 0;
      for (float a : acc) total += a;
      sums[size_t(c)] = total;
    });
    best = std::max(best, double(bytes) / seconds_since(start));
  }
  return best;
}

struct Measurement {
  int64_t batch;
  int64_t adapters;
  double prefill_tok_s;
  double decode_tok_s;
};

// Random LoRA adapters on every projection, made once and shared by the measurements.
std::vector<std::shared_ptr<const LoraAdapter>> make_bench_adapters(const CausalLM& model,
                                                                     const BenchOptions& options) {
  int64_t most = 0;
  for (int64_t n : options.adapter_counts) most = std::max(most, n);
  std::vector<std::shared_ptr<const LoraAdapter>> out;
  for (int64_t i = 0; i < most; ++i)
    out.push_back(LoraAdapter::from_weights(
        "bench-" + std::to_string(i),
        random_lora_weights(model.config(), options.adapter_rank, uint64_t(i + 1))));
  return out;
}

Measurement measure(CausalLM& model, const BenchOptions& options, int64_t batch,
                    const std::vector<std::shared_ptr<const LoraAdapter>>& adapters,
                    int64_t adapter_count) {
  EngineOptions engine_options = options.model.engine_options();
  engine_options.kv.num_blocks = std::max<int64_t>(
      engine_options.kv.num_blocks,
      batch * ((options.prompt_tokens + options.decode_tokens) / engine_options.kv.block_size + 2));
  engine_options.max_batch_prefill_tokens = batch * options.prompt_tokens;
  Engine engine(model, engine_options);
  for (int64_t b = 0; b < batch; ++b) {
    GenerationRequest r;
    for (int64_t i = 0; i < options.prompt_tokens; ++i)
      r.prompt_ids.push_back(int32_t((i * 7919 + b * 104729 + 1) % model.config().vocab_size));
    r.max_new_tokens = options.decode_tokens + 1;  // the first comes from the prefill
    r.ignore_eos = true;
    if (adapter_count > 0) r.adapter = adapters[size_t(b % adapter_count)];
    engine.add(r);
  }
  auto start = Clock::now();
  engine.step();  // one prefill of every prompt
  const double prefill = seconds_since(start);
  start = Clock::now();
  int64_t decoded = 0;
  while (engine.has_work())
    for (const StepOutput& o : engine.step()) decoded += o.token ? 1 : 0;
  const double decode = seconds_since(start);
  return {batch, adapter_count, double(batch * options.prompt_tokens) / prefill,
          double(decoded) / decode};
}

}  // namespace

int run_bench(const BenchOptions& options) {
  CpuBackend backend(options.model.threads);
  std::unique_ptr<CausalLM> model;
  std::string label;
  if (!options.model.model_dir.empty()) {
    model = CausalLM::load(options.model.model_dir, backend);
    label = options.model.model_dir;
  } else {
    ModelConfig config = synthetic_config(options.shape);
    const DType dtype = parse_dtype(options.dtype);
    log_info("building random ", options.dtype, " weights for ", options.shape);
    ModelWeights weights = ModelWeights::random(config, dtype, 1234, backend);
    model = std::make_unique<CausalLM>(config, std::move(weights), backend);
    label = options.shape + " (random " + options.dtype + ")";
  }
  const ModelWeights& w = model->weights();
  // Bytes a decode step must read: every weight except an untied embedding table (only looked up).
  size_t step_bytes = w.nbytes();
  if (w.lm_head.raw() != w.embed_tokens.raw()) step_bytes -= w.embed_tokens.nbytes();
  log_info("measuring memory read bandwidth");
  const double bandwidth = measure_read_bandwidth(backend.threads());
  const double floor_steps = bandwidth / double(step_bytes);

  std::printf("\nlorax bench: %s on %s\n", label.c_str(), backend.name().c_str());
  std::printf(
      "weights read per decode step: %.1f MiB; read bandwidth: %.1f GB/s; "
      "decode ceiling: %.1f steps/s\n",
      double(step_bytes) / (1 << 20), bandwidth / 1e9, floor_steps);
  std::printf("prompt %lld tokens, %lld decode steps\n\n", (long long)options.prompt_tokens,
              (long long)options.decode_tokens);
  const auto adapters = make_bench_adapters(*model, options);
  {  // warm up: first touches of weights and buffers should not count against the base row
    BenchOptions warm = options;
    warm.prompt_tokens = std::min<int64_t>(options.prompt_tokens, 8);
    warm.decode_tokens = 2;
    measure(*model, warm, 1, adapters, 0);
  }
  if (!adapters.empty())
    std::printf("adapters: rank %lld on all seven projections, %.1f MiB each\n",
                (long long)options.adapter_rank,
                double(adapters[0]->nbytes()) / (1 << 20));
  std::printf("| batch | adapters | prefill tok/s | vs base | decode tok/s | vs base | "
              "decode ceiling tok/s | of ceiling |\n");
  std::printf("|------:|---------:|--------------:|--------:|-------------:|--------:|"
              "---------------------:|-----------:|\n");
  for (int64_t batch : options.batch_sizes) {
    std::optional<Measurement> base;
    for (int64_t count : options.adapter_counts) {
      if (count > batch) continue;  // each adapter needs at least one sequence
      if (count > 0 && !base) base = measure(*model, options, batch, adapters, 0);
      const Measurement m = measure(*model, options, batch, adapters, count);
      if (count == 0) base = m;
      const double ceiling = floor_steps * double(batch);
      std::printf("| %5lld | %8lld | %13.1f | %6.2fx | %12.1f | %6.2fx | %20.1f | %9.0f%% |\n",
                  (long long)m.batch, (long long)count, m.prefill_tok_s,
                  m.prefill_tok_s / base->prefill_tok_s, m.decode_tok_s,
                  m.decode_tok_s / base->decode_tok_s, ceiling, 100.0 * m.decode_tok_s / ceiling);
      std::fflush(stdout);
    }
  }
  return 0;
}

int run_tokenizer_bench(const std::vector<std::string>& tokenizer_paths) {
  // A mix that exercises the pre-tokenizer regexes, byte fallback and multi-byte UTF-8.
  const std::string sample =
      "Once upon a time, there was a little girl named Lily. She loved to play outside. "
      "int main(int argc, char** argv) { return argc > 1 ? 0 : -1; } // 12345 67.89\n"
      "Le renard brun rapide saute par-dessus le chien paresseux. Größe, Übermaß. "
      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0 "
      "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x98\x80\n";
  std::string text;
  while (text.size() < (size_t(1) << 20)) text += sample;
  std::printf("\nlorax bench: tokenizers, %.1f MB of mixed text, one thread\n\n",
              double(text.size()) / 1e6);
  std::printf("| tokenizer | vocab | load ms | encode MB/s |\n|---|---:|---:|---:|\n");
  for (const std::string& path : tokenizer_paths) {
    const auto start = Clock::now();
    const Tokenizer tokenizer = Tokenizer::from_file(path);
    const double load_ms = seconds_since(start) * 1e3;
    const double mb_s = measure_encode_mb_per_s(tokenizer, text, 3);
    std::printf("| %s | %zu | %.0f | %.1f |\n", path.c_str(), tokenizer.vocab_size(), load_ms,
                mb_s);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace lorax
