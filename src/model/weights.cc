#include "model/weights.h"

#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"

namespace lorax {

namespace {

std::string layer_prefix(int64_t i) {
  return "model.layers." + std::to_string(i) + ".";
}

// Copies `t` into `dst` rows starting at `row`, widening to f32 when dst is f32 and t is not.
void copy_rows_into(Tensor& dst, int64_t row, const Tensor& t) {
  const int64_t cols = t.dim(1);
  if (dst.dtype() == t.dtype()) {
    std::memcpy(static_cast<char*>(dst.raw()) + size_t(row * cols) * dtype_size(t.dtype()), t.raw(),
                t.nbytes());
    return;
  }
  float* out = dst.data<float>() + row * cols;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const auto bits = static_cast<const uint16_t*>(t.raw())[i];
    out[i] = t.dtype() == DType::BF16  ? bf16_to_f32(bits)
             : t.dtype() == DType::F16 ? f16_to_f32(bits)
                                       : static_cast<const float*>(t.raw())[i];
  }
}

// Stacks [n_i, K] tensors into one [sum n_i, K]; mixed dtypes are widened to f32.
Tensor stack_rows(const std::vector<Tensor>& parts) {
  int64_t rows = 0;
  DType dtype = parts[0].dtype();
  for (const Tensor& p : parts) {
    rows += p.dim(0);
    if (p.dtype() != dtype) dtype = DType::F32;
  }
  Tensor out = Tensor::empty({rows, parts[0].dim(1)}, dtype);
  int64_t row = 0;
  for (const Tensor& p : parts) {
    copy_rows_into(out, row, p);
    row += p.dim(0);
  }
  return out;
}

float optional_scale(const CheckpointTensors& ckpt, const std::string& prefix, const char* which) {
  // vLLM/compressed-tensors spell it self_attn.k_scale; older checkpoints share one kv_scale.
  for (const std::string& name : {prefix + "self_attn." + which, prefix + "self_attn.kv_scale"}) {
    if (!ckpt.contains(name)) continue;
    Tensor t = ckpt.get(name);
    LORAX_CHECK(t.numel() == 1 && t.dtype() == DType::F32, ckpt.file_of(name), ": tensor '", name,
                "' must be a single f32 scale, got ", t.describe());
    const float scale = *t.data<float>();
    LORAX_CHECK(std::isfinite(scale) && scale > 0, ckpt.file_of(name), ": tensor '", name,
                "' must be a positive finite scale, got ", scale);
    return scale;
  }
  return 1.0f;
}

}  // namespace

Tensor checked_weight(const CheckpointTensors& ckpt, const std::string& name,
                      const Shape& expected) {
  LORAX_CHECK(ckpt.contains(name), ckpt.source(), ": missing tensor '", name, "'");
  Tensor t = ckpt.get(name);
  LORAX_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::BF16 || t.dtype() == DType::F16,
              ckpt.file_of(name), ": tensor '", name, "' has dtype ", dtype_name(t.dtype()),
              ", expected f32, bf16 or f16");
  LORAX_CHECK(t.shape() == expected, ckpt.file_of(name), ": tensor '", name, "' has shape ",
              shape_string(t.shape()), ", expected ", shape_string(expected));
  return t;
}

Tensor upload_matrix(Backend& backend, const Tensor& host, DType activation) {
  const DType target = backend.weight_dtype(host.dtype(), activation);
  if (target == host.dtype()) return backend.upload(host);
  Tensor converted = Tensor::empty(host.shape(), target);
  const int64_t n = host.numel();
  for (int64_t i = 0; i < n; ++i) {
    const float v = host.dtype() == DType::F32    ? host.data<float>()[i]
                    : host.dtype() == DType::BF16 ? bf16_to_f32(host.data<uint16_t>()[i])
                                                  : f16_to_f32(host.data<uint16_t>()[i]);
    if (target == DType::F32) {
      converted.data<float>()[i] = v;
    } else {
      LORAX_CHECK(target == DType::BF16 || target == DType::F16, "weights: cannot store as ",
                  dtype_name(target));
      converted.data<uint16_t>()[i] = target == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
    }
  }
  return backend.upload(converted);
}

ModelWeights ModelWeights::load(const ModelConfig& c, const CheckpointTensors& ckpt,
                                Backend& backend, DType activation) {
  const int64_t H = c.hidden_size, D = c.head_dim, I = c.intermediate_size;
  ModelWeights w;
  w.embed_tokens = upload_matrix(
      backend, checked_weight(ckpt, "model.embed_tokens.weight", {c.vocab_size, H}), activation);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = layer_prefix(i);
    DecoderLayerWeights layer;
    layer.input_norm = backend.upload(checked_weight(ckpt, p + "input_layernorm.weight", {H}));
    layer.qkv_proj = upload_matrix(
        backend,
        stack_rows({
            checked_weight(ckpt, p + "self_attn.q_proj.weight", {c.num_heads * D, H}),
            checked_weight(ckpt, p + "self_attn.k_proj.weight", {c.num_kv_heads * D, H}),
            checked_weight(ckpt, p + "self_attn.v_proj.weight", {c.num_kv_heads * D, H}),
        }),
        activation);
    layer.o_proj = upload_matrix(
        backend, checked_weight(ckpt, p + "self_attn.o_proj.weight", {H, c.num_heads * D}),
        activation);
    layer.post_attention_norm =
        backend.upload(checked_weight(ckpt, p + "post_attention_layernorm.weight", {H}));
    layer.gate_up_proj = upload_matrix(backend,
                                       stack_rows({
                                           checked_weight(ckpt, p + "mlp.gate_proj.weight", {I, H}),
                                           checked_weight(ckpt, p + "mlp.up_proj.weight", {I, H}),
                                       }),
                                       activation);
    layer.down_proj = upload_matrix(
        backend, checked_weight(ckpt, p + "mlp.down_proj.weight", {H, I}), activation);
    layer.k_scale = optional_scale(ckpt, p, "k_scale");
    layer.v_scale = optional_scale(ckpt, p, "v_scale");
    w.layers.push_back(std::move(layer));
  }
  w.final_norm = backend.upload(checked_weight(ckpt, "model.norm.weight", {H}));
  if (c.tie_word_embeddings) {
    w.lm_head = w.embed_tokens;
  } else {
    LORAX_CHECK(ckpt.contains("lm_head.weight"), ckpt.source(),
                ": missing tensor 'lm_head.weight' (tie_word_embeddings is false)");
    w.lm_head = upload_matrix(backend, checked_weight(ckpt, "lm_head.weight", {c.vocab_size, H}),
                              activation);
  }
  return w;
}

namespace {

// splitmix64: a tiny deterministic generator, enough for benchmark weights.
struct SplitMix {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) / float(1 << 24) * 2.0f - 1.0f; }  // [-1, 1)
};

Tensor random_tensor(const Shape& shape, DType dtype, float scale, SplitMix& rng) {
  Tensor t = Tensor::empty(shape, dtype);
  const int64_t n = t.numel();
  if (dtype == DType::F32) {
    for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = rng.uniform() * scale;
  } else {
    LORAX_CHECK(dtype == DType::BF16 || dtype == DType::F16, "random weights: unsupported dtype ",
                dtype_name(dtype));
    auto* p = t.data<uint16_t>();
    for (int64_t i = 0; i < n; ++i) {
      const float v = rng.uniform() * scale;
      p[i] = dtype == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
    }
  }
  return t;
}

Tensor filled(const Shape& shape, float value) {
  Tensor t = Tensor::empty(shape, DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = value;
  return t;
}

}  // namespace

ModelWeights ModelWeights::random(const ModelConfig& c, DType stored, uint64_t seed,
                                  Backend& backend, DType activation) {
  const DType dtype = backend.weight_dtype(stored, activation);
  const int64_t H = c.hidden_size, D = c.head_dim, I = c.intermediate_size;
  SplitMix rng{seed};
  const float in_scale = 1.0f / std::sqrt(float(H));
  // Norm weights 1 (Llama) or 0 (Gemma's 1 + w), so both start as plain RMSNorm.
  const float norm_value = c.model_type == "gemma" ? 0.0f : 1.0f;
  ModelWeights w;
  w.embed_tokens = backend.upload(random_tensor({c.vocab_size, H}, dtype, 1.0f, rng));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    DecoderLayerWeights layer;
    layer.input_norm = backend.upload(filled({H}, norm_value));
    layer.qkv_proj = backend.upload(
        random_tensor({(c.num_heads + 2 * c.num_kv_heads) * D, H}, dtype, in_scale, rng));
    layer.o_proj = backend.upload(
        random_tensor({H, c.num_heads * D}, dtype, 1.0f / std::sqrt(float(c.num_heads * D)), rng));
    layer.post_attention_norm = backend.upload(filled({H}, norm_value));
    layer.gate_up_proj = backend.upload(random_tensor({2 * I, H}, dtype, in_scale, rng));
    layer.down_proj = backend.upload(random_tensor({H, I}, dtype, 1.0f / std::sqrt(float(I)), rng));
    w.layers.push_back(std::move(layer));
  }
  w.final_norm = backend.upload(filled({H}, norm_value));
  w.lm_head = c.tie_word_embeddings
                  ? w.embed_tokens
                  : backend.upload(random_tensor({c.vocab_size, H}, dtype, in_scale, rng));
  return w;
}

size_t ModelWeights::nbytes() const {
  size_t total = embed_tokens.nbytes() + final_norm.nbytes();
  if (lm_head.raw() != embed_tokens.raw()) total += lm_head.nbytes();
  for (const auto& l : layers)
    total += l.input_norm.nbytes() + l.qkv_proj.nbytes() + l.o_proj.nbytes() +
             l.post_attention_norm.nbytes() + l.gate_up_proj.nbytes() + l.down_proj.nbytes();
  return total;
}

}  // namespace lorax
