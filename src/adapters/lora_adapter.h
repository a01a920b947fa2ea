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

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.h"
#include "backend/lora.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "model/medusa.h"

namespace lorax {

// The largest adapter_model.safetensors loaded by default: rank 64 on every projection of a 70B
// model in bf16 is ~1.7 GB.
inline constexpr uint64_t kDefaultMaxAdapterFileBytes = uint64_t{2} << 30;

// The largest |scale| a projection may have. PEFT's defaults give alpha / r between 1/16 and 64
// (rsLoRA a few hundred); a scale past a million is a broken or hostile config, not a trained
// adapter, and with it a modest activation already overflows float16/bfloat16 ranges.
inline constexpr double kMaxLoraScale = 1e6;
// The largest worst-case gain of one projection, |scale| * r * max|B| * in_features * max|A|
// (and in_features * max|A| for the rank-space intermediate): the most |output| per unit
// |input|. Under this bound even activations of 1e8 stay finite in float32 (max ~3.4e38), so
// a finite adapter cannot turn finite hidden states into inf/NaN.
inline constexpr double kMaxLoraGain = 1e30;

class LoraAdapter {
 public:
  struct Key {  // only load() constructs adapters
   private:
    Key() = default;
    friend class LoraAdapter;
  };
  explicit LoraAdapter(Key) {}

  // Where load() may read an adapter's files from.
  struct Files {
    // A weights file over this is refused before it is opened.
    uint64_t max_file_bytes = kDefaultMaxAdapterFileBytes;
    // The directory no file may leave, symlinks included (the adapter root of adapters found
    // under one); empty: the adapter's own directory.
    std::string root;
    // Symlinks followed wherever they lead (registered adapters, --allow-adapter-symlinks).
    bool follow_symlinks_anywhere = false;
  };

  // Throws lorax::Error naming the adapter, the file (by its name in the adapter's directory,
  // never an absolute path, never its content) and what is wrong.
  static std::shared_ptr<const LoraAdapter> load(const std::string& name, const std::string& dir,
                                                 const ModelConfig& base, const Files& files);
  static std::shared_ptr<const LoraAdapter> load(const std::string& name, const std::string& dir,
                                                 const ModelConfig& base) {
    return load(name, dir, base, Files{});
  }

  // The checks and widening of load() on files already read: adapter_config.json's text and the
  // weights; `dir` is only kept. (load() and the fuzz target use this.) Every lora_A/lora_B
  // value must be finite, and each projection's scale and weights small enough that the
  // adapter's output cannot overflow float32 (see kMaxLoraGain).
  static std::shared_ptr<const LoraAdapter> parse(const std::string& name, const std::string& dir,
                                                  std::string_view config_json,
                                                  const SafetensorsFile& weights,
                                                  const ModelConfig& base);

  // An adapter from weights already in memory (benchmarks, tests).
  static std::shared_ptr<const LoraAdapter> from_weights(const std::string& name,
                                                         std::shared_ptr<const LoraWeightSet> w);

  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }
  // Text files beside the weights that describe how to prompt the adapter (tokenizer_config.json,
  // generation_config.json, chat_template.json, chat_template.jinja), read at load under the
  // same rules as the weights: file name -> content, only those present.
  const std::map<std::string, std::string>& prompt_files() const { return prompt_files_; }
  // Shares ownership with the adapter: a batch holding it keeps the weights alive even if the
  // adapter is evicted from the store meanwhile.
  std::shared_ptr<const LoraWeightSet> weights() const { return weights_; }
  size_t nbytes() const { return nbytes_; }
  int64_t max_rank() const { return max_rank_; }
  const std::vector<std::string>& targets() const { return targets_; }  // e.g. "q_proj"
  // LoRAX's Medusa adapter: speculative heads (on the host) read from the directory's
  // config.json and medusa_lm_head.safetensors, alone or beside the LoRA weights; null if none.
  const std::shared_ptr<const MedusaHeads>& medusa() const { return medusa_; }

 private:
  static std::shared_ptr<LoraAdapter> build(const std::string& name, const std::string& dir,
                                            std::string_view config_json,
                                            const SafetensorsFile& weights,
                                            const ModelConfig& base);

  std::string name_;
  std::string dir_;
  std::shared_ptr<const LoraWeightSet> weights_;
  size_t nbytes_ = 0;
  int64_t max_rank_ = 0;
  size_t projections_ = 0;  // lora_A/lora_B pairs
  std::vector<std::string> targets_;
  std::map<std::string, std::string> prompt_files_;
  std::shared_ptr<const MedusaHeads> medusa_;
};

// Random adapters in memory, for benchmarks and the demo: the layer targets given (every one
// when empty) at `rank`, B drawn from [-strength, strength).
std::shared_ptr<const LoraWeightSet> random_lora_weights(
    const ModelConfig& base, int64_t rank, uint64_t seed, float strength = 0.01f,
    const std::vector<LoraTarget>& targets = {});

}  // namespace lorax
