#include "model/lora_plan.h"

namespace lorax {

LoraSegments lora_segments(const std::vector<int32_t>& row_slot) {
  LoraSegments s;
  s.row_slot = row_slot;
  const int32_t rows = int32_t(row_slot.size());
  int32_t first = 0, last = rows;  // [first, last): from the first to the last adapter row
  while (first < rows && row_slot[size_t(first)] < 0) ++first;
  while (last > first && row_slot[size_t(last - 1)] < 0) --last;
  for (int32_t i = first; i < last;) {
    int32_t j = i;
    while (j < last && row_slot[size_t(j)] == row_slot[size_t(i)]) ++j;
    s.start.push_back(i);
    s.slot.push_back(row_slot[size_t(i)]);
    i = j;
  }
  if (!s.slot.empty()) s.start.push_back(last);
  return s;
}

}  // namespace lorax
