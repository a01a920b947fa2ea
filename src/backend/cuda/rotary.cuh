// Rotary position embedding fused with the KV-cache write (CUDA).
//
// For each token t: the q heads and k heads of row t of the fused qkv buffer are rotated in
// place (rotate-half convention of HF checkpoints) by the angles of position positions[t];
// then, if slots[t] >= 0, the (rotated) k heads and the v heads are stored into cache slot
// slots[t] (block = slot / block_size, row = slot % block_size), as `cache_dtype`: F32, BF16,
// F16, or F8E4M3 holding x / scale (saturating at +-448, round to nearest even, as
// core/dtype.h's f32_to_f8e4m3 does). The stored K is the rotated K rounded to act first (what
// a separate rotary op followed by a copy would store).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace lorax::cuda {

struct RotaryKvArgs {
  void* qkv = nullptr;  // [T, (Hq + 2 Hkv) * D] of act, modified in place
  DType act = DType::BF16;
  int64_t num_tokens = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  const int32_t* positions = nullptr;  // [T]
  const float* cos_sin = nullptr;      // [max_positions, D]: cos(p f_i) for i < D/2, then sin
  const int32_t* slots = nullptr;      // [T], -1: not stored
  void* k_cache = nullptr;             // [num_blocks, block_size, Hkv, D] of cache_dtype
  void* v_cache = nullptr;
  DType cache_dtype = DType::BF16;
  float k_scale = 1.0f;
  float v_scale = 1.0f;
};

void rotary_kv_write(const RotaryKvArgs& args, cudaStream_t stream);

}  // namespace lorax::cuda
