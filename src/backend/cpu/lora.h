// Segmented LoRA on the CPU: per segment, a shrink and an expand through the same matmul kernel
// as the base projections, then a scaled add into the output's column range.
#pragma once

#include <vector>

#include "backend/lora.h"
#include "core/thread_pool.h"

namespace lorax::cpu {

void lora(ThreadPool& pool, const Tensor& x, const std::vector<LoraSegment>& segments,
          int64_t column, Tensor& y);

}  // namespace lorax::cpu
