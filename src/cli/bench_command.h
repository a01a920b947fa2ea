// `lorax bench`: prefill and decode throughput of the engine (any --device) on a checkpoint or
// on a synthetic shape with random weights, each figure printed beside its limit: decode against
// the bytes a step reads (weights, KV cache, adapters) over the bandwidth measured in the same
// run; prefill against its FLOPs over the GEMM rate measured in the same run (on a GPU).
#pragma once

#include <string>
#include <vector>

#include "cli/model_options.h"

namespace lorax {

struct BenchOptions {
  ModelOptions model;  // --model for a checkpoint, else --shape
  std::string shape = "llama-3.2-1b";
  std::string dtype = "bf16";  // weights of synthetic shapes
  int64_t prompt_tokens = 128;
  int64_t decode_tokens = 32;
  std::vector<int64_t> batch_sizes = {1};
  // Distinct adapters spread over each batch (0: the base model alone). Every count is measured
  // against the base in the same run.
  std::vector<int64_t> adapter_counts = {0};
  int64_t adapter_rank = 16;
  // A prefill-only row: prefill_batch prompts of prefill_tokens (0: none).
  int64_t prefill_batch = 0;
  int64_t prefill_tokens = 2048;
  // Runs the serving scenarios (bench_scenarios.h) instead of the throughput table.
  bool scenarios = false;
  // Runs the serving load (bench_scenarios.h) instead: `streams` requests in flight, `requests`
  // in all (0: four per stream), over `serving_adapters` random adapters and over none.
  bool serving = false;
  int64_t serving_adapters = 1000;
  int64_t streams = 256;
  int64_t requests = 0;
  // Runs the speculative decoding measurements (bench_speculation.h) instead; `prompts` adds
  // the real-text rows.
  bool speculation = false;
  std::vector<std::string> prompts;
};

int run_bench(const BenchOptions& options);

// Tokenizer load time and encode throughput (MB/s) for each tokenizer.json given, on a mixed
// English/code/multilingual text repeated to about 1 MB.
int run_tokenizer_bench(const std::vector<std::string>& tokenizer_paths);

// MaskBench (JSONSchemaBench): JSON lines of {name, schema, tests: [{valid, data}]}, gzip or
// plain. Compiles each schema to token masks, walks every test instance through them token by
// token, prints one JSON line per schema and a summary (maskbench_command.cc).
struct MaskBenchOptions {
  std::string path;
  std::string tokenizer_path;  // tokenizer.json the instances are tokenized with
};
int run_maskbench(const MaskBenchOptions& options);

// Synthetic configurations: "llama-3-8b", "llama-3.2-1b", "gemma-2b", "tiny". Throws for
// unknown names.
ModelConfig synthetic_config(const std::string& shape);

}  // namespace lorax
