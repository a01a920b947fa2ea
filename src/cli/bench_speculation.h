// `lorax bench --speculation`: what speculative decoding costs and gains.
// - Verification cost, for each --batch: decode steps of random prompts without speculation,
//   then the same requests with 1 + N tokens per sequence and step (N = --speculative-tokens,
//   4 when not given) from a synthetic drafter that copies the plain run's continuation and
//   makes each token wrong with probability 1 - p: p = 0 (every draft rejected: the price of a
//   verification step), 0.5 and 0.8. Prints step times, their ratio to a plain step, the drafts
//   accepted per step, tokens/s and the speed-up, and whether the outputs stayed the same.
// - With --prompt (repeatable; the model's tokenizer encodes them): those prompts, on the base
//   model and on every --adapter, in one batch, greedy, without speculation and with prompt
//   lookup: drafts accepted per decode step, tokens/s, and whether the outputs are the same.
#pragma once

#include "cli/bench_command.h"
#include "model/causal_lm.h"

namespace lorax {

void run_speculation_bench(CausalLM& model, const BenchOptions& options);

}  // namespace lorax
