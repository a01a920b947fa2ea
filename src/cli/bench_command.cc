#include "cli/bench_command.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

#include "cli/bench_scenarios.h"
#include "cli/bench_speculation.h"
#include "core/log.h"
#ifdef LORAX_WITH_CUDA
#include "backend/cuda/cuda_backend.h"
#endif
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
  } else if (shape == "llama-3-8b") {
    c.model_type = "llama";
    c.vocab_size = 128256, c.hidden_size = 4096, c.intermediate_size = 14336;
    c.num_layers = 32, c.num_heads = 32, c.num_kv_heads = 8, c.head_dim = 128;
    c.rms_norm_eps = 1e-5, c.rope_theta = 500000.0, c.tie_word_embeddings = false;
    c.max_position_embeddings = 8192;
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
    fail("unknown bench shape '", shape, "' (llama-3-8b, llama-3.2-1b, gemma-2b, tiny)");
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
  double prefill_tok_s;
  double decode_tok_s;
};

// The hardware ceilings of the device the bench runs on, measured in the same run.
struct Ceilings {
  double bandwidth = 0;   // bytes/s a decode step's reads stream at
  double gemm_flops = 0;  // FLOP/s of a large bf16 GEMM (0: not measured on this device)
  std::string how;
};

Ceilings measure_ceilings(Backend& backend, int threads) {
  Ceilings c;
#ifdef LORAX_WITH_CUDA
  if (auto* gpu = dynamic_cast<CudaBackend*>(&backend)) {
    log_info("measuring the GPU's copy bandwidth and bf16 GEMM rate");
    c.bandwidth = gpu->measure_copy_bandwidth();
    c.gemm_flops = gpu->measure_gemm_flops();
    c.how = "device copy (read + write)";
    return c;
  }
#endif
  (void)backend;
  log_info("measuring memory read bandwidth");
  c.bandwidth = measure_read_bandwidth(threads);
  c.how = "read";
  return c;
}

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

// Runs `batch` prompts of `prompt_tokens` through one prefill step and `decode_tokens` decode
// steps; decode_tokens 0 measures the prefill alone.
Measurement measure(CausalLM& model, const BenchOptions& options, int64_t batch,
                    int64_t prompt_tokens, int64_t decode_tokens,
                    const std::vector<std::shared_ptr<const LoraAdapter>>& adapters,
                    int64_t adapter_count) {
  EngineOptions engine_options;
  engine_options.kv.block_size = options.model.block_size;
  engine_options.kv.dtype = options.model.kv_cache(model.activation_dtype());
  engine_options.kv.num_blocks =
      batch * ((prompt_tokens + decode_tokens) / engine_options.kv.block_size + 2);
  engine_options.max_batch_prefill_tokens = batch * prompt_tokens;
  engine_options.max_running = std::max<int64_t>(batch, 1);
  engine_options.max_active_adapters = std::max<int64_t>(adapter_count, 1);
  Engine engine(model, engine_options);
  // Adapters go into their device slots before the clock starts: the rows measure steps, not
  // the one-time upload of an adapter (which the serving load test sees).
  engine.warm_adapters({adapters.begin(), adapters.begin() + adapter_count});
  model.backend().synchronize();
  for (int64_t b = 0; b < batch; ++b) {
    GenerationRequest r;
    for (int64_t i = 0; i < prompt_tokens; ++i)
      r.prompt_ids.push_back(int32_t((i * 7919 + b * 104729 + 1) % model.config().vocab_size));
    r.max_new_tokens = decode_tokens + 1;  // the first comes from the prefill
    r.ignore_eos = true;
    if (adapter_count > 0) r.adapter = adapters[size_t(b % adapter_count)];
    engine.add(r);
  }
  auto start = Clock::now();
  engine.step();  // one prefill of every prompt (sampling included: its results are on the host)
  const double prefill = seconds_since(start);
  start = Clock::now();
  int64_t decoded = 0;
  while (engine.has_work())
    for (const StepOutput& o : engine.step()) decoded += o.token ? 1 : 0;
  const double decode = seconds_since(start);
  return {double(batch * prompt_tokens) / prefill,
          decode_tokens > 0 ? double(decoded) / decode : 0.0};
}

// Bytes one decode step reads: every weight except an untied embedding table (only looked up),
// the KV cache of every sequence at the given mean context, and each distinct adapter once.
double decode_step_bytes(const CausalLM& model, DType kv, int64_t batch, double mean_context,
                         double adapter_bytes) {
  const ModelWeights& w = model.weights();
  double bytes = double(w.nbytes());
  if (w.lm_head.raw() != w.embed_tokens.raw()) bytes -= double(w.embed_tokens.nbytes());
  const ModelConfig& c = model.config();
  const double kv_per_token =
      2.0 * double(c.num_layers * c.num_kv_heads * c.head_dim) * double(dtype_size(kv));
  return bytes + double(batch) * mean_context * kv_per_token + adapter_bytes;
}

// FLOPs of prefilling `batch` prompts of `tokens`: 2 per weight per token for every matmul (the
// head only on the last token of each prompt), plus causal attention (QK^T and PV, half the
// square).
double prefill_flops(const CausalLM& model, int64_t batch, int64_t tokens) {
  const ModelConfig& c = model.config();
  const double H = double(c.hidden_size), I = double(c.intermediate_size);
  const double q = double(c.num_heads * c.head_dim), kv = double(c.num_kv_heads * c.head_dim);
  const double per_layer = H * (q + 2 * kv) + q * H + 3 * H * I;
  const double n = double(batch * tokens);
  const double attention = 2.0 * 2.0 * double(c.num_layers) * q * double(batch) *
                           double(tokens) * double(tokens) / 2.0;
  return 2.0 * n * per_layer * double(c.num_layers) +
         2.0 * double(batch) * H * double(c.vocab_size) + attention;
}

// One table row; a limit of 0 means none is known on this device (the GEMM rate of a CPU).
void print_row(const std::string& workload, double figure, double limit, const char* unit) {
  if (limit > 0) {
    std::printf("| %-48s | %12.1f | %12.1f | %-14s | %8.1f%% |\n", workload.c_str(), figure,
                limit, unit, 100.0 * figure / limit);
  } else {
    std::printf("| %-48s | %12.2f | %12s | %-14s | %9s |\n", workload.c_str(), figure, "-", unit,
                "-");
  }
  std::fflush(stdout);
}

}  // namespace

int run_bench(const BenchOptions& options) {
  std::unique_ptr<Backend> backend = options.model.make_backend();
  const DType activation = options.model.activation();
  std::unique_ptr<CausalLM> model;
  std::string label;
  if (!options.model.model_dir.empty()) {
    model = CausalLM::load(options.model.model_dir, *backend, activation);
    label = options.model.model_dir;
  } else {
    ModelConfig config = synthetic_config(options.shape);
    // The scenarios' long prompt needs room that the tiny shape's table does not have.
    if (options.scenarios)
      config.max_position_embeddings = std::max<int64_t>(config.max_position_embeddings, 8192);
    const DType dtype = parse_dtype(options.dtype);
    log_info("building random ", options.dtype, " weights for ", options.shape);
    ModelWeights weights = ModelWeights::random(config, dtype, 1234, *backend, activation);
    model = std::make_unique<CausalLM>(config, std::move(weights), *backend, activation);
    label = options.shape + " (random " + options.dtype + ")";
  }
  model->set_step_graphs(!options.model.enforce_eager);
  if (options.speculation) {
    std::printf("\nlorax bench --speculation: %s on %s, %s activations\n", label.c_str(),
                backend->name().c_str(), std::string(dtype_name(activation)).c_str());
    run_speculation_bench(*model, options);
    return 0;
  }
  if (options.serving) {
    std::printf("\nlorax bench --serving: %s on %s, %s activations\n", label.c_str(),
                backend->name().c_str(), std::string(dtype_name(activation)).c_str());
    run_serving_load(*model, options);
    return 0;
  }
  if (options.scenarios) {
    std::printf("\nlorax bench --scenarios: %s on %s, %s activations\n", label.c_str(),
                backend->name().c_str(), std::string(dtype_name(activation)).c_str());
    run_bench_scenarios(*model, options);
    return 0;
  }
  const int threads = options.model.threads > 0 ? options.model.threads
                                                : int(std::thread::hardware_concurrency());
  const Ceilings ceilings = measure_ceilings(*backend, threads);
  const DType kv = options.model.kv_cache(model->activation_dtype());

  std::printf("\nlorax bench: %s on %s, %s activations\n", label.c_str(),
              backend->name().c_str(), std::string(dtype_name(activation)).c_str());
  std::printf("ceilings measured in this run: %s bandwidth %.1f GB/s", ceilings.how.c_str(),
              ceilings.bandwidth / 1e9);
  if (ceilings.gemm_flops > 0)
    std::printf(", bf16 GEMM %.1f TFLOP/s", ceilings.gemm_flops / 1e12);
  std::printf(
      "\nweights read per decode step: %.1f MiB; prompts %lld tokens, %lld decode steps\n\n",
      decode_step_bytes(*model, kv, 0, 0, 0) / (1 << 20), (long long)options.prompt_tokens,
      (long long)options.decode_tokens);
  const auto adapters = make_bench_adapters(*model, options);
  const double adapter_bytes =
      adapters.empty() ? 0.0
                       : double(adapters[0]->nbytes()) / 4.0 * double(dtype_size(activation));
  {  // warm up: first touches of weights and buffers should not count against the base row
    measure(*model, options, 1, std::min<int64_t>(options.prompt_tokens, 8), 2, adapters, 0);
  }
  if (!adapters.empty())
    std::printf("adapters: rank %lld on all seven projections, %.1f MiB each\n\n",
                (long long)options.adapter_rank, adapter_bytes / (1 << 20));
  std::printf("| %-48s | %12s | %12s | %-14s | %9s |\n", "workload", "figure", "limit", "unit",
              "of limit");
  std::printf("|%s|-------------:|-------------:|%s|----------:|\n", std::string(50, '-').c_str(),
              std::string(16, '-').c_str());
  const double mean_context = double(options.prompt_tokens) + double(options.decode_tokens) / 2;
  for (int64_t batch : options.batch_sizes) {
    std::optional<Measurement> base;
    for (int64_t count : options.adapter_counts) {
      if (count > batch) continue;  // each adapter needs at least one sequence
      const Measurement m = measure(*model, options, batch, options.prompt_tokens,
                                    options.decode_tokens, adapters, count);
      if (count == 0) base = m;
      const std::string what = "batch " + std::to_string(batch) + ", " + std::to_string(count) +
                               " adapters";
      const double bytes =
          decode_step_bytes(*model, kv, batch, mean_context, double(count) * adapter_bytes);
      print_row("decode, " + what, m.decode_tok_s, ceilings.bandwidth / bytes * double(batch),
                "tok/s (bytes)");
      const double prefill_limit =
          ceilings.gemm_flops > 0
              ? ceilings.gemm_flops / prefill_flops(*model, batch, options.prompt_tokens) *
                    double(batch * options.prompt_tokens)
              : 0.0;
      print_row("prefill " + std::to_string(options.prompt_tokens) + " tokens, " + what,
                m.prefill_tok_s, prefill_limit, "tok/s (FLOPs)");
      if (count == 0 && model->step_graphs()) {  // what the recorded step graphs save
        model->set_step_graphs(false);
        const Measurement eager = measure(*model, options, batch, options.prompt_tokens,
                                          options.decode_tokens, adapters, 0);
        model->set_step_graphs(!options.model.enforce_eager);
        print_row("  decode without step graphs, batch " + std::to_string(batch),
                  eager.decode_tok_s, ceilings.bandwidth / bytes * double(batch), "tok/s (bytes)");
      }
      if (base && count > 0) {
        print_row("  decode vs base in this run, " + what, m.decode_tok_s / base->decode_tok_s, 0,
                  "x");
        print_row("  prefill vs base in this run, " + what, m.prefill_tok_s / base->prefill_tok_s,
                  0, "x");
      }
    }
  }
  if (options.prefill_batch > 0) {
    const Measurement m = measure(*model, options, options.prefill_batch, options.prefill_tokens,
                                  0, adapters, 0);
    const double flops = prefill_flops(*model, options.prefill_batch, options.prefill_tokens);
    const double tokens = double(options.prefill_batch * options.prefill_tokens);
    print_row("prefill, " + std::to_string(options.prefill_batch) + " x " +
                  std::to_string(options.prefill_tokens),
              m.prefill_tok_s, ceilings.gemm_flops > 0 ? ceilings.gemm_flops / flops * tokens : 0,
              "tok/s (FLOPs)");
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
