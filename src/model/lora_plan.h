// Where LoRA applies in one forward step: the runs of consecutive rows sharing an adapter slot
// (Punica's segments), over the step's tokens or over the rows that reach the LM head.
// Segments tile the rows from the first adapter row to the last one; base-model rows before
// and after are in no segment, and a run of base rows between two adapters is a segment of
// slot -1 that the ops skip. (The engine groups a step's sequences by adapter with the base
// first, so a step has no such gaps.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lorax {

struct LoraSegments {
  std::vector<int32_t> start;     // [S + 1]: segment s spans rows [start[s], start[s+1])
  std::vector<int32_t> slot;      // [S]; -1 for a gap of base rows
  std::vector<int32_t> row_slot;  // [rows], -1 for base rows
  bool empty() const { return slot.empty(); }
};

// Segments of `row_slot` (one slot per row, -1 for the base model).
LoraSegments lora_segments(const std::vector<int32_t>& row_slot);

}  // namespace lorax
