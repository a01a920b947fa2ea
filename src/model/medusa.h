// Medusa speculative heads (Cai et al., 2024) in the layout LoRAX and TGI load: a directory with
// config.json (medusa_num_heads, medusa_num_layers, version) and medusa_lm_head.safetensors.
//
// Head i turns the final-normed hidden state x of a position into x_i by medusa_num_layers
// residual blocks, x <- x + SiLU(W x + b) (`{i}.{l}.linear.weight` [H, H], `.bias` [H]), then
// scores x_i with its own output matrix (version 1: `{i}.{num_layers}.weight` [V, H]) or with the
// model's LM head (version 2). Head i's logits guess the token i + 1 places after the one the
// model's own head chooses; the engine turns their argmax into drafts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.h"
#include "io/model_config.h"
#include "io/safetensors.h"

namespace lorax {

struct MedusaHeads {
  struct Block {
    Tensor weight;  // [H, H] as the backend keeps matrices
    Tensor bias;    // [H] f32
  };
  std::string name;
  int version = 2;
  int64_t num_layers = 0;
  std::vector<std::vector<Block>> blocks;  // [head][layer]
  std::vector<Tensor> outputs;             // version 1: [V, H] per head; version 2: none
  int64_t num_heads() const { return int64_t(blocks.size()); }

  // Whether `dir` holds Medusa heads rather than a LoRA adapter (its config.json names
  // medusa_num_heads).
  static bool is_medusa_dir(const std::string& dir);
  // Reads and checks the heads against the model (hidden size, vocabulary, every tensor's
  // shape); a message names what is wrong and where. The tensors stay on the host, as stored
  // (biases widened to f32): reading never touches the device, so it may run off the engine
  // thread.
  static std::shared_ptr<const MedusaHeads> read(const std::string& name, const std::string& dir,
                                                 const ModelConfig& config);
  // read()'s checks on files already open: config.json's text (named `config_path` in
  // messages) and the heads' tensors.
  static std::shared_ptr<const MedusaHeads> parse(const std::string& name,
                                                  std::string_view config_json,
                                                  const std::string& config_path,
                                                  const CheckpointTensors& tensors,
                                                  const ModelConfig& config);
  // config.json's checks: heads with their count, layers and version, and no tensors yet.
  static std::shared_ptr<MedusaHeads> configured_heads(const std::string& name,
                                                       std::string_view config_json,
                                                       const std::string& config_path,
                                                       const ModelConfig& config);
  // These heads on the backend, matrices kept as the backend keeps the model's for `activation`.
  std::shared_ptr<const MedusaHeads> upload(Backend& backend, DType activation) const;
  // read() then upload().
  static std::shared_ptr<const MedusaHeads> load(const std::string& name, const std::string& dir,
                                                 const ModelConfig& config, Backend& backend,
                                                 DType activation);
};

}  // namespace lorax
