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

// `lorax bench --serving`: many tenants at once. options.streams requests are kept in flight
// (a finished one is replaced at once, until options.requests have been sent), each with a
// fresh random prompt of options.prompt_tokens and options.decode_tokens new tokens, once with
// every request on its own adapter drawn with Zipf popularity (s = 1) from
// options.serving_adapters random rank-16 adapters on q_proj and v_proj, and once on the base
// model alone. The engine runs as `lorax serve` would run it (chunked prefill paced by
// --max-itl-factor, --max-active-adapters device slots, adapters loaded into a slot when a step
// needs one that is not there), driven directly: no HTTP, no tokenizer. Prints throughput
// (generated tokens/s), time to first token and inter-token latency (p50, p99) of both, and
// their ratios.
void run_serving_load(CausalLM& model, const BenchOptions& options);

}  // namespace lorax
