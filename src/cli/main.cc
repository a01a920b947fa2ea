// The `lorax` command: generate, bench (serve follows with the HTTP layer).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "cli/bench_command.h"
#include "cli/generate_command.h"
#include "cli/tokenize_command.h"
#include "core/log.h"

namespace {

int generate(const lorax::GenerateOptions& options) {
  if (options.requests_path == "-") return lorax::run_generate(options, std::cin, std::cout);
  std::ifstream file(options.requests_path);
  LORAX_CHECK(file.good(), "cannot open requests file ", options.requests_path);
  return lorax::run_generate(options, file, std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lorax: multi-LoRA LLM inference server"};
  app.require_subcommand(1);

  lorax::GenerateOptions generate_options;
  CLI::App* gen = app.add_subcommand("generate", "run a file of JSON-line requests offline");
  generate_options.model.add_to(*gen, true);
  gen->add_option("--requests", generate_options.requests_path, "JSON-lines file, - for stdin")
      ->required();
  gen->add_flag("!--quiet", generate_options.progress, "no progress on stderr");

  lorax::BenchOptions bench_options;
  CLI::App* bench = app.add_subcommand("bench", "prefill/decode throughput on CPU");
  bench_options.model.add_to(*bench, false);
  bench->add_option("--shape", bench_options.shape,
                    "synthetic shape: llama-3.2-1b, gemma-2b, tiny");
  bench->add_option("--dtype", bench_options.dtype, "weights of synthetic shapes: bf16, f16, f32");
  bench->add_option("--prompt-tokens", bench_options.prompt_tokens)->check(CLI::Range(1, 1 << 20));
  bench->add_option("--decode-tokens", bench_options.decode_tokens)->check(CLI::Range(1, 1 << 20));
  bench->add_option("--batch", bench_options.batch_sizes, "batch sizes to measure")->delimiter(',');
  bench->add_option("--adapters", bench_options.adapter_counts,
                    "distinct LoRA adapters per batch, e.g. 0,1,8,32 (0: base)")
      ->delimiter(',');
  bench->add_option("--adapter-rank", bench_options.adapter_rank)->check(CLI::Range(1, 1024));

  std::string tokenize_model, tokenize_requests = "-";
  CLI::App* tok = app.add_subcommand("tokenize", "encode or decode JSON-line requests");
  tok->add_option("--model", tokenize_model, "checkpoint directory with tokenizer.json")->required();
  tok->add_option("--requests", tokenize_requests, "JSON-lines file, - for stdin");

  CLI11_PARSE(app, argc, argv);
  try {
    if (gen->parsed()) return generate(generate_options);
    if (bench->parsed()) return lorax::run_bench(bench_options);
    if (tok->parsed()) return lorax::run_tokenize(tokenize_model, tokenize_requests);
  } catch (const lorax::Error& e) {
    lorax::log_error(e.what());
    return 1;
  } catch (const std::exception& e) {
    lorax::log_error("internal error: ", e.what());
    return 1;
  }
  return 0;
}
