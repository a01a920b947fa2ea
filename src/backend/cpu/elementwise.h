// Row-wise and elementwise ops on the CPU: RMSNorm, residual add, embedding lookup, row gather,
// gated activations.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "io/model_config.h"

namespace lorax::cpu {

void rms_norm(ThreadPool& pool, const Tensor& x, const Tensor& w, float eps, float weight_offset,
              Tensor& out);
void add(ThreadPool& pool, Tensor& x, const Tensor& y);
void embedding(ThreadPool& pool, const Tensor& ids, const Tensor& table, float scale, Tensor& out);
void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out);
void gated_activation(ThreadPool& pool, const Tensor& gate_up, Activation act, Tensor& out);

// Reads element i of a float tensor of any float dtype as f32.
float load_as_f32(const void* data, DType dtype, int64_t i);

}  // namespace lorax::cpu
