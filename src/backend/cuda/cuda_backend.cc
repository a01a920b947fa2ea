#include "backend/cuda/cuda_backend.h"

#include <algorithm>
#include <cstring>

#include "backend/cpu/elementwise.h"
#include "backend/cuda/attention.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/elementwise.cuh"
#include "backend/cuda/lora.cuh"
#include "backend/cuda/rotary.cuh"
#include "backend/cuda/sampling.cuh"
#include "backend/cuda/step_graph.h"
#include "core/log.h"

namespace lorax {

namespace {

// Rows of one sampling launch: bounds the sort scratch (rows x vocab) whatever the step asks.
constexpr int64_t kSampleChunk = 128;

void check_activation(const Tensor& t, const char* op) {
  LORAX_CHECK(t.device() == Device::CUDA, op, ": tensor ", t.describe(), " is not on the GPU");
  LORAX_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::BF16, op,
              ": activations must be f32 or bf16, got ", t.describe());
}

cuda::AttentionShape attention_shape(const HeadLayout& heads, float scale) {
  return {int(heads.num_heads), int(heads.num_kv_heads), int(heads.head_dim), scale};
}

}  // namespace

CudaBackend::CudaBackend(int device_index) : device_(device_index) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  LORAX_CHECK(status == cudaSuccess, "no usable CUDA device: ", cudaGetErrorString(status));
  LORAX_CHECK(device_index >= 0 && device_index < count, "CUDA device ", device_index,
              " does not exist (", count, " found)");
  activate();
  cudaDeviceProp props{};
  LORAX_CUDA_CHECK(cudaGetDeviceProperties(&props, device_));
  device_name_ = props.name;
  stream_ = std::make_unique<cuda::Stream>();
  gemm_ = std::make_unique<cuda::CublasLtGemm>();
}

CudaBackend::~CudaBackend() {
  if (stream_) cudaStreamSynchronize(stream_->get());
}

std::string CudaBackend::name() const {
  return "cuda:" + std::to_string(device_) + " (" + device_name_ + ")";
}

void CudaBackend::activate() const {
  LORAX_CUDA_CHECK(cudaSetDevice(device_));
}

Tensor CudaBackend::alloc(const Shape& shape, DType dtype) {
  activate();
  return cuda::device_tensor(shape, dtype);
}

Tensor CudaBackend::zeros(const Shape& shape, DType dtype) {
  Tensor t = alloc(shape, dtype);
  if (t.nbytes() > 0) LORAX_CUDA_CHECK(cudaMemsetAsync(t.raw(), 0, t.nbytes(), stream()));
  return t;
}

Tensor CudaBackend::alloc_pinned(const Shape& shape, DType dtype) {
  activate();
  return cuda::pinned_tensor(shape, dtype);
}

Tensor CudaBackend::upload(const Tensor& host) {
  if (host.device() == Device::CUDA) return host;
  Tensor t = alloc(host.shape(), host.dtype());
  copy(host, t);
  synchronize();  // the caller may free or reuse the host memory as soon as this returns
  return t;
}

Tensor CudaBackend::download(const Tensor& tensor) {
  if (tensor.device() == Device::CPU) return tensor;
  Tensor host = Tensor::empty(tensor.shape(), tensor.dtype());
  copy(tensor, host);
  synchronize();
  return host;
}

void CudaBackend::copy(const Tensor& src, Tensor& dst) {
  LORAX_CHECK(src.nbytes() == dst.nbytes(), "copy: ", src.describe(), " into ", dst.describe());
  if (src.nbytes() == 0) return;
  activate();
  LORAX_CUDA_CHECK(
      cudaMemcpyAsync(dst.raw(), src.raw(), src.nbytes(), cudaMemcpyDefault, stream()));
}

void CudaBackend::synchronize() {
  activate();
  LORAX_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

DeviceMemoryInfo CudaBackend::memory_info() const {
  activate();
  DeviceMemoryInfo info;
  LORAX_CUDA_CHECK(cudaMemGetInfo(&info.free, &info.total));
  return info;
}

void CudaBackend::reserve(const StepCapacity& capacity) {
  activate();
  capacity_ = capacity;
  if (capacity.heads.num_heads > 0)
    attention_scratch_.reserve(cuda::attention_workspace_bytes(
        int(capacity.max_tokens), int(capacity.max_sequences), int(capacity.max_context),
        attention_shape(capacity.heads, 1.0f)));
  if (capacity.max_lora_rank > 0)
    lora_scratch_.reserve(
        cuda::lora_scratch_bytes(int(capacity.max_tokens), int(capacity.max_lora_rank)));
  if (capacity.vocab > 0)
    sampling_scratch_.reserve(cuda::sampling_workspace_bytes(int(kSampleChunk), capacity.vocab));
}

// ---- ops ----

void CudaBackend::linear(const Tensor& x, const Tensor& w, Tensor& y) {
  check_activation(x, "linear");
  LORAX_CHECK(w.dtype() == x.dtype() && x.dim(1) == w.dim(1) && y.dim(0) == x.dim(0) &&
                  y.dim(1) == w.dim(0) && (y.dtype() == x.dtype() || y.dtype() == DType::F32),
              "linear: x ", x.describe(), " . w ", w.describe(), "^T into y ", y.describe());
  activate();
  gemm_->matmul(x.raw(), w.raw(), x.dtype(), y.raw(), y.dtype(), x.dim(0), w.dim(0), x.dim(1),
                stream());
}

void CudaBackend::rms_norm(const Tensor& x, const Tensor& w, float eps, float weight_offset,
                           Tensor& out) {
  check_activation(x, "rms_norm");
  check_activation(out, "rms_norm");
  activate();
  cuda::rms_norm(x.raw(), x.dtype(), w.raw(), w.dtype(), x.dim(0), x.dim(1), eps, weight_offset,
                 out.raw(), out.dtype(), stream());
}

void CudaBackend::add_rms_norm(Tensor& residual, const Tensor& x, const Tensor& w, float eps,
                               float weight_offset, Tensor& out) {
  check_activation(residual, "add_rms_norm");
  check_activation(x, "add_rms_norm");
  activate();
  cuda::add_rms_norm(residual.raw(), residual.dtype(), x.raw(), x.dtype(), w.raw(), w.dtype(),
                     x.dim(0), x.dim(1), eps, weight_offset, out.raw(), out.dtype(), stream());
}

void CudaBackend::add(Tensor& x, const Tensor& y) {
  check_activation(x, "add");
  check_activation(y, "add");
  activate();
  cuda::add(x.raw(), x.dtype(), y.raw(), y.dtype(), x.numel(), stream());
}

void CudaBackend::embedding(const Tensor& ids, const Tensor& table, float scale, Tensor& out) {
  check_activation(out, "embedding");
  activate();
  cuda::embedding(ids.data<int32_t>(), ids.numel(), table.raw(), table.dtype(), table.dim(1),
                  scale, out.raw(), out.dtype(), stream());
}

void CudaBackend::gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) {
  activate();
  cuda::gather_rows(x.raw(), x.dim(1), x.dtype(), indices.data<int32_t>(), indices.numel(),
                    out.raw(), stream());
}

void CudaBackend::bias_silu_residual(const Tensor& x, const Tensor& y, const Tensor& bias,
                                     Tensor& out) {
  check_activation(x, "bias_silu_residual");
  check_activation(out, "bias_silu_residual");
  LORAX_CHECK(bias.dtype() == DType::F32 && x.dtype() == out.dtype() &&
                  (y.dtype() == x.dtype() || y.dtype() == DType::F32),
              "bias_silu_residual: x and out share the activation dtype, y is in it or f32, "
              "bias is f32");
  activate();
  cuda::bias_silu_residual(x.raw(), y.raw(), y.dtype(), bias.data<float>(),
                           x.numel() / bias.numel(), bias.numel(), out.raw(), x.dtype(), stream());
}

void CudaBackend::rotary_kv_write(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
                                  const HeadLayout& heads, const Tensor& slots,
                                  KvCacheLayer& cache) {
  check_activation(qkv, "rotary_kv_write");
  LORAX_CHECK(cos_sin.dtype() == DType::F32 && cos_sin.dim(1) == heads.head_dim,
              "rotary: table ", cos_sin.describe(), " for head_dim ", heads.head_dim);
  activate();
  cuda::RotaryKvArgs args;
  args.qkv = qkv.raw();
  args.act = qkv.dtype();
  args.num_tokens = qkv.dim(0);
  args.num_heads = int(heads.num_heads);
  args.num_kv_heads = int(heads.num_kv_heads);
  args.head_dim = int(heads.head_dim);
  args.positions = positions.data<int32_t>();
  args.cos_sin = cos_sin.data<float>();
  args.slots = slots.data<int32_t>();
  args.k_cache = cache.k.raw();
  args.v_cache = cache.v.raw();
  args.cache_dtype = cache.k.dtype();
  args.k_scale = cache.k_scale;
  args.v_scale = cache.v_scale;
  cuda::rotary_kv_write(args, stream());
}

void CudaBackend::gated_activation(const Tensor& gate_up, Activation act, Tensor& out) {
  check_activation(gate_up, "gated_activation");
  activate();
  cuda::gated_activation(gate_up.raw(), gate_up.dim(0), out.dim(1), act, out.raw(),
                         gate_up.dtype(), stream());
}

void CudaBackend::attention(const Tensor& qkv, const KvCacheLayer& cache,
                            const AttentionChunks& chunks, const HeadLayout& heads, float scale,
                            Tensor& out) {
  check_activation(qkv, "attention");
  activate();
  cuda::PagedKvView kv;
  kv.k = cache.k.raw();
  kv.v = cache.v.raw();
  kv.dtype = cache.k.dtype();
  kv.k_scale = cache.k_scale;
  kv.v_scale = cache.v_scale;
  kv.block_size = int(cache.block_size());
  kv.num_blocks = int(cache.num_blocks());
  cuda::AttentionBatch batch;
  batch.cu_seqlens_q = chunks.cu_seqlens_q.data<int32_t>();
  batch.seqlens_k = chunks.seqlens_k.data<int32_t>();
  batch.block_tables = chunks.block_tables.data<int32_t>();
  batch.num_seqs = int(chunks.num_sequences());
  batch.num_tokens = int(qkv.dim(0));
  batch.max_blocks = int(chunks.block_tables.dim(1));
  batch.max_q = int(chunks.max_q);
  batch.max_s = int(chunks.max_s);
  cuda::paged_attention(qkv.raw(), heads.qkv_width(), qkv.dtype(), kv, batch,
                        attention_shape(heads, scale), out.raw(), attention_scratch_.data(),
                        attention_scratch_.bytes(), stream());
}

// ---- LoRA pool ----

int64_t CudaBackend::lora_table_index(int64_t layer, LoraTarget target) const {
  if (target == LoraTarget::LmHead) return lora_layers_ * kLayerLoraTargets;
  return layer * kLayerLoraTargets + int64_t(target);
}

void CudaBackend::lora_configure(int64_t num_slots, int64_t num_layers) {
  LORAX_CHECK(num_slots >= 0 && num_layers >= 0, "lora_configure: ", num_slots, " slots");
  activate();
  synchronize();  // steps in flight may still read the old pool
  lora_slots_.assign(size_t(num_slots), {});
  lora_layers_ = num_layers;
  const int64_t entries = (num_layers * kLayerLoraTargets + 1) * num_slots;
  table_a_.assign(size_t(entries), nullptr);
  table_b_.assign(size_t(entries), nullptr);
  table_rank_.assign(size_t(entries), 0);
  table_scale_.assign(size_t(entries), 0.0f);
  table_a_dev_ = alloc({entries * int64_t(sizeof(void*))}, DType::U8);
  table_b_dev_ = alloc({entries * int64_t(sizeof(void*))}, DType::U8);
  table_rank_dev_ = alloc({entries}, DType::I32);
  table_scale_dev_ = alloc({entries}, DType::F32);
  upload_lora_tables();
}

void CudaBackend::upload_lora_tables() {
  auto put = [&](const void* src, Tensor& dst) {
    LORAX_CUDA_CHECK(cudaMemcpy(dst.raw(), src, dst.nbytes(), cudaMemcpyHostToDevice));
  };
  if (table_rank_.empty()) return;
  put(table_a_.data(), table_a_dev_);
  put(table_b_.data(), table_b_dev_);
  put(table_rank_.data(), table_rank_dev_);
  put(table_scale_.data(), table_scale_dev_);
}

void CudaBackend::lora_load(int64_t slot, std::shared_ptr<const LoraWeightSet> weights,
                            DType activation) {
  LORAX_CHECK(slot >= 0 && slot < int64_t(lora_slots_.size()), "lora_load: slot ", slot,
              " outside the pool of ", lora_slots_.size());
  LORAX_CHECK(activation == DType::F32 || activation == DType::BF16,
              "lora_load: activation dtype ", dtype_name(activation));
  activate();
  synchronize();  // the slot's old weights may still be read by a step in flight
  const int64_t slots = int64_t(lora_slots_.size());
  for (int64_t e = 0; e < lora_layers_ * kLayerLoraTargets + 1; ++e) {
    table_a_[size_t(e * slots + slot)] = table_b_[size_t(e * slots + slot)] = nullptr;
    table_rank_[size_t(e * slots + slot)] = 0;
  }
  LoraSlotMemory& memory = lora_slots_[size_t(slot)];
  memory = {};
  if (weights) {
    // Every pair of the adapter, in (layer, target) order, converted once on the host.
    struct Pair {
      int64_t entry;
      const LoraWeights* w;
    };
    std::vector<Pair> pairs;
    int64_t total = 0;
    for (int64_t l = 0; l < int64_t(weights->layers.size()); ++l)
      for (int t = 0; t < kLayerLoraTargets; ++t) {
        const LoraWeights& w = weights->layers[size_t(l)][size_t(t)];
        if (!w.defined()) continue;
        pairs.push_back({lora_table_index(l, LoraTarget(t)), &w});
        target_out_[t] = w.b.dim(0);
      }
    if (weights->lm_head.defined()) {
      pairs.push_back({lora_table_index(0, LoraTarget::LmHead), &weights->lm_head});
      target_out_[kLayerLoraTargets] = weights->lm_head.b.dim(0);
    }
    for (const Pair& p : pairs) total += p.w->a.numel() + p.w->b.numel();
    Tensor host = Tensor::empty({total}, activation);
    int64_t at = 0;
    auto put = [&](const Tensor& t) {
      for (int64_t i = 0; i < t.numel(); ++i, ++at) {
        const float v = cpu::load_as_f32(t.raw(), t.dtype(), i);
        if (activation == DType::F32) {
          host.data<float>()[at] = v;
        } else {
          host.data<uint16_t>()[at] = f32_to_bf16(v);
        }
      }
    };
    for (const Pair& p : pairs) {
      put(p.w->a);
      put(p.w->b);
    }
    memory.storage = upload(host);
    memory.weights = std::move(weights);
    const size_t elem = dtype_size(activation);
    const char* base = static_cast<const char*>(memory.storage.raw());
    int64_t offset = 0;
    for (const Pair& p : pairs) {
      const size_t i = size_t(p.entry * slots + slot);
      table_a_[i] = base + size_t(offset) * elem;
      offset += p.w->a.numel();
      table_b_[i] = base + size_t(offset) * elem;
      offset += p.w->b.numel();
      table_rank_[i] = int32_t(p.w->rank());
      table_scale_[i] = p.w->scale;
    }
  }
  upload_lora_tables();
}

void CudaBackend::lora(const Tensor& x, const LoraStep& step, int64_t layer,
                       std::span<const LoraSlice> slices, Tensor& y) {
  check_activation(x, "lora");
  if (step.empty()) return;
  LORAX_CHECK(int64_t(slices.size()) <= cuda::kMaxLoraSlices, "lora: ", slices.size(),
              " slices in one call");
  activate();
  const int64_t slots = int64_t(lora_slots_.size());
  cuda::LoraSlice raw[cuda::kMaxLoraSlices];
  int n = 0;
  for (const LoraSlice& s : slices) {
    const int t = s.target == LoraTarget::LmHead ? kLayerLoraTargets : int(s.target);
    if (target_out_[t] == 0) continue;  // no adapter loaded so far targets it
    const int64_t entry = lora_table_index(layer, s.target) * slots;
    raw[n].table.a = reinterpret_cast<const void* const*>(table_a_dev_.raw()) + entry;
    raw[n].table.b = reinterpret_cast<const void* const*>(table_b_dev_.raw()) + entry;
    raw[n].table.rank = table_rank_dev_.data<int32_t>() + entry;
    raw[n].table.scale = table_scale_dev_.data<float>() + entry;
    raw[n].column = s.column;
    raw[n].out = target_out_[t];
    ++n;
  }
  if (n == 0) return;
  cuda::LoraBatch batch;
  batch.seg_start = step.seg_start.data<int32_t>();
  batch.seg_slot = step.seg_slot.data<int32_t>();
  batch.row_slot = step.row_slot.data<int32_t>();
  batch.num_segments = int(step.host_seg_slot.size());
  batch.num_rows = int(x.dim(0));
  batch.max_rank = int(step.max_rank);
  LORAX_CHECK(lora_scratch_.bytes() >= cuda::lora_scratch_bytes(batch.num_rows, batch.max_rank),
              "lora: scratch sized for a smaller step");
  cuda::lora_apply(x.raw(), x.dim(1), x.dtype(), raw, n, batch, y.raw(), y.dim(1), y.dtype(),
                   static_cast<float*>(lora_scratch_.data()), stream());
}

// ---- sampling ----

std::vector<TokenLogprob> CudaBackend::sample(const Tensor& logits,
                                              const std::vector<SampleRow>& rows) {
  LORAX_CHECK(logits.dtype() == DType::F32 && logits.dim(0) >= int64_t(rows.size()),
              "sample: logits ", logits.describe(), " for ", rows.size(), " rows");
  activate();
  const int64_t vocab = logits.dim(1);
  std::vector<TokenLogprob> out;
  out.reserve(rows.size());
  for (size_t first = 0; first < rows.size(); first += size_t(kSampleChunk)) {
    const size_t n = std::min(rows.size() - first, size_t(kSampleChunk));
    // Parameters, then the histories the penalties read (only for rows that have penalties),
    // then the allowed-token masks of structured rows, then the rows' logit biases, all in one
    // upload.
    std::vector<cuda::DeviceSampleRow> params(n);
    std::vector<int32_t> histories;
    std::vector<uint32_t> masks;
    std::vector<LogitBias> biases;
    for (size_t r = 0; r < n; ++r) {
      const SampleRow& row = rows[first + r];
      cuda::DeviceSampleRow& p = params[r];
      p = {};
      p.temperature = row.params.temperature;
      p.top_p = row.params.top_p;
      p.typical_p = row.params.typical_p;
      p.repetition_penalty = row.params.repetition_penalty;
      p.frequency_penalty = row.params.frequency_penalty;
      p.presence_penalty = row.params.presence_penalty;
      p.top_k = row.params.top_k;
      p.top_logprobs = row.top_logprobs;
      p.forced_id = row.forced_id;
      p.seed = row.params.seed;
      p.draw_index = row.draw_index;
      p.history_begin = int32_t(histories.size());
      if (row.forced_id < 0 && row.params.penalised()) {
        histories.insert(histories.end(), row.history.begin(), row.history.end());
        p.history_len = int32_t(row.history.size());
        p.prompt_len = int32_t(row.prompt_len);
      }
      p.mask_begin = int32_t(masks.size());
      if (row.forced_id < 0 && !row.allowed.empty()) {
        masks.insert(masks.end(), row.allowed.begin(), row.allowed.end());
        p.mask_words = int32_t(row.allowed.size());
      }
      p.bias_begin = int32_t(biases.size());
      if (row.forced_id < 0) {
        biases.insert(biases.end(), row.logit_bias.begin(), row.logit_bias.end());
        p.bias_len = int32_t(row.logit_bias.size());
      }
    }
    const size_t param_bytes = n * sizeof(cuda::DeviceSampleRow);
    const size_t history_bytes = histories.size() * sizeof(int32_t);
    const size_t mask_bytes = masks.size() * sizeof(uint32_t);
    const size_t bias_bytes = biases.size() * sizeof(LogitBias);
    const size_t up_bytes = param_bytes + history_bytes + mask_bytes + bias_bytes;
    if (sample_host_.nbytes() < up_bytes) {
      const int64_t bytes = int64_t(std::max<size_t>(up_bytes * 2, 1 << 16));
      sample_host_ = alloc_pinned({bytes}, DType::U8);
      sample_dev_ = alloc({bytes}, DType::U8);
    }
    std::memcpy(sample_host_.raw(), params.data(), param_bytes);
    std::memcpy(sample_host_.data<char>() + param_bytes, histories.data(), history_bytes);
    std::memcpy(sample_host_.data<char>() + param_bytes + history_bytes, masks.data(), mask_bytes);
    std::memcpy(sample_host_.data<char>() + param_bytes + history_bytes + mask_bytes,
                biases.data(), bias_bytes);
    Tensor up_src = sample_host_.rows(0, int64_t(up_bytes));
    Tensor up_dst = sample_dev_.rows(0, int64_t(up_bytes));
    copy(up_src, up_dst);

    // Results: ids [n], logprobs [n], top ids [n, 20], top logprobs [n, 20].
    const size_t result_bytes = n * (2 + 2 * kMaxTopLogprobs) * 4;
    if (results_host_.nbytes() < result_bytes) {
      const int64_t bytes = int64_t(kSampleChunk * (2 + 2 * kMaxTopLogprobs) * 4);
      results_host_ = alloc_pinned({bytes}, DType::U8);
      results_dev_ = alloc({bytes}, DType::U8);
    }
    char* dev = results_dev_.data<char>();
    auto* ids = reinterpret_cast<int32_t*>(dev);
    auto* logprobs = reinterpret_cast<float*>(dev + n * 4);
    auto* top_ids = reinterpret_cast<int32_t*>(dev + n * 8);
    auto* top_lp = reinterpret_cast<float*>(dev + n * 8 + n * kMaxTopLogprobs * 4);
    cuda::sample(
        logits.data<float>() + int64_t(first) * vocab, int(n), vocab,
        reinterpret_cast<const cuda::DeviceSampleRow*>(sample_dev_.raw()),
        reinterpret_cast<const int32_t*>(sample_dev_.data<char>() + param_bytes),
        reinterpret_cast<const uint32_t*>(sample_dev_.data<char>() + param_bytes + history_bytes),
        reinterpret_cast<const LogitBias*>(sample_dev_.data<char>() + param_bytes + history_bytes +
                                           mask_bytes),
        ids, logprobs, top_ids, top_lp, sampling_scratch_.data(), sampling_scratch_.bytes(),
        stream());
    Tensor down_src = results_dev_.rows(0, int64_t(result_bytes));
    Tensor down_dst = results_host_.rows(0, int64_t(result_bytes));
    copy(down_src, down_dst);
    synchronize();

    const char* host = results_host_.data<char>();
    for (size_t r = 0; r < n; ++r) {
      TokenLogprob t;
      t.id = reinterpret_cast<const int32_t*>(host)[r];
      t.logprob = reinterpret_cast<const float*>(host + n * 4)[r];
      const int k = rows[first + r].top_logprobs;
      for (int j = 0; j < k; ++j) {
        const int32_t id =
            reinterpret_cast<const int32_t*>(host + n * 8)[r * kMaxTopLogprobs + size_t(j)];
        if (id < 0) break;  // a masked row with fewer allowed tokens than asked for
        t.top.emplace_back(
            id, reinterpret_cast<const float*>(
                    host + n * 8 + n * kMaxTopLogprobs * 4)[r * kMaxTopLogprobs + size_t(j)]);
      }
      out.push_back(std::move(t));
    }
  }
  return out;
}

// ---- step graphs ----

void CudaBackend::begin_step_graph() {
  activate();
  cuda::begin_capture(stream());
}

std::unique_ptr<StepGraph> CudaBackend::end_step_graph() {
  return std::make_unique<cuda::CudaStepGraph>(stream());
}

// ---- ceilings ----

namespace {

// Seconds per call of fn on the stream, best of `reps` timed with events after one warm-up.
template <typename Fn>
double best_seconds(cudaStream_t stream, int reps, Fn&& fn) {
  cudaEvent_t start = nullptr, stop = nullptr;
  LORAX_CUDA_CHECK(cudaEventCreate(&start));
  LORAX_CUDA_CHECK(cudaEventCreate(&stop));
  fn();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    LORAX_CUDA_CHECK(cudaEventRecord(start, stream));
    fn();
    LORAX_CUDA_CHECK(cudaEventRecord(stop, stream));
    LORAX_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    LORAX_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    best = std::min(best, double(ms) / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}

}  // namespace

double CudaBackend::measure_copy_bandwidth(size_t bytes) {
  activate();
  Tensor src = zeros({int64_t(bytes)}, DType::U8), dst = alloc({int64_t(bytes)}, DType::U8);
  const double s = best_seconds(stream(), 10, [&] {
    LORAX_CUDA_CHECK(
        cudaMemcpyAsync(dst.raw(), src.raw(), bytes, cudaMemcpyDeviceToDevice, stream()));
  });
  return 2.0 * double(bytes) / s;
}

double CudaBackend::measure_gemm_flops(int64_t n) {
  activate();
  // Random bf16 operands (zeros would flatter the tensor cores' power draw).
  Tensor host = Tensor::empty({n * n}, DType::BF16);
  uint32_t state = 12345;
  for (int64_t i = 0; i < n * n; ++i) {
    state = state * 1664525u + 1013904223u;
    host.data<uint16_t>()[i] = f32_to_bf16(float(int32_t(state >> 8) - (1 << 23)) / float(1 << 23));
  }
  Tensor a = upload(host), b = upload(host), c = alloc({n * n}, DType::BF16);
  const double s = best_seconds(stream(), 10, [&] {
    gemm_->matmul(a.raw(), b.raw(), DType::BF16, c.raw(), DType::BF16, n, n, n, stream());
  });
  return 2.0 * double(n) * double(n) * double(n) / s;
}

}  // namespace lorax
