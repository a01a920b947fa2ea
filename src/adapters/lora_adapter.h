// A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors), loaded and checked
// against the base model it will run on.
//
// Supported: LoRA on q/k/v/o/gate/up/down projections and the LM head; target_modules as a list
// (suffix match) or a regex string (full match); layers_to_transform; r and lora_alpha with
// rank_pattern / alpha_pattern overrides; rsLoRA (alpha / sqrt(r)); any float dtype (widened to
// f32 once, at load). Rejected with an error naming the adapter and the field or tensor: DoRA,
// modules_to_save, biases, embedding LoRA, pickle-only files, and anything whose layers, modules
// or shapes do not fit the base.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.h"
#include "backend/lora.h"
#include "io/model_config.h"
#include "io/safetensors.h"

namespace lorax {

// The largest adapter_model.safetensors loaded by default: rank 64 on every projection of a 70B
// model in bf16 is ~1.7 GB.
inline constexpr uint64_t kDefaultMaxAdapterFileBytes = uint64_t{2} << 30;

class LoraAdapter {
 public:
  struct Key {  // only load() constructs adapters
   private:
    Key() = default;
    friend class LoraAdapter;
  };
  explicit LoraAdapter(Key) {}

  // Throws lorax::Error naming the adapter and what is wrong; a weights file over
  // `max_file_bytes` is refused before it is opened.
  static std::shared_ptr<const LoraAdapter> load(
      const std::string& name, const std::string& dir, const ModelConfig& base,
      uint64_t max_file_bytes = kDefaultMaxAdapterFileBytes);

  // The checks and widening of load() on files already read: adapter_config.json's text and the
  // weights. `dir` only names the adapter in errors. (load() and the fuzz target use this.)
  static std::shared_ptr<const LoraAdapter> parse(const std::string& name, const std::string& dir,
                                                  std::string_view config_json,
                                                  const SafetensorsFile& weights,
                                                  const ModelConfig& base);

  // An adapter from weights already in memory (benchmarks, tests).
  static std::shared_ptr<const LoraAdapter> from_weights(const std::string& name,
                                                         std::shared_ptr<const LoraWeightSet> w);

  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }
  // Shares ownership with the adapter: a batch holding it keeps the weights alive even if the
  // adapter is evicted from the store meanwhile.
  std::shared_ptr<const LoraWeightSet> weights() const { return weights_; }
  size_t nbytes() const { return nbytes_; }
  int64_t max_rank() const { return max_rank_; }
  const std::vector<std::string>& targets() const { return targets_; }  // e.g. "q_proj"

 private:
  std::string name_;
  std::string dir_;
  std::shared_ptr<const LoraWeightSet> weights_;
  size_t nbytes_ = 0;
  int64_t max_rank_ = 0;
  size_t projections_ = 0;  // lora_A/lora_B pairs
  std::vector<std::string> targets_;
};

// Random adapters in memory, for benchmarks and the demo: every layer target at `rank`, B drawn
// from [-strength, strength).
std::shared_ptr<const LoraWeightSet> random_lora_weights(const ModelConfig& base, int64_t rank,
                                                         uint64_t seed,
                                                         float strength = 0.01f);

}  // namespace lorax
