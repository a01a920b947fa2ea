// Flags shared by every command that loads a model: where it is, the device it runs on, how many
// threads, the KV cache's size and dtype, and the engine's batch limits.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "adapters/adapter_store.h"
#include "backend/backend_factory.h"
#include "engine/engine.h"
#include "model/causal_lm.h"

namespace lorax {

struct ModelOptions {
  std::string model_dir;
  std::string device = "cpu";           // cpu, cuda, cuda:N
  std::string activation_dtype = "auto";  // auto (f32 on CPU, bf16 on CUDA), bf16, f32
  double gpu_memory_utilization = 0.90;  // share of the GPU's memory this process may use
  int threads = 0;  // 0: all hardware threads
  std::string kv_cache_dtype = "auto";
  int64_t kv_cache_tokens = 0;  // 0: sized from device memory on CUDA, 16384 on CPU
  int64_t block_size = 16;
  int64_t max_batch_prefill_tokens = 4096;
  bool chunked_prefill = true;
  double max_itl_factor = 2.0;
  bool prefix_caching = true;
  bool enforce_eager = false;  // no step graphs: every op launched one by one (vLLM's name)
  int64_t speculative_tokens = 0;   // drafts per decoding sequence and step (0: off, or heads)
  std::string speculative_adapter;  // Medusa heads whose guesses are every request's drafts
  int64_t speculation_max_batch_size = 32;
  int64_t max_running = 256;
  int64_t max_batch_total_tokens = 0;
  int64_t max_active_adapters = 128;
  int64_t adapter_cycle_time_ms = 2000;
  std::vector<std::string> adapters;  // NAME=DIR
  int64_t adapter_memory_mib = 1024;
  int64_t max_cached_adapters = int64_t(AdapterLimits{}.max_cached_adapters);
  int64_t max_adapter_file_mib = int64_t(kDefaultMaxAdapterFileBytes >> 20);
  bool allow_adapter_symlinks = false;  // registered adapters' files may link outside their dirs

  void add_to(CLI::App& app, bool model_required);
  DeviceSpec device_spec() const { return parse_device(device); }
  DType activation() const { return activation_dtype_for(device_spec(), activation_dtype); }
  // The KV cache's element type for a model with these activations (auto: the same).
  DType kv_cache(DType model_activation) const {
    return kv_cache_dtype == "auto" ? model_activation : parse_dtype(kv_cache_dtype);
  }
  std::unique_ptr<Backend> make_backend() const;
  // The engine's options for `model`. The KV cache takes --kv-cache-tokens when given; else on
  // a GPU what --gpu-memory-utilization leaves after weights, the model's workspace (planned
  // here) and --adapter-memory for the adapter pool; else 16384 tokens.
  EngineOptions engine_options(CausalLM& model) const;
};

// A loaded model with the backend it runs on.
struct LoadedModel {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<CausalLM> model;
};
LoadedModel load_model(const ModelOptions& options);
// Sets --speculative-adapter's Medusa heads on the model, if given.
void attach_speculative_heads(const ModelOptions& options, CausalLM& model);
// Loads onto an existing backend, which must outlive the model. Logs what it loaded.
std::unique_ptr<CausalLM> load_model(const ModelOptions& options, Backend& backend);

// An adapter store holding every --adapter NAME=DIR (loaded lazily, on first use).
std::unique_ptr<AdapterStore> make_adapter_store(const ModelOptions& options,
                                                 const CausalLM& model);

}  // namespace lorax
