// `lorax bench --scenarios`: serving scenarios that measure what the scheduler and the prefix
// cache are for, each with the feature on and off on the same model.
// - shared system prompts: 64 requests over 8 adapters, each adapter's 8 sharing a 1,000-token
//   system prompt and adding their own 50-token question, arriving one per engine step: prompt
//   tokens computed and time to first token p50/p99, prefix cache on and off;
// - a long prompt among streams: one 4,000-token prompt arrives while 32 streams decode: the
//   streams' inter-token latency p99 while it is read against their steady state, chunked
//   prefill off (one 4,096-token prefill step), on with fixed 512-token chunks, and on with
//   chunks sized by the decode pace (--max-itl-factor, 2 when off on the command line).
// The first scenario reads prompts as `lorax serve` would: chunked, paced by --max-itl-factor.
#pragma once

#include "cli/bench_command.h"
#include "model/causal_lm.h"

namespace lorax {

// Prints both tables for `model` (which must hold at least 4,100 positions).
void run_bench_scenarios(CausalLM& model, const BenchOptions& options);

}  // namespace lorax
