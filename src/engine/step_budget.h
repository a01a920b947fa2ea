// How many prompt tokens one step may compute, and how they are shared among sequences.
//
// The rule (the scheduler asks take() once per sequence that has prompt tokens left, partially
// prefilled sequences first in admission order, then waiting requests in admission order):
// - Decode tokens (one per running sequence that has finished its prompt) never ask: every
//   running stream gets its token every step, whatever the prompts waiting behind it.
// - Chunked: a sequence gets min(pending, left) tokens; the budget then shrinks by that much.
//   Once it is spent, the remaining sequences get 0 and wait for the next step. So a prompt
//   longer than the budget is read over several steps, a chunk per step.
// - Not chunked: a sequence gets all its pending tokens or none; none when they do not fit in
//   what is left, except that the first sequence of a step with nothing else to run gets all of
//   them whatever their number (a long prompt alone still runs, in one step).
#pragma once

#include <algorithm>
#include <cstdint>

namespace lorax {

class StepTokenBudget {
 public:
  StepTokenBudget(int64_t max_tokens, bool chunked) : left_(max_tokens), chunked_(chunked) {}

  // Tokens granted to a sequence with `pending` prompt tokens; `alone`: nothing else is in the
  // step or running, so an unchunked prompt over the budget may still run.
  int64_t take(int64_t pending, bool alone) {
    int64_t granted = 0;
    if (chunked_) {
      granted = std::min(pending, std::max<int64_t>(left_, 0));
    } else if (pending <= left_ || (alone && !taken_)) {
      granted = pending;
    }
    left_ -= granted;
    taken_ = taken_ || granted > 0;
    return granted;
  }
  int64_t left() const { return left_; }
  bool exhausted() const { return left_ <= 0; }

 private:
  int64_t left_;
  bool chunked_;
  bool taken_ = false;
};

}  // namespace lorax
