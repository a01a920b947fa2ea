// The CUDA backend: every op of backend.h on one NVIDIA GPU, on one stream the backend owns.
//
// Activations are BF16 (f32 accumulation inside every op) or F32 (the full-precision mode that
// checks the model against the reference fixtures: GEMMs without TF32). Weight matrices are kept
// in the activation dtype (cuBLASLt multiplies like with like). Nothing is allocated during a
// step: scratch is sized in reserve(), adapters get device memory when loaded into a slot.
//
// The op families live one per .cu file with a small header (attention, elementwise, rotary,
// lora, sampling); this class holds the resources and turns tensors into their raw arguments.
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/device_memory.h"
#include "backend/cuda/gemm.h"

namespace lorax {

class CudaBackend final : public Backend {
 public:
  // Throws lorax::Error when the device does not exist or cannot be used.
  explicit CudaBackend(int device_index = 0);
  ~CudaBackend() override;

  std::string name() const override;
  Device device() const override { return Device::CUDA; }
  int device_index() const { return device_; }

  Tensor alloc(const Shape& shape, DType dtype) override;
  Tensor zeros(const Shape& shape, DType dtype) override;
  Tensor alloc_pinned(const Shape& shape, DType dtype) override;
  Tensor upload(const Tensor& host) override;
  Tensor download(const Tensor& tensor) override;
  void copy(const Tensor& src, Tensor& dst) override;
  void synchronize() override;
  DeviceMemoryInfo memory_info() const override;
  DType weight_dtype(DType, DType activation) const override { return activation; }
  void reserve(const StepCapacity& capacity) override;

  void linear(const Tensor& x, const Tensor& w, Tensor& y) override;
  void rms_norm(const Tensor& x, const Tensor& w, float eps, float weight_offset,
                Tensor& out) override;
  void add_rms_norm(Tensor& residual, const Tensor& x, const Tensor& w, float eps,
                    float weight_offset, Tensor& out) override;
  void add(Tensor& x, const Tensor& y) override;
  void embedding(const Tensor& ids, const Tensor& table, float scale, Tensor& out) override;
  void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) override;
  void bias_silu_residual(const Tensor& x, const Tensor& y, const Tensor& bias,
                          Tensor& out) override;
  void rotary_kv_write(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
                       const HeadLayout& heads, const Tensor& slots, KvCacheLayer& cache) override;
  void gated_activation(const Tensor& gate_up, Activation act, Tensor& out) override;
  void attention(const Tensor& qkv, const KvCacheLayer& cache, const AttentionChunks& chunks,
                 const HeadLayout& heads, float scale, Tensor& out) override;

  void lora_configure(int64_t num_slots, int64_t num_layers) override;
  void lora_load(int64_t slot, std::shared_ptr<const LoraWeightSet> weights,
                 DType activation) override;
  void lora(const Tensor& x, const LoraStep& step, int64_t layer,
            std::span<const LoraSlice> slices, Tensor& y) override;

  bool supports_step_graphs() const override { return true; }
  void begin_step_graph() override;
  std::unique_ptr<StepGraph> end_step_graph() override;

  std::vector<TokenLogprob> sample(const Tensor& logits,
                                   const std::vector<SampleRow>& rows) override;

  // Ceilings measured on this GPU, for benchmarks: device-to-device copy bandwidth in bytes/s
  // (bytes read plus bytes written, best of several copies of `bytes`), and the bf16 GEMM rate
  // in FLOP/s on an n x n x n product of random data through the same cuBLASLt path as linear().
  double measure_copy_bandwidth(size_t bytes = size_t(2) << 30);
  double measure_gemm_flops(int64_t n = 8192);

 private:
  // Makes this backend's GPU current on the calling thread (the engine thread and the loading
  // thread may differ).
  void activate() const;
  cudaStream_t stream() const { return stream_->get(); }
  // Entry of the slot-indexed LoRA tables for (layer, target); LmHead has one entry after all
  // layers.
  int64_t lora_table_index(int64_t layer, LoraTarget target) const;
  void upload_lora_tables();

  int device_;
  std::string device_name_;
  std::unique_ptr<cuda::Stream> stream_;
  std::unique_ptr<cuda::CublasLtGemm> gemm_;
  cuda::DeviceScratch attention_scratch_, lora_scratch_, sampling_scratch_;

  // LoRA pool. Per (layer, target) the tables hold, for every slot: A's and B's device
  // addresses, the rank (0: not targeted) and the scale; laid out as [entry][slot] arrays.
  struct LoraSlotMemory {
    Tensor storage;  // every A and B of the slot's adapter, in the activation dtype
    std::shared_ptr<const LoraWeightSet> weights;
  };
  std::vector<LoraSlotMemory> lora_slots_;
  int64_t lora_layers_ = 0;
  std::vector<const void*> table_a_, table_b_;  // [entries * slots]
  std::vector<int32_t> table_rank_;
  std::vector<float> table_scale_;
  Tensor table_a_dev_, table_b_dev_, table_rank_dev_, table_scale_dev_;
  int64_t target_out_[kLayerLoraTargets + 1] = {};  // output width of each target

  // Sampling staging: the rows' parameters and histories go up in one copy each, the results
  // come back in one.
  Tensor sample_host_, sample_dev_;    // bytes: DeviceSampleRow rows, histories, biases
  Tensor results_host_, results_dev_;  // bytes: ids, logprobs, top ids, top logprobs
};

}  // namespace lorax
