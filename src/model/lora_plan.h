// Where LoRA applies in one forward step: the runs of rows sharing an adapter, over the step's
// tokens and over the rows that reach the LM head. The model asks it to add each targeted
// projection's low-rank update after the base matmul; the model itself only names projections.
#pragma once

#include <utility>
#include <vector>

#include "backend/backend.h"
#include "model/forward_batch.h"

namespace lorax {

class LoraPlan {
 public:
  // lm_rows: the step's rows that get logits, in output order.
  LoraPlan(const AdapterBatchData& data, const std::vector<int32_t>& lm_rows);

  // y += LoRA(x) for each (target, first output column) of a (possibly fused) projection.
  void apply(Backend& backend, int64_t layer,
             std::initializer_list<std::pair<LoraTarget, int64_t>> targets, const Tensor& x,
             Tensor& y) const;
  void apply_lm_head(Backend& backend, const Tensor& x, Tensor& y) const;

 private:
  struct Run {
    int64_t begin, end;
    int32_t adapter;
  };
  static std::vector<Run> runs_of(const std::vector<int32_t>& adapter_of_row);
  std::vector<LoraSegment> segments(const std::vector<Run>& runs, int64_t layer,
                                    LoraTarget target) const;

  const AdapterBatchData& data_;
  std::vector<Run> token_runs_;
  std::vector<Run> lm_runs_;
};

}  // namespace lorax
