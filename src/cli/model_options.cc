#include "cli/model_options.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "core/log.h"

namespace lorax {

void ModelOptions::add_to(CLI::App& app, bool model_required) {
  auto* model = app.add_option("--model", model_dir, "Hugging Face checkpoint directory");
  if (model_required) model->required();
  app.add_option("--device", device, "where the model runs: cpu, cuda or cuda:N")
      ->check([](const std::string& spec) {
        try {
          parse_device(spec);
          return std::string();
        } catch (const Error& e) {
          return std::string(e.what());
        }
      });
  app.add_option("--activation-dtype", activation_dtype,
                 "activations: auto (f32 on CPU, bf16 on CUDA), bf16, f32 (CUDA at full "
                 "precision, to check against references)")
      ->check(CLI::IsMember({"auto", "bf16", "f32"}));
  app.add_option("--gpu-memory-utilization", gpu_memory_utilization,
                 "share of the GPU's memory to use (weights, workspace, adapters, KV cache)")
      ->check(CLI::Range(0.05, 1.0));
  app.add_option("--threads", threads, "CPU threads (0: all)")->check(CLI::Range(0, 1024));
  app.add_option("--kv-cache-dtype", kv_cache_dtype,
                 "KV cache element type: auto (activation dtype, f32 on CPU), f32, bf16, f16, fp8")
      ->check(CLI::IsMember({"auto", "f32", "bf16", "f16", "fp8", "fp8_e4m3"}));
  app.add_option("--kv-cache-tokens", kv_cache_tokens,
                 "KV cache capacity in tokens (0: from GPU memory on CUDA, 16384 on CPU)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 30));
  app.add_option("--block-size", block_size, "tokens per KV cache block")
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-batch-prefill-tokens", max_batch_prefill_tokens,
                 "most prompt tokens in one prefill step")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  app.add_flag("--chunked-prefill,!--no-chunked-prefill", chunked_prefill,
               "read long prompts in chunks that share steps with running streams' decodes "
               "(default on)");
  app.add_option("--max-itl-factor", max_itl_factor,
                 "with chunked prefill, a step reading prompt tokens beside running streams is "
                 "kept within this factor of a decode-only step, predicted from measured step "
                 "times, so streams keep their pace while long prompts are read (0: off, only "
                 "--max-batch-prefill-tokens bounds a step)")
      ->check(CLI::Validator(
          [](std::string& text) {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            const bool ok =
                end != text.c_str() && *end == '\0' && (v == 0.0 || (v > 1.0 && v <= 100.0));
            return ok ? std::string() : "must be 0 (off) or a number above 1, at most 100";
          },
          "0 or (1, 100]"));
  app.add_flag("--prefix-caching,!--no-prefix-caching", prefix_caching,
               "reuse the KV blocks of prompt prefixes computed before for the same adapter "
               "(default on)");
  app.add_option("--speculative-tokens", speculative_tokens,
                 "speculative decoding: draft tokens each decoding sequence proposes a step, "
                 "copied from what followed the last n-gram earlier in its text (prompt lookup) "
                 "and verified in the same step; outputs do not change (0: off)")
      ->check(CLI::Range(int64_t(0), int64_t(16)));
  app.add_option("--speculative-adapter", speculative_adapter,
                 "Medusa heads (a directory with config.json and medusa_lm_head.safetensors, "
                 "version 1 or 2) whose guesses are every request's drafts; Llama models only")
      ->check(CLI::ExistingDirectory);
  app.add_option("--speculation-max-batch-size", speculation_max_batch_size,
                 "speculation pauses while more sequences than this decode at once")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 20));
  app.add_flag("--enforce-eager", enforce_eager,
               "run every step op by op: no recorded step graphs for decode (CUDA)");
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
  app.add_flag("--allow-adapter-symlinks", allow_adapter_symlinks,
               "let files of --adapter directories be symlinks leading outside them (adapters "
               "under --adapter-root never may)");
}

std::unique_ptr<Backend> ModelOptions::make_backend() const {
  return lorax::make_backend(device_spec(), threads);
}

namespace {

// KV cache tokens that fit in what --gpu-memory-utilization leaves of the device's memory.
int64_t kv_tokens_from_memory(const ModelOptions& o, CausalLM& model, DType kv_dtype,
                              int64_t adapter_bytes) {
  Backend& backend = model.backend();
  backend.synchronize();
  const DeviceMemoryInfo memory = backend.memory_info();
  const double budget = double(memory.total) * o.gpu_memory_utilization;
  const double used = double(memory.total - memory.free);  // weights, workspace, libraries
  const double left = budget - used - double(adapter_bytes);
  const HeadLayout heads = model.heads();
  const double per_token =
      2.0 * double(model.config().num_layers * heads.kv_width()) * double(dtype_size(kv_dtype));
  const int64_t tokens = left > 0 ? int64_t(left / per_token) : 0;
  LORAX_CHECK(tokens >= o.block_size, "no GPU memory left for the KV cache: ",
              int64_t(used) >> 20, " MiB in use of ", int64_t(budget) >> 20,
              " MiB allowed by --gpu-memory-utilization ", o.gpu_memory_utilization,
              " (and ", adapter_bytes >> 20, " MiB kept for adapters)");
  log_info("KV cache: ", tokens, " tokens (", int64_t(double(tokens) * per_token) >> 20,
           " MiB of ", dtype_name(kv_dtype), ") from ", memory.free >> 20, " MiB free of ",
           memory.total >> 20, " MiB");
  return tokens;
}

}  // namespace

EngineOptions ModelOptions::engine_options(CausalLM& model) const {
  model.set_step_graphs(!enforce_eager);
  EngineOptions e;
  e.kv.block_size = block_size;
  e.kv.dtype = kv_cache(model.activation_dtype());
  e.max_batch_prefill_tokens = max_batch_prefill_tokens;
  e.chunked_prefill = chunked_prefill;
  e.max_itl_factor = max_itl_factor;
  e.prefix_caching = prefix_caching;
  e.max_running = max_running;
  e.max_batch_total_tokens = max_batch_total_tokens;
  e.max_active_adapters = max_active_adapters;
  e.adapter_cycle_time = std::chrono::milliseconds(adapter_cycle_time_ms);
  e.speculative_tokens = speculative_tokens;
  // Medusa heads draft as many tokens as they have heads unless told fewer.
  if (const MedusaHeads* heads = model.speculative_heads())
    e.speculative_tokens = speculative_tokens > 0 ? std::min(speculative_tokens, heads->num_heads())
                                                  : heads->num_heads();
  e.speculation_max_batch_size = speculation_max_batch_size;
  int64_t tokens = kv_cache_tokens;
  if (tokens == 0 && model.backend().device() == Device::CUDA) {
    model.plan(e.max_step_tokens(), max_running);
    tokens = kv_tokens_from_memory(*this, model, e.kv.dtype, adapter_memory_mib << 20);
  }
  if (tokens == 0) tokens = 16384;
  e.kv.num_blocks = (tokens + block_size - 1) / block_size;
  return e;
}

LoadedModel load_model(const ModelOptions& options) {
  LoadedModel loaded;
  loaded.backend = options.make_backend();
  loaded.model = load_model(options, *loaded.backend);
  return loaded;
}

std::unique_ptr<CausalLM> load_model(const ModelOptions& options, Backend& backend) {
  const auto start = std::chrono::steady_clock::now();
  auto model = CausalLM::load(options.model_dir, backend, options.activation());
  attach_speculative_heads(options, *model);
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

void attach_speculative_heads(const ModelOptions& options, CausalLM& model) {
  if (options.speculative_adapter.empty()) return;
  model.set_speculative_heads(MedusaHeads::load(options.speculative_adapter,
                                                options.speculative_adapter, model.config(),
                                                model.backend(), model.activation_dtype()));
}

std::unique_ptr<AdapterStore> make_adapter_store(const ModelOptions& options,
                                                 const CausalLM& model) {
  AdapterLimits limits;
  limits.max_cached_adapters = size_t(options.max_cached_adapters);
  limits.max_file_bytes = uint64_t(options.max_adapter_file_mib) << 20;
  limits.allow_registered_symlinks = options.allow_adapter_symlinks;
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
