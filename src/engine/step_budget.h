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
// - Chunked with a decode pace (DecodePace below, max_itl_factor > 0): in a step that also
//   carries decode tokens the budget shrinks to what keeps that step within the factor of a
//   decode-only step, so running streams keep their pace while a long prompt is read.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>

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

// Sizes the prompt chunks of steps that also decode, so that a stream's inter-token latency
// stays within `factor` of its steady state while prompts are read (stall-free batching, as in
// Sarathi-Serve). A fixed chunk size cannot do that on every machine: on a GPU a decode step is
// memory-bound and a few hundred prompt tokens ride along almost free, on a CPU every token
// costs as much as a decode row. So step times are measured and the chunk is re-planned after
// every step from three figures:
// - decode_s: a decode-only step's time (moving average over such steps);
// - the latest mixed step (prompt tokens beside decodes): its tokens and the time they added
//   to a decode step;
// - marginal_s: what one more prompt token adds: the secant between the last two mixed steps,
//   never below the latest step's average per token (costs are convex: free while the step is
//   memory-bound, then linear; the average is their floor). Before any mixed step, a
//   prompt-only step's time per token stands in, an overestimate (it holds the step's fixed
//   cost), so the first chunk errs small.
// The plan aims at kAim of the allowed extra time (factor - 1) * decode_s, leaving room for
// noise; it grows at most by half over the last mixed step (a cost jump between two measured
// sizes is found before it is overshot by much) and reads at least one token (a prompt always
// progresses, however slowly: on a machine where one prompt token costs more than the factor
// allows, the factor is the user's to raise). With the pace off (factor 0), nobody decoding, or
// nothing measured yet, the budget alone applies.
class DecodePace {
 public:
  static constexpr double kAim = 0.8;

  explicit DecodePace(double factor) : factor_(factor) {}

  // Most prompt tokens a step with `decode_tokens` decode rows may carry, within `budget`.
  int64_t allowance(int64_t decode_tokens, int64_t budget) const {
    if (factor_ <= 1.0 || decode_tokens == 0 || decode_s_ <= 0.0) return budget;
    const double target = kAim * (factor_ - 1.0) * decode_s_;  // seconds a chunk may add
    double fit = 0.0;
    if (last_tokens_ > 0) {
      fit = double(last_tokens_) + (target - last_extra_s_) / marginal_s_;
    } else if (prompt_token_s_ > 0.0) {
      fit = target / prompt_token_s_;
    } else {
      return budget;
    }
    int64_t tokens = std::isfinite(fit) ? int64_t(std::clamp(fit, 0.0, double(budget))) : budget;
    if (last_tokens_ > 0)
      tokens = std::min(tokens, last_tokens_ + std::max<int64_t>(4, last_tokens_ / 2));
    return std::clamp<int64_t>(tokens, 1, std::max<int64_t>(budget, 1));
  }

  // What a step computed and how long it took.
  void observe(int64_t prompt_tokens, int64_t decode_tokens, double seconds) {
    if (prompt_tokens == 0 && decode_tokens > 0) {
      decode_s_ = decode_s_ > 0.0 ? 0.8 * decode_s_ + 0.2 * seconds : seconds;
    } else if (prompt_tokens > 0 && decode_tokens == 0) {
      prompt_token_s_ = seconds / double(prompt_tokens);
    } else if (prompt_tokens > 0 && decode_s_ > 0.0) {
      observe_mixed(prompt_tokens, seconds);
    }
  }

 private:
  void observe_mixed(int64_t tokens, double seconds) {
    // Noise can make a mixed step look cheaper than a decode-only one: its prompt tokens are
    // taken to add at least a small share of a decode step, so every figure stays finite.
    const double extra = std::max(seconds - decode_s_, 0.02 * decode_s_);
    double marginal = extra / double(tokens);
    const int64_t moved = tokens - last_tokens_;
    if (last_tokens_ > 0 && std::abs(moved) >= std::max<int64_t>(4, tokens / 8)) {
      marginal = std::max(marginal, (extra - last_extra_s_) / double(moved));
    } else if (last_tokens_ > 0) {
      // Same size: what the secant learnt fades towards the average, so one slow step cannot
      // pin the chunks small; if that underestimates, the chunk grows and a new secant is taken.
      marginal = std::max(marginal, 0.5 * (marginal_s_ + marginal));
    }
    marginal_s_ = marginal;
    last_tokens_ = tokens;
    last_extra_s_ = extra;
  }

  double factor_;
  double decode_s_ = 0.0;
  double prompt_token_s_ = 0.0;
  int64_t last_tokens_ = 0;
  double last_extra_s_ = 0.0;
  double marginal_s_ = 0.0;
};

}  // namespace lorax
