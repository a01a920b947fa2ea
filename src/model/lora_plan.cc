#include "model/lora_plan.h"

#include "core/error.h"

namespace lorax {

LoraPlan::LoraPlan(const AdapterBatchData& data, const std::vector<int32_t>& lm_rows)
    : data_(data) {
  if (data.empty()) return;
  for (int32_t a : data.token_adapter)
    LORAX_CHECK(a >= -1 && a < int32_t(data.adapters.size()), "adapter index ", a,
                " outside the batch's ", data.adapters.size(), " adapters");
  token_runs_ = runs_of(data.token_adapter);
  std::vector<int32_t> lm_adapter;
  for (int32_t row : lm_rows) lm_adapter.push_back(data.token_adapter.at(size_t(row)));
  lm_runs_ = runs_of(lm_adapter);
}

std::vector<LoraPlan::Run> LoraPlan::runs_of(const std::vector<int32_t>& adapter_of_row) {
  std::vector<Run> runs;
  for (int64_t i = 0; i < int64_t(adapter_of_row.size());) {
    int64_t j = i;
    while (j < int64_t(adapter_of_row.size()) && adapter_of_row[j] == adapter_of_row[i]) ++j;
    if (adapter_of_row[i] >= 0) runs.push_back({i, j, adapter_of_row[i]});  // base rows: no work
    i = j;
  }
  return runs;
}

std::vector<LoraSegment> LoraPlan::segments(const std::vector<Run>& runs, int64_t layer,
                                            LoraTarget target) const {
  std::vector<LoraSegment> out;
  for (const Run& run : runs) {
    const LoraWeights& w = data_.adapters[size_t(run.adapter)]->at(layer, target);
    if (w.defined()) out.push_back({run.begin, run.end, &w});
  }
  return out;
}

void LoraPlan::apply(Backend& backend, int64_t layer,
                     std::initializer_list<std::pair<LoraTarget, int64_t>> targets,
                     const Tensor& x, Tensor& y) const {
  for (const auto& [target, column] : targets) {
    const auto segs = segments(token_runs_, layer, target);
    if (!segs.empty()) backend.lora(x, segs, column, y);
  }
}

void LoraPlan::apply_lm_head(Backend& backend, const Tensor& x, Tensor& y) const {
  const auto segs = segments(lm_runs_, 0, LoraTarget::LmHead);
  if (!segs.empty()) backend.lora(x, segs, 0, y);
}

}  // namespace lorax
