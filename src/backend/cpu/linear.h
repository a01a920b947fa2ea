// y[M, N] = x[M, K] . w[N, K]^T on the CPU: the matmul of every projection.
//
// Written by hand rather than through BLAS because the weights stay in their checkpoint dtype
// (bf16/f16) while activations and accumulation are f32, which no packaged BLAS offers, and
// because decode (M = 1..32) is a memory-bound GEMV where converting each weight on the fly is
// what reaches the bandwidth floor. The kernel works on row-major w directly ("dot product"
// form), so no packing copy of the weights is needed.
//
// Every output y[m, n] is reduced in the same order whatever M is or which tile computes it, so
// a sequence's results do not depend on what else is in the batch.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace lorax::cpu {

void linear(ThreadPool& pool, const Tensor& x, const Tensor& w, Tensor& y);

// The AVX-512 path, chosen at run time when the processor has it. Computes rows [m0, m1) x
// columns [n0, n1); returns false when the weight dtype has no AVX-512 kernel.
bool linear_avx512_block(const float* x, int64_t K, const void* w, DType w_dtype, float* y,
                         int64_t N, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
bool cpu_has_avx512();

}  // namespace lorax::cpu
