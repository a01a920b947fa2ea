// Row-wise and elementwise ops on the device: embedding gather, row gather, RMSNorm (fused with
// the residual add), gated activation, residual add, dtype conversion.
//
// Activations (`act`) are F32 or BF16, contiguous row-major [rows, width]; arithmetic is f32
// inside every kernel, rounded once on store. Weights of norms and embeddings may be F32, BF16
// or F16. All pointers are device pointers; indices were checked on the host before the step.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"
#include "io/model_config.h"

namespace lorax::cuda {

// out[t] = table[ids[t]] * scale. table [V, H] of table_dtype; out [T, H] of act.
void embedding(const int32_t* ids, int64_t T, const void* table, DType table_dtype, int64_t H,
               float scale, void* out, DType act, cudaStream_t stream);

// out[i] = x[rows[i]] for i < R; rows of `width` elements of `dtype` (any dtype: a byte copy).
void gather_rows(const void* x, int64_t width, DType dtype, const int32_t* rows, int64_t R,
                 void* out, cudaStream_t stream);

// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * (w + weight_offset). x [T, H] of x_dtype, out
// [T, H] of out_dtype (f32 or bf16 each: the residual stream may be f32 under bf16
// activations); w [H].
void rms_norm(const void* x, DType x_dtype, const void* w, DType w_dtype, int64_t T, int64_t H,
              float eps, float weight_offset, void* out, DType out_dtype, cudaStream_t stream);

// residual[t] += x[t], then out[t] = rms_norm(residual[t]) as above, in one pass. The sum is
// formed in f32 and rounded to the residual's dtype once; the norm reads the rounded sum (what
// the unfused ops would compute). x and out share a dtype; the residual may be f32 under bf16.
void add_rms_norm(void* residual, DType residual_dtype, const void* x, DType x_dtype,
                  const void* w, DType w_dtype, int64_t T, int64_t H, float eps,
                  float weight_offset, void* out, DType out_dtype, cudaStream_t stream);

// out[t, i] = f(gate_up[t, i]) * gate_up[t, I + i]; gate_up [T, 2I], out [T, I], both act.
// f: SiLU, tanh-approximated GELU or erf GELU.
void gated_activation(const void* gate_up, int64_t T, int64_t I, Activation f, void* out,
                      DType act, cudaStream_t stream);

// out[t, i] = x[t, i] + silu(y[t, i] + bias[i]) over T rows of N (x, out in `act`, out may be
// x; y in `act` or f32).
void bias_silu_residual(const void* x, const void* y, DType y_dtype, const float* bias, int64_t T,
                        int64_t N, void* out, DType act, cudaStream_t stream);

// x[i] += y[i] for i < n (f32 or bf16 each).
void add(void* x, DType x_dtype, const void* y, DType y_dtype, int64_t n, cudaStream_t stream);

}  // namespace lorax::cuda
