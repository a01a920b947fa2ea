#include "model/causal_lm.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "model/rope.h"

namespace lorax {

namespace {

int64_t max_rank_of(const LoraWeightSet& w) {
  int64_t rank = w.lm_head.defined() ? w.lm_head.rank() : 0;
  for (const auto& layer : w.layers)
    for (const LoraWeights& t : layer)
      if (t.defined()) rank = std::max(rank, t.rank());
  return rank;
}

}  // namespace

CausalLM::CausalLM(ModelConfig config, ModelWeights weights, Backend& backend, DType activation)
    : config_(std::move(config)),
      arch_(architecture_for(config_.model_type)),
      weights_(std::move(weights)),
      backend_(backend),
      activation_(activation),
      heads_{config_.num_heads, config_.num_kv_heads, config_.head_dim},
      cos_sin_(backend.upload(rope_cos_sin_table(config_))) {
  LORAX_CHECK(activation == DType::F32 || activation == DType::BF16,
              "activation dtype must be f32 or bf16, got ", dtype_name(activation));
  LORAX_CHECK(backend.device() != Device::CPU || activation == DType::F32,
              "the CPU backend computes in f32 activations");
}

std::unique_ptr<CausalLM> CausalLM::load(const std::string& dir, Backend& backend,
                                         DType activation) {
  ModelConfig config = ModelConfig::from_dir(dir);
  architecture_for(config.model_type);  // reject unknown types before touching weights
  CheckpointTensors checkpoint = CheckpointTensors::open_dir(dir);
  ModelWeights weights = ModelWeights::load(config, checkpoint, backend, activation);
  return std::make_unique<CausalLM>(std::move(config), std::move(weights), backend, activation);
}

void CausalLM::plan(int64_t max_tokens, int64_t max_sequences) {
  ensure_capacity(std::max<int64_t>(max_tokens, 1), std::max<int64_t>(max_sequences, 1),
                  std::max<int64_t>(max_sequences, 1), 0);
}

void CausalLM::ensure_capacity(int64_t tokens, int64_t sequences, int64_t lm_rows,
                               int64_t step_ints) {
  const int64_t H = config_.hidden_size, I = config_.intermediate_size;
  const DType a = activation_;
  if (tokens > capacity_.max_tokens || sequences > capacity_.max_sequences) {
    if (capacity_.max_tokens > 0)
      log_info("model workspace grows to ", tokens, " tokens, ", sequences, " sequences");
    capacity_.max_tokens = std::max(tokens, capacity_.max_tokens);
    capacity_.max_sequences = std::max(sequences, capacity_.max_sequences);
    capacity_.max_context = max_positions();
    capacity_.vocab = config_.vocab_size;
    capacity_.heads = heads_;
    const int64_t T = capacity_.max_tokens;
    ws_.hidden = backend_.alloc({T, H}, DType::F32);  // the residual stream: see the header
    ws_.normed = backend_.alloc({T, H}, a);
    ws_.qkv = backend_.alloc({T, heads_.qkv_width()}, a);
    ws_.attn = backend_.alloc({T, heads_.q_width()}, a);
    ws_.out = backend_.alloc({T, H}, a);
    ws_.gate_up = backend_.alloc({T, 2 * I}, a);
    ws_.act = backend_.alloc({T, I}, a);
    backend_.reserve(capacity_);
    graphs_.clear();
  }
  const int64_t heads = medusa_ ? medusa_->num_heads() : 0;
  const int64_t speculative_rows = ws_.speculative.ndim() ? ws_.speculative.dim(0) : 0;
  if (lm_rows > logits_rows_ || logits_rows_ * heads > speculative_rows) {
    logits_rows_ = std::max({lm_rows, capacity_.max_sequences, logits_rows_});
    ws_.lm_hidden = backend_.alloc({logits_rows_, H}, DType::F32);
    ws_.lm_normed = backend_.alloc({logits_rows_, H}, a);
    ws_.logits = backend_.alloc({logits_rows_, config_.vocab_size}, DType::F32);
    if (heads > 0) {
      const int64_t rows = logits_rows_ * heads, V = config_.vocab_size;
      ws_.medusa_in = backend_.alloc({logits_rows_, H}, a);
      ws_.medusa_x = backend_.alloc({rows, H}, a);
      // The block's product stays f32 until the residual sum is rounded once.
      ws_.medusa_y = backend_.alloc({logits_rows_, H}, DType::F32);
      ws_.head_logits = backend_.alloc({rows, V}, DType::F32);
      ws_.speculative = backend_.alloc({rows, V}, DType::F32);
    }
    graphs_.clear();
  }
  if (step_ints > ws_.step_host.numel()) {
    const int64_t n = std::max<int64_t>(step_ints, 1024);
    ws_.step_host = backend_.alloc_pinned({n}, DType::I32);
    ws_.step_device = backend_.alloc({n}, DType::I32);
    graphs_.clear();
  }
}

void CausalLM::configure_adapter_slots(int64_t num_slots) {
  backend_.lora_configure(num_slots, config_.num_layers);
  slot_rank_.assign(size_t(num_slots), 0);
  slot_heads_.assign(size_t(num_slots), nullptr);
}

std::string CausalLM::adapter_heads_refusal(const MedusaHeads& heads) const {
  if (!medusa_)
    return "Medusa adapters need the server started with Medusa heads of its own "
           "(--speculative-adapter)";
  if (heads.version != 2)
    return "only version 2 Medusa adapters (scored by the model's LM head) may be given per "
           "request; this one is version " +
           std::to_string(heads.version);
  if (heads.num_heads() != medusa_->num_heads())
    return "a request's Medusa adapter must have as many heads as the server's (" +
           std::to_string(medusa_->num_heads()) + "); this one has " +
           std::to_string(heads.num_heads());
  return "";
}

void CausalLM::load_adapter(int64_t slot, std::shared_ptr<const LoraWeightSet> weights,
                            std::shared_ptr<const MedusaHeads> heads) {
  LORAX_CHECK(slot >= 0 && slot < adapter_slots(), "adapter slot ", slot, " outside the pool of ",
              adapter_slots());
  if (heads) {
    const std::string refusal = adapter_heads_refusal(*heads);
    LORAX_CHECK(refusal.empty(), "adapter '", heads->name, "': ", refusal);
  }
  slot_heads_[size_t(slot)] = heads ? heads->upload(backend_, activation_) : nullptr;
  const int64_t rank = weights ? max_rank_of(*weights) : 0;
  if (rank > capacity_.max_lora_rank) {
    capacity_.max_lora_rank = rank;
    backend_.reserve(capacity_);
    graphs_.clear();  // a grown scratch buffer moves
  }
  backend_.lora_load(slot, std::move(weights), activation_);
  slot_rank_[size_t(slot)] = rank;
}

void CausalLM::check_batch(const ForwardBatch& b, const std::vector<KvCacheLayer>& kv) const {
  const size_t T = b.input_ids.size();
  const size_t B = b.seqlen.size();
  LORAX_CHECK(kv.size() == size_t(config_.num_layers), "forward: ", kv.size(),
              " KV cache layers for a ", config_.num_layers, "-layer model");
  LORAX_CHECK(T > 0 && B > 0, "forward: empty batch");
  LORAX_CHECK(b.position_ids.size() == T && b.slots.size() == T,
              "forward: input_ids, position_ids and slots must have one entry per token");
  LORAX_CHECK(b.max_blocks > 0 && b.block_tables.size() == B * size_t(b.max_blocks),
              "forward: block_tables is not [", B, ", ", b.max_blocks, "]");
  if (b.is_prefill()) {
    LORAX_CHECK(b.cu_seqlen_prefill.size() == B + 1 && b.cu_seqlen_prefill.front() == 0 &&
                    size_t(b.cu_seqlen_prefill.back()) == T,
                "forward: cu_seqlen_prefill must be [B + 1] from 0 to T");
  } else {
    LORAX_CHECK(T == B, "forward: a decode step has one token per sequence");
  }
  const int64_t vocab = config_.vocab_size;
  for (int32_t id : b.input_ids)
    LORAX_CHECK(id >= 0 && id < vocab, "forward: token id ", id, " outside the vocabulary");
  for (int32_t p : b.position_ids)
    LORAX_CHECK(p >= 0 && p < max_positions(), "forward: position ", p,
                " is beyond the model's rotary table (", max_positions(), " positions)");
  const int64_t blocks = kv.front().num_blocks(), block_size = kv.front().block_size();
  for (int32_t s : b.slots)
    LORAX_CHECK(s >= -1 && s < blocks * block_size, "forward: slot ", s, " beyond the cache (",
                blocks * block_size, " slots)");
  for (size_t s = 0; s < B; ++s) {
    const int64_t q_len = b.is_prefill() ? b.cu_seqlen_prefill[s + 1] - b.cu_seqlen_prefill[s] : 1;
    const int64_t len = b.seqlen[s];
    LORAX_CHECK(q_len >= 1 && len >= q_len && len <= b.max_blocks * block_size &&
                    len <= b.max_s,
                "forward: sequence ", s, " has ", len, " tokens for a chunk of ", q_len,
                " and a table of ", b.max_blocks, " blocks (max_s ", b.max_s, ")");
    for (int64_t k = 0; k < (len + block_size - 1) / block_size; ++k) {
      const int32_t id = b.block_tables[s * size_t(b.max_blocks) + size_t(k)];
      LORAX_CHECK(id >= 0 && id < blocks, "forward: block ", id, " of sequence ", s,
                  " outside the cache (", blocks, " blocks)");
    }
  }
  for (int32_t row : b.lm_head_indices)
    LORAX_CHECK(row >= 0 && size_t(row) < T, "forward: lm_head index ", row, " out of ", T);
  const auto& slots = b.adapter_data.token_slot;
  LORAX_CHECK(slots.empty() || slots.size() == T,
              "forward: adapter_data must give one adapter slot per token");
  for (int32_t s : slots)
    LORAX_CHECK(s == -1 || (s >= 0 && s < adapter_slots() && slot_rank_[size_t(s)] > 0),
                "forward: adapter slot ", s, " holds no adapter");
  const auto& head_slots = b.adapter_data.head_slot;
  LORAX_CHECK(head_slots.empty() || head_slots.size() == T,
              "forward: adapter_data must give one head slot per token");
  for (int32_t s : head_slots)
    LORAX_CHECK(s == -1 || (s >= 0 && s < adapter_slots() && slot_heads_[size_t(s)]),
                "forward: adapter slot ", s, " holds no Medusa heads");
}

std::vector<int32_t> CausalLM::lm_rows_of(const ForwardBatch& b) const {
  if (!b.lm_head_indices.empty()) return b.lm_head_indices;
  std::vector<int32_t> rows;  // default: the last token of each sequence
  if (b.is_prefill()) {
    for (size_t s = 1; s < b.cu_seqlen_prefill.size(); ++s)
      rows.push_back(b.cu_seqlen_prefill[s] - 1);
  } else {
    for (int32_t t = 0; t < int32_t(b.num_tokens()); ++t) rows.push_back(t);
  }
  return rows;
}

namespace {

// Lays i32 arrays end to end in one host buffer; views of the device copy are taken after.
class StepPacker {
 public:
  int64_t add(const std::vector<int32_t>& values) {
    const int64_t at = int64_t(data_.size());
    data_.insert(data_.end(), values.begin(), values.end());
    spans_.push_back({at, int64_t(values.size())});
    return int64_t(spans_.size()) - 1;
  }
  const std::vector<int32_t>& data() const { return data_; }
  Tensor view(const Tensor& buffer, int64_t index) const {
    const auto [at, n] = spans_[size_t(index)];
    return buffer.rows(at, at + n);
  }

 private:
  std::vector<int32_t> data_;
  std::vector<std::pair<int64_t, int64_t>> spans_;
};

std::vector<int32_t> cu_seqlens_of(const ForwardBatch& b) {
  if (b.is_prefill()) return b.cu_seqlen_prefill;
  std::vector<int32_t> cu(size_t(b.num_sequences()) + 1);
  for (size_t i = 0; i < cu.size(); ++i) cu[i] = int32_t(i);
  return cu;
}

}  // namespace

CausalLM::StepInputs CausalLM::upload_inputs(const ForwardBatch& b,
                                             const std::vector<int32_t>& lm_rows) {
  StepPacker pack;
  const int64_t ids = pack.add(b.input_ids), pos = pack.add(b.position_ids);
  const int64_t slots = pack.add(b.slots), lm = pack.add(lm_rows);
  const std::vector<int32_t> cu = cu_seqlens_of(b);
  const int64_t cu_at = pack.add(cu), len_at = pack.add(b.seqlen),
                tables = pack.add(b.block_tables);
  LoraSegments token_segs, lm_segs;
  if (!b.adapter_data.empty()) {
    token_segs = lora_segments(b.adapter_data.token_slot);
    std::vector<int32_t> lm_slot;
    for (int32_t row : lm_rows) lm_slot.push_back(b.adapter_data.token_slot[size_t(row)]);
    lm_segs = lora_segments(lm_slot);
  }
  const int64_t lora_at[] = {pack.add(token_segs.start), pack.add(token_segs.slot),
                             pack.add(token_segs.row_slot), pack.add(lm_segs.start),
                             pack.add(lm_segs.slot), pack.add(lm_segs.row_slot)};
  // Speculative heads: lm rows grouped by the heads scoring them, in order of first use.
  const int64_t R = int64_t(lm_rows.size()), S = medusa_ ? medusa_->num_heads() : 0;
  std::vector<StepInputs::HeadGroup> groups;
  std::vector<int32_t> gathered, order;
  if (S > 0) {
    std::vector<const MedusaHeads*> row_heads(size_t(R), medusa_.get());
    if (!b.adapter_data.head_slot.empty())
      for (int64_t r = 0; r < R; ++r)
        if (const int32_t s = b.adapter_data.head_slot[size_t(lm_rows[size_t(r)])]; s >= 0)
          row_heads[size_t(r)] = slot_heads_[size_t(s)].get();
    std::vector<size_t> group_of(static_cast<size_t>(R));
    std::vector<int64_t> place(static_cast<size_t>(R));
    for (int64_t r = 0; r < R; ++r) {
      if (std::none_of(groups.begin(), groups.end(),
                       [&](const auto& g) { return g.heads == row_heads[size_t(r)]; })) {
        groups.push_back({row_heads[size_t(r)], int64_t(gathered.size()), 0});
        for (int64_t q = r; q < R; ++q)
          if (row_heads[size_t(q)] == groups.back().heads) {
            group_of[size_t(q)] = groups.size() - 1;
            place[size_t(q)] = groups.back().count++;
            gathered.push_back(int32_t(q));
          }
      }
      const auto& g = groups[group_of[size_t(r)]];
      for (int64_t i = 0; i < S; ++i)
        order.push_back(int32_t(S * g.start + i * g.count + place[size_t(r)]));
    }
  }
  const int64_t gathered_at = pack.add(gathered), order_at = pack.add(order);

  ensure_capacity(b.num_tokens(), b.num_sequences(), int64_t(lm_rows.size()),
                  int64_t(pack.data().size()));
  Tensor host = ws_.step_host.rows(0, int64_t(pack.data().size()));
  std::memcpy(host.raw(), pack.data().data(), host.nbytes());
  Tensor device = ws_.step_device.rows(0, host.numel());
  backend_.copy(host, device);  // the step's one upload

  StepInputs in;
  in.input_ids = pack.view(device, ids);
  in.positions = pack.view(device, pos);
  in.slots = pack.view(device, slots);
  in.lm_rows = pack.view(device, lm);
  if (S > 0) {
    in.head_groups = std::move(groups);
    in.speculative_rows = pack.view(device, gathered_at);
    in.speculative_order = pack.view(device, order_at);
  }
  in.chunks.cu_seqlens_q = pack.view(device, cu_at);
  in.chunks.seqlens_k = pack.view(device, len_at);
  in.chunks.block_tables = pack.view(device, tables).reshape({b.num_sequences(), b.max_blocks});
  in.chunks.max_q = 1;
  for (size_t s = 0; s + 1 < cu.size(); ++s)
    in.chunks.max_q = std::max<int64_t>(in.chunks.max_q, cu[s + 1] - cu[s]);
  in.chunks.max_s = b.max_s;
  auto lora_step = [&](const LoraSegments& segs, const int64_t* at) {
    LoraStep step;
    if (segs.empty()) return step;
    step.seg_start = pack.view(device, at[0]);
    step.seg_slot = pack.view(device, at[1]);
    step.row_slot = pack.view(device, at[2]);
    step.host_seg_start = segs.start;
    step.host_seg_slot = segs.slot;
    for (int32_t s : segs.slot)
      if (s >= 0) step.max_rank = std::max(step.max_rank, slot_rank_[size_t(s)]);
    return step;
  };
  in.lora_tokens = lora_step(token_segs, lora_at);
  in.lora_lm = lora_step(lm_segs, lora_at + 3);
  return in;
}

void CausalLM::attention_block(int64_t index, KvCacheLayer& cache, const StepInputs& in,
                               int64_t T) {
  const DecoderLayerWeights& layer = weights_.layers[size_t(index)];
  const Tensor normed = ws_.normed.rows(0, T);
  Tensor qkv = ws_.qkv.rows(0, T);
  backend_.linear(normed, layer.qkv_proj, qkv);
  if (!in.lora_tokens.empty()) {
    const LoraSlice slices[] = {{LoraTarget::QProj, 0},
                                {LoraTarget::KProj, heads_.q_width()},
                                {LoraTarget::VProj, heads_.q_width() + heads_.kv_width()}};
    backend_.lora(normed, in.lora_tokens, index, slices, qkv);
  }
  backend_.rotary_kv_write(qkv, in.positions, cos_sin_, heads_, in.slots, cache);
  Tensor attn = ws_.attn.rows(0, T);
  const float scale = float(1.0 / std::sqrt(double(heads_.head_dim)));
  backend_.attention(qkv, cache, in.chunks, heads_, scale, attn);
  Tensor out = ws_.out.rows(0, T);
  backend_.linear(attn, layer.o_proj, out);
  if (!in.lora_tokens.empty()) {
    const LoraSlice slices[] = {{LoraTarget::OProj, 0}};
    backend_.lora(attn, in.lora_tokens, index, slices, out);
  }
  Tensor hidden = ws_.hidden.rows(0, T);
  Tensor next_normed = ws_.normed.rows(0, T);
  backend_.add_rms_norm(hidden, out, layer.post_attention_norm, float(config_.rms_norm_eps),
                        arch_.norm_weight_offset, next_normed);
}

void CausalLM::mlp_block(int64_t index, const StepInputs& in, int64_t T) {
  const DecoderLayerWeights& layer = weights_.layers[size_t(index)];
  const int64_t I = config_.intermediate_size;
  const Tensor normed = ws_.normed.rows(0, T);
  Tensor gate_up = ws_.gate_up.rows(0, T);
  backend_.linear(normed, layer.gate_up_proj, gate_up);
  if (!in.lora_tokens.empty()) {
    const LoraSlice slices[] = {{LoraTarget::GateProj, 0}, {LoraTarget::UpProj, I}};
    backend_.lora(normed, in.lora_tokens, index, slices, gate_up);
  }
  Tensor act = ws_.act.rows(0, T);
  backend_.gated_activation(gate_up, config_.activation, act);
  Tensor out = ws_.out.rows(0, T);
  backend_.linear(act, layer.down_proj, out);
  if (!in.lora_tokens.empty()) {
    const LoraSlice slices[] = {{LoraTarget::DownProj, 0}};
    backend_.lora(act, in.lora_tokens, index, slices, out);
  }
  // The residual add is fused with the next layer's input norm; after the last layer the final
  // norm runs on the head rows only, so the plain add remains.
  Tensor hidden = ws_.hidden.rows(0, T);
  if (index + 1 < int64_t(weights_.layers.size())) {
    Tensor next_normed = ws_.normed.rows(0, T);
    backend_.add_rms_norm(hidden, out, weights_.layers[size_t(index + 1)].input_norm,
                          float(config_.rms_norm_eps), arch_.norm_weight_offset, next_normed);
  } else {
    backend_.add(hidden, out);
  }
}

ForwardOutput CausalLM::forward(const ForwardBatch& batch, std::vector<KvCacheLayer>& kv_cache) {
  if (graphable(batch)) return forward_graphed(batch, kv_cache);
  check_batch(batch, kv_cache);
  const std::vector<int32_t> lm_rows = lm_rows_of(batch);
  const StepInputs in = upload_inputs(batch, lm_rows);
  return run_ops(in, batch.num_tokens(), int64_t(lm_rows.size()), batch.skip_lm_head, kv_cache);
}

ForwardOutput CausalLM::run_ops(const StepInputs& in, int64_t T, int64_t R, bool skip_lm_head,
                                std::vector<KvCacheLayer>& kv_cache) {
  const int64_t H = config_.hidden_size;
  Tensor hidden = ws_.hidden.rows(0, T);
  const float embed_scale = arch_.scale_embeddings ? float(std::sqrt(double(H))) : 1.0f;
  backend_.embedding(in.input_ids, weights_.embed_tokens, embed_scale, hidden);
  Tensor normed = ws_.normed.rows(0, T);
  backend_.rms_norm(hidden, weights_.layers.front().input_norm, float(config_.rms_norm_eps),
                    arch_.norm_weight_offset, normed);
  for (int64_t l = 0; l < int64_t(weights_.layers.size()); ++l) {
    attention_block(l, kv_cache[size_t(l)], in, T);
    mlp_block(l, in, T);
  }

  // Only the selected rows go through the final norm and head: norm is per row, so this is the
  // same as norming everything first, and skips work for prompt tokens nobody asked about.
  Tensor selected = ws_.lm_hidden.rows(0, R);
  backend_.gather_rows(hidden, in.lm_rows, selected);
  Tensor lm_normed = ws_.lm_normed.rows(0, R);
  backend_.rms_norm(selected, weights_.final_norm, float(config_.rms_norm_eps),
                    arch_.norm_weight_offset, lm_normed);
  ForwardOutput out;
  if (skip_lm_head) {
    out.logits = lm_normed;
    return out;
  }
  out.logits = ws_.logits.rows(0, R);
  backend_.linear(lm_normed, weights_.lm_head, out.logits);
  if (!in.lora_lm.empty()) {
    const LoraSlice slices[] = {{LoraTarget::LmHead, 0}};
    backend_.lora(lm_normed, in.lora_lm, 0, slices, out.logits);
  }
  if (medusa_) out.speculative_logits = run_speculative_heads(lm_normed, in, R);
  return out;
}

void CausalLM::set_speculative_heads(std::shared_ptr<const MedusaHeads> heads) {
  LORAX_CHECK(!heads || arch_.speculative_heads, "Medusa heads '", heads ? heads->name : "",
              "' cannot be used with a ", arch_.model_type,
              " model: its forward returns no speculative logits");
  medusa_ = std::move(heads);
  graphs_.clear();
  ensure_capacity(0, 0, 0, 0);  // room for the heads' rows at the current logits capacity
}

Tensor CausalLM::run_speculative_heads(const Tensor& lm_normed, const StepInputs& in, int64_t R) {
  const int64_t S = medusa_->num_heads(), V = config_.vocab_size;
  for (const StepInputs::HeadGroup& g : in.head_groups) {
    const MedusaHeads& m = *g.heads;
    const int64_t n = g.count;
    // One group of every row in order (no adapter brought heads): the rows as they are.
    Tensor rows = lm_normed;
    if (in.head_groups.size() > 1) {
      rows = ws_.medusa_in.rows(g.start, g.start + n);
      backend_.gather_rows(lm_normed, in.speculative_rows.rows(g.start, g.start + n), rows);
    }
    for (int64_t i = 0; i < S; ++i) {
      const int64_t at = S * g.start + i * n;
      Tensor x = ws_.medusa_x.rows(at, at + n);
      if (m.num_layers == 0) backend_.copy(rows, x);
      const Tensor* from = &rows;
      for (const MedusaHeads::Block& block : m.blocks[size_t(i)]) {
        Tensor y = ws_.medusa_y.rows(0, n);
        backend_.linear(*from, block.weight, y);
        backend_.bias_silu_residual(*from, y, block.bias, x);
        from = &x;
      }
      Tensor logits = ws_.head_logits.rows(at, at + n);
      backend_.linear(x, m.version == 1 ? m.outputs[size_t(i)] : weights_.lm_head, logits);
    }
  }
  Tensor spec = ws_.speculative.rows(0, R * S);
  backend_.gather_rows(ws_.head_logits.rows(0, S * R), in.speculative_order, spec);
  return spec.reshape({R, S, V});
}

// ---- step graphs ----

namespace {

// Padded batch sizes: every size up to 8 by powers of two, then steps of 8 up to 64, then of 32
// (at most a few dozen recordings, and at most 1/8 of a large step wasted on padding).
int64_t graph_batch_bucket(int64_t sequences) {
  if (sequences <= 8) return int64_t(std::bit_ceil(uint64_t(sequences)));
  if (sequences <= 64) return (sequences + 7) / 8 * 8;
  return (sequences + 31) / 32 * 32;
}

// Padded context: a power of two from 256 tokens. The decode attention splits the context by
// it, so the recorded split covers every sequence of the bucket.
int64_t graph_context_bucket(int64_t max_s, int64_t max_positions) {
  return std::min<int64_t>(std::max<int64_t>(256, int64_t(std::bit_ceil(uint64_t(max_s)))),
                           max_positions);
}

// The decode step padded to `sequences` rows and block tables of `context` tokens. Padding rows
// read token 0 at position 0 from block 0, write no cache slot (-1) and get logits nobody reads.
ForwardBatch pad_decode_batch(const ForwardBatch& b, int64_t sequences, int64_t context,
                              int64_t block_size) {
  ForwardBatch p;
  const auto n = size_t(sequences);
  p.input_ids = b.input_ids;
  p.input_ids.resize(n, 0);
  p.position_ids = b.position_ids;
  p.position_ids.resize(n, 0);
  p.slots = b.slots;
  p.slots.resize(n, -1);
  p.seqlen = b.seqlen;
  p.seqlen.resize(n, 1);
  p.max_s = context;
  p.max_blocks = (context + block_size - 1) / block_size;
  p.block_tables.assign(n * size_t(p.max_blocks), 0);
  const int64_t keep = std::min(p.max_blocks, b.max_blocks);
  for (size_t s = 0; s < b.seqlen.size(); ++s)
    std::copy_n(b.block_tables.begin() + ptrdiff_t(s * size_t(b.max_blocks)), keep,
                p.block_tables.begin() + ptrdiff_t(s * size_t(p.max_blocks)));
  return p;
}

}  // namespace

void CausalLM::set_step_graphs(bool enabled) {
  step_graphs_ = enabled;
  graphs_.clear();
}

bool CausalLM::graphable(const ForwardBatch& b) const {
  if (!step_graphs() || b.is_prefill() || b.skip_lm_head || !b.adapter_data.empty() || medusa_)
    return false;
  if (!b.lm_head_indices.empty()) {  // only the default rows, one per sequence, in order
    if (b.lm_head_indices.size() != b.input_ids.size()) return false;
    for (size_t i = 0; i < b.lm_head_indices.size(); ++i)
      if (b.lm_head_indices[i] != int32_t(i)) return false;
  }
  const int64_t bucket = graph_batch_bucket(b.num_sequences());
  return b.num_sequences() >= 1 && bucket <= capacity_.max_sequences &&
         bucket <= capacity_.max_tokens && b.max_s <= max_positions();
}

ForwardOutput CausalLM::forward_graphed(const ForwardBatch& batch,
                                        std::vector<KvCacheLayer>& kv_cache) {
  LORAX_CHECK(!kv_cache.empty(), "forward: no KV cache layers");
  const int64_t B = batch.num_sequences();
  const int64_t bucket = graph_batch_bucket(B);
  const int64_t context = graph_context_bucket(batch.max_s, max_positions());
  // The real rows are checked as they are; the padded step is what runs.
  check_batch(batch, kv_cache);
  const ForwardBatch padded =
      pad_decode_batch(batch, bucket, context, kv_cache.front().block_size());
  check_batch(padded, kv_cache);
  const StepInputs in = upload_inputs(padded, lm_rows_of(padded));
  std::vector<uintptr_t> cache_identity{uintptr_t(kv_cache.front().num_blocks())};
  for (const KvCacheLayer& layer : kv_cache)
    cache_identity.insert(cache_identity.end(), {reinterpret_cast<uintptr_t>(layer.k.raw()),
                                                 reinterpret_cast<uintptr_t>(layer.v.raw())});
  if (graphs_cache_ != cache_identity) {
    graphs_.clear();
    graphs_cache_ = std::move(cache_identity);
  }
  std::unique_ptr<StepGraph>& graph = graphs_[{bucket, context}];
  if (!graph) graph = record(in, bucket, kv_cache);
  graph->replay();
  ForwardOutput out;
  out.logits = ws_.logits.rows(0, B);
  return out;
}

std::unique_ptr<StepGraph> CausalLM::record(const StepInputs& in, int64_t T,
                                            std::vector<KvCacheLayer>& kv_cache) {
  backend_.begin_step_graph();
  try {
    run_ops(in, T, T, false, kv_cache);
  } catch (...) {
    try {
      backend_.end_step_graph();  // leave the stream usable; the partial recording is dropped
    } catch (...) {
    }
    throw;
  }
  return backend_.end_step_graph();
}

}  // namespace lorax
