#include "model/causal_lm.h"

#include <cmath>

#include "core/error.h"
#include "model/rope.h"

namespace lorax {

CausalLM::CausalLM(ModelConfig config, ModelWeights weights, Backend& backend)
    : config_(std::move(config)),
      arch_(architecture_for(config_.model_type)),
      weights_(std::move(weights)),
      backend_(backend),
      heads_{config_.num_heads, config_.num_kv_heads, config_.head_dim},
      cos_sin_(backend.upload(rope_cos_sin_table(config_))) {}

std::unique_ptr<CausalLM> CausalLM::load(const std::string& dir, Backend& backend) {
  ModelConfig config = ModelConfig::from_dir(dir);
  architecture_for(config.model_type);  // reject unknown types before touching weights
  CheckpointTensors checkpoint = CheckpointTensors::open_dir(dir);
  ModelWeights weights = ModelWeights::load(config, checkpoint, backend);
  return std::make_unique<CausalLM>(std::move(config), std::move(weights), backend);
}

void CausalLM::check_batch(const ForwardBatch& b, const std::vector<KvCacheLayer>& kv) const {
  const size_t T = b.input_ids.size();
  const size_t B = b.seqlen.size();
  LORAX_CHECK(kv.size() == size_t(config_.num_layers), "forward: ", kv.size(),
              " KV cache layers for a ", config_.num_layers, "-layer model");
  LORAX_CHECK(b.position_ids.size() == T && b.slots.size() == T,
              "forward: input_ids, "
              "position_ids and slots must have one entry per token");
  LORAX_CHECK(b.block_tables.size() == B * size_t(b.max_blocks), "forward: block_tables is not [",
              B, ", ", b.max_blocks, "]");
  if (b.is_prefill()) {
    LORAX_CHECK(b.cu_seqlen_prefill.size() == B + 1 && b.cu_seqlen_prefill.front() == 0 &&
                    size_t(b.cu_seqlen_prefill.back()) == T,
                "forward: cu_seqlen_prefill must be [B + 1] from 0 to T");
  } else {
    LORAX_CHECK(T == B, "forward: a decode step has one token per sequence");
  }
  for (int32_t row : b.lm_head_indices)
    LORAX_CHECK(row >= 0 && size_t(row) < T, "forward: lm_head index ", row, " out of ", T);
  LORAX_CHECK(b.adapter_data.token_adapter.empty() || b.adapter_data.token_adapter.size() == T,
              "forward: adapter_data must give one adapter index per token");
}

CausalLM::StepInputs CausalLM::upload_inputs(const ForwardBatch& b) const {
  StepInputs in;
  in.input_ids = backend_.upload_i32(b.input_ids);
  in.positions = backend_.upload_i32(b.position_ids);
  in.slots = backend_.upload_i32(b.slots);
  in.seqlens = backend_.upload_i32(b.seqlen);
  in.block_tables = backend_.upload_i32(b.block_tables).reshape({b.num_sequences(), b.max_blocks});
  if (b.is_prefill()) in.cu_seqlens = backend_.upload_i32(b.cu_seqlen_prefill);
  std::vector<int32_t> rows = b.lm_head_indices;
  if (rows.empty()) {  // default: the last token of each sequence
    if (b.is_prefill()) {
      for (size_t s = 1; s < b.cu_seqlen_prefill.size(); ++s)
        rows.push_back(b.cu_seqlen_prefill[s] - 1);
    } else {
      for (int32_t t = 0; t < int32_t(b.num_tokens()); ++t) rows.push_back(t);
    }
  }
  in.lm_rows = backend_.upload_i32(rows);
  in.host_lm_rows = std::move(rows);
  return in;
}

void CausalLM::attention_block(int64_t index, KvCacheLayer& cache, const ForwardBatch& batch,
                               const StepInputs& in, const LoraPlan& lora, Tensor& hidden) {
  const DecoderLayerWeights& layer = weights_.layers[size_t(index)];
  const int64_t T = batch.num_tokens();
  const int64_t H = config_.hidden_size;
  Tensor normed = backend_.alloc({T, H}, DType::F32);
  backend_.rms_norm(hidden, layer.input_norm, float(config_.rms_norm_eps), arch_.norm_weight_offset,
                    normed);
  Tensor qkv = backend_.alloc({T, heads_.qkv_width()}, DType::F32);
  backend_.linear(normed, layer.qkv_proj, qkv);
  lora.apply(backend_, index,
             {{LoraTarget::QProj, 0},
              {LoraTarget::KProj, heads_.q_width()},
              {LoraTarget::VProj, heads_.q_width() + heads_.kv_width()}},
             normed, qkv);
  backend_.rotary(qkv, in.positions, cos_sin_, heads_);
  backend_.kv_write(qkv, in.slots, heads_, cache);
  Tensor attn = backend_.alloc({T, heads_.q_width()}, DType::F32);
  const float scale = float(1.0 / std::sqrt(double(heads_.head_dim)));
  if (batch.is_prefill()) {
    backend_.prefill_attention(qkv, in.cu_seqlens, heads_, scale, attn);
  } else {
    backend_.paged_attention(qkv, cache, in.block_tables, in.seqlens, heads_, scale, attn);
  }
  Tensor out = backend_.alloc({T, H}, DType::F32);
  backend_.linear(attn, layer.o_proj, out);
  lora.apply(backend_, index, {{LoraTarget::OProj, 0}}, attn, out);
  backend_.add(hidden, out);
}

void CausalLM::mlp_block(int64_t index, const LoraPlan& lora, Tensor& hidden) {
  const DecoderLayerWeights& layer = weights_.layers[size_t(index)];
  const int64_t T = hidden.dim(0);
  const int64_t H = config_.hidden_size;
  const int64_t I = config_.intermediate_size;
  Tensor normed = backend_.alloc({T, H}, DType::F32);
  backend_.rms_norm(hidden, layer.post_attention_norm, float(config_.rms_norm_eps),
                    arch_.norm_weight_offset, normed);
  Tensor gate_up = backend_.alloc({T, 2 * I}, DType::F32);
  backend_.linear(normed, layer.gate_up_proj, gate_up);
  lora.apply(backend_, index, {{LoraTarget::GateProj, 0}, {LoraTarget::UpProj, I}}, normed,
             gate_up);
  Tensor act = backend_.alloc({T, I}, DType::F32);
  backend_.gated_activation(gate_up, config_.activation, act);
  Tensor out = backend_.alloc({T, H}, DType::F32);
  backend_.linear(act, layer.down_proj, out);
  lora.apply(backend_, index, {{LoraTarget::DownProj, 0}}, act, out);
  backend_.add(hidden, out);
}

ForwardOutput CausalLM::forward(const ForwardBatch& batch, std::vector<KvCacheLayer>& kv_cache) {
  check_batch(batch, kv_cache);
  const int64_t T = batch.num_tokens();
  const int64_t H = config_.hidden_size;
  const StepInputs in = upload_inputs(batch);

  Tensor hidden = backend_.alloc({T, H}, DType::F32);
  const float embed_scale = arch_.scale_embeddings ? float(std::sqrt(double(H))) : 1.0f;
  backend_.embedding(in.input_ids, weights_.embed_tokens, embed_scale, hidden);
  const LoraPlan lora(batch.adapter_data, in.host_lm_rows);
  for (int64_t l = 0; l < int64_t(weights_.layers.size()); ++l) {
    attention_block(l, kv_cache[size_t(l)], batch, in, lora, hidden);
    mlp_block(l, lora, hidden);
  }

  // Only the selected rows go through the final norm and head: norm is per row, so this is the
  // same as norming everything first, and skips work for prompt tokens nobody asked about.
  const int64_t R = in.lm_rows.numel();
  Tensor selected = backend_.alloc({R, H}, DType::F32);
  backend_.gather_rows(hidden, in.lm_rows, selected);
  Tensor normed = backend_.alloc({R, H}, DType::F32);
  backend_.rms_norm(selected, weights_.final_norm, float(config_.rms_norm_eps),
                    arch_.norm_weight_offset, normed);
  ForwardOutput out;
  if (batch.skip_lm_head) {
    out.logits = normed;
    return out;
  }
  out.logits = backend_.alloc({R, config_.vocab_size}, DType::F32);
  backend_.linear(normed, weights_.lm_head, out.logits);
  lora.apply_lm_head(backend_, normed, out.logits);
  return out;
}

}  // namespace lorax
