#include "cli/model_options.h"

#include <chrono>

#include "core/log.h"

namespace lorax {

void ModelOptions::add_to(CLI::App& app, bool model_required) {
  auto* model = app.add_option("--model", model_dir, "Hugging Face checkpoint directory");
  if (model_required) model->required();
  app.add_option("--threads", threads, "CPU threads (0: all)")->check(CLI::Range(0, 1024));
  app.add_option("--kv-cache-dtype", kv_cache_dtype,
                 "KV cache element type: auto (activation dtype, f32 on CPU), f32, bf16, f16, fp8")
      ->check(CLI::IsMember({"auto", "f32", "bf16", "f16", "fp8", "fp8_e4m3"}));
  app.add_option("--kv-cache-tokens", kv_cache_tokens, "KV cache capacity in tokens")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--block-size", block_size, "tokens per KV cache block")
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-batch-prefill-tokens", max_batch_prefill_tokens,
                 "most prompt tokens in one prefill step")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--max-running", max_running, "most sequences decoding at once")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--max-batch-total-tokens", max_batch_total_tokens,
                 "most tokens of all running sequences together (0: the KV cache decides)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 40));
  app.add_option("--max-active-adapters", max_active_adapters,
                 "most distinct adapters decoding at once")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--adapter-cycle-time-ms", adapter_cycle_time_ms,
                 "how long an adapter keeps its slot while others wait for one")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 40));
  app.add_option("--adapter", adapters, "LoRA adapter NAME=DIR (PEFT directory); repeatable");
  app.add_option("--adapter-memory", adapter_memory_mib,
                 "MiB of adapter weights kept loaded (least recently used evicted)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_option("--max-adapters", max_cached_adapters,
                 "most adapters kept loaded at once, whatever their size")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--max-adapter-file-size", max_adapter_file_mib,
                 "MiB: a larger adapter_model.safetensors is refused before it is read")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
}

EngineOptions ModelOptions::engine_options() const {
  EngineOptions e;
  e.kv.block_size = block_size;
  e.kv.num_blocks = (kv_cache_tokens + block_size - 1) / block_size;
  e.kv.dtype = kv_cache_dtype == "auto" ? DType::F32 : parse_dtype(kv_cache_dtype);
  e.max_batch_prefill_tokens = max_batch_prefill_tokens;
  e.max_running = max_running;
  e.max_batch_total_tokens = max_batch_total_tokens;
  e.max_active_adapters = max_active_adapters;
  e.adapter_cycle_time = std::chrono::milliseconds(adapter_cycle_time_ms);
  return e;
}

LoadedModel load_model(const ModelOptions& options) {
  LoadedModel loaded;
  loaded.backend = std::make_unique<CpuBackend>(options.threads);
  loaded.model = load_model(options, *loaded.backend);
  return loaded;
}

std::unique_ptr<CausalLM> load_model(const ModelOptions& options, CpuBackend& backend) {
  const auto start = std::chrono::steady_clock::now();
  auto model = CausalLM::load(options.model_dir, backend);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ModelConfig& c = model->config();
  log_info("loaded ", c.model_type, " from ", options.model_dir, ": ", c.num_layers,
           " layers, hidden ", c.hidden_size, ", heads ", c.num_heads, "/", c.num_kv_heads, " x ",
           c.head_dim, ", vocab ", c.vocab_size, ", rope ", rope_type_name(c.rope.type), ", ",
           model->weights().nbytes() >> 20, " MiB of weights in ", seconds, " s on ",
           backend.name());
  return model;
}

std::unique_ptr<AdapterStore> make_adapter_store(const ModelOptions& options,
                                                 const CausalLM& model) {
  AdapterLimits limits;
  limits.max_cached_adapters = size_t(options.max_cached_adapters);
  limits.max_file_bytes = uint64_t(options.max_adapter_file_mib) << 20;
  auto store = std::make_unique<AdapterStore>(model.config(),
                                              size_t(options.adapter_memory_mib) << 20, limits);
  for (const std::string& spec : options.adapters) {
    const size_t eq = spec.find('=');
    LORAX_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < spec.size(), "--adapter '", spec,
                "' must be NAME=DIR");
    store->register_adapter(spec.substr(0, eq), spec.substr(eq + 1));
  }
  return store;
}

}  // namespace lorax
