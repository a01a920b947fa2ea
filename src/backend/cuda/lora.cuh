// Multi-adapter LoRA on the device: shrink (x . A^T) and expand (. B^T, scaled, added into y)
// for a flat batch whose rows use different adapters (Punica's SGMV/BGMV).
//
// Adapters sit in a device pool of slots. For each (layer, target projection) the pool keeps
// slot-indexed tables: the device address of the slot's A [rank, in] and B [out, rank] (dtype
// `act`, the activation dtype), its rank (0: the adapter does not target this projection) and
// its scale (lora_alpha / r, rsLoRA, or the rank/alpha pattern's value). A step's plan is
// device metadata: segments of consecutive rows sharing a slot (row_slot gives the same per
// row). Rows whose slot is -1 (the base model) are not touched and cost nothing.
//
// One call covers every slice of a fused projection (q/k/v or gate/up): slice s adds into
// columns [column_s, column_s + out_s) of y.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace lorax::cuda {

constexpr int kMaxLoraSlices = 3;

struct LoraSlotTable {
  const void* const* a = nullptr;  // [num_slots] device pointers to A [rank, in]
  const void* const* b = nullptr;  // [num_slots] device pointers to B [out, rank]
  const int32_t* rank = nullptr;   // [num_slots]; 0: slot has no weights for this projection
  const float* scale = nullptr;    // [num_slots]
};

struct LoraSlice {
  LoraSlotTable table;
  int64_t column = 0;  // first column of y this slice adds into
  int64_t out = 0;     // width of the slice (rows of B)
};

struct LoraBatch {
  const int32_t* seg_start = nullptr;  // [num_segments + 1] row ranges, ascending from 0
  const int32_t* seg_slot = nullptr;   // [num_segments] slot of each segment; -1: skipped
  const int32_t* row_slot = nullptr;   // [num_rows] slot of each row, -1 for base rows
  int num_segments = 0;
  int num_rows = 0;  // T: rows of x and y
  int max_rank = 0;  // largest rank among the slots any segment uses (bounds the shrink buffer)
};

// Bytes of f32 scratch the shrink output needs: [num_rows, kMaxLoraSlices, max_rank].
size_t lora_scratch_bytes(int max_rows, int max_rank);

// y[r, column_s + o] += scale_s(slot) * sum_k (x[r] . A_s(slot)[k]) * B_s(slot)[o, k]
// for every row r in a segment and every slice s with rank > 0 for that slot.
// x: [num_rows, in] of `act`, contiguous. y: rows of y_row_stride elements of y_dtype, which
// is `act` or F32 (the LM head's f32 logits).
// scratch: at least lora_scratch_bytes(num_rows, max_rank) bytes.
void lora_apply(const void* x, int64_t in, DType act, const LoraSlice* slices, int num_slices,
                const LoraBatch& batch, void* y, int64_t y_row_stride, DType y_dtype,
                float* scratch, cudaStream_t stream);

}  // namespace lorax::cuda
