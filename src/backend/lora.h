// LoRA data as the ops see it: low-rank A/B pairs per target projection, and the segments of a
// batch that use each adapter (runs of consecutive rows sharing one adapter, as Punica's SGMV
// and LoRAX's AdapterBatchData arrange them). Rows of no adapter belong to no segment and cost
// nothing.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace lorax {

// The projections an adapter may target. Per-layer targets come first; LmHead is model-wide.
enum class LoraTarget : int { QProj, KProj, VProj, OProj, GateProj, UpProj, DownProj, LmHead };
constexpr int kLayerLoraTargets = 7;
std::string_view lora_target_name(LoraTarget target);  // "q_proj", ..., "lm_head"

struct LoraWeights {
  Tensor a;            // [r, in]   lora_A.weight, widened to f32 at load
  Tensor b;            // [out, r]  lora_B.weight
  float scale = 1.0f;  // lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA
  bool defined() const { return a.ndim() == 2; }
  int64_t rank() const { return a.dim(0); }
};

// Every LoRA pair of one adapter; undefined entries are projections it leaves alone.
struct LoraWeightSet {
  std::vector<std::array<LoraWeights, kLayerLoraTargets>> layers;
  LoraWeights lm_head;
  const LoraWeights& at(int64_t layer, LoraTarget target) const {
    return target == LoraTarget::LmHead ? lm_head : layers[size_t(layer)][size_t(target)];
  }
};

// One segment of a LoRA op: rows [begin, end) of x get scale * (x A^T) B^T added to columns
// [column, column + out) of y.
struct LoraSegment {
  int64_t begin = 0;
  int64_t end = 0;
  const LoraWeights* weights = nullptr;
};

}  // namespace lorax
