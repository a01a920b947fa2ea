// Dense matmul through cuBLASLt: y[T, N] = x[T, K] . w[N, K]^T with f32 accumulation.
//
// Operands are BF16 (y BF16 or F32: the LM head writes f32 logits) or all F32. F32 runs with
// CUBLAS_COMPUTE_32F, never TF32, so the f32 mode checks the model at full precision. The
// chosen algorithm and descriptors are cached per shape, so a step's GEMMs cost no heuristic
// queries after the first of their shape.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <tuple>

#include "backend/cuda/device_memory.h"
#include "core/dtype.h"

namespace lorax::cuda {

class CublasLtGemm {
 public:
  CublasLtGemm();
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm&) = delete;
  CublasLtGemm& operator=(const CublasLtGemm&) = delete;

  void matmul(const void* x, const void* w, DType operands, void* y, DType y_dtype, int64_t T,
              int64_t N, int64_t K, cudaStream_t stream);

 private:
  struct Plan;
  using Key = std::tuple<int64_t, int64_t, int64_t, int, int>;
  const Plan& plan_for(int64_t T, int64_t N, int64_t K, DType operands, DType y_dtype);

  cublasLtHandle_t handle_ = nullptr;
  DeviceScratch workspace_;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

}  // namespace lorax::cuda
