// The `lorax` command: generate, bench (serve follows with the HTTP layer).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "cli/bench_command.h"
#include "cli/generate_command.h"
#include "cli/loadgen_command.h"
#include "cli/serve_command.h"
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
  CLI::App* bench = app.add_subcommand("bench", "prefill/decode throughput against the hardware");
  bench_options.model.add_to(*bench, false);
  bench->add_option("--shape", bench_options.shape,
                    "synthetic shape: llama-3-8b, llama-3.2-1b, gemma-2b, tiny");
  bench->add_option("--dtype", bench_options.dtype, "weights of synthetic shapes: bf16, f16, f32");
  bench->add_option("--prompt-tokens", bench_options.prompt_tokens)->check(CLI::Range(1, 1 << 20));
  bench->add_option("--decode-tokens", bench_options.decode_tokens)->check(CLI::Range(1, 1 << 20));
  bench->add_option("--batch", bench_options.batch_sizes, "batch sizes to measure")->delimiter(',');
  bench
      ->add_option("--adapters", bench_options.adapter_counts,
                   "distinct LoRA adapters per batch, e.g. 0,1,8,32 (0: base)")
      ->delimiter(',');
  bench->add_option("--adapter-rank", bench_options.adapter_rank)->check(CLI::Range(1, 1024));
  bench->add_option("--prefill-batch", bench_options.prefill_batch,
                    "add a prefill-only row of this many prompts (0: none)")
      ->check(CLI::Range(0, 1 << 16));
  bench->add_option("--prefill-tokens", bench_options.prefill_tokens, "tokens per prompt of it")
      ->check(CLI::Range(1, 1 << 20));
  bench->add_flag("--scenarios", bench_options.scenarios,
                  "serving scenarios instead: shared system prompts (prefix cache on/off) and a "
                  "long prompt among decoding streams (chunked prefill on/off)");
  bench->add_flag("--serving", bench_options.serving,
                  "a serving load instead: --streams requests in flight (256), --requests in all "
                  "(0: four per stream), prompts of --prompt-tokens, --decode-tokens new tokens, "
                  "over --serving-adapters random rank-16 q_proj/v_proj adapters (1000) with "
                  "Zipf popularity, and over none");
  bench->add_flag("--speculation", bench_options.speculation,
                  "speculative decoding instead: the cost of verifying 1 + --speculative-tokens "
                  "tokens per sequence (4 when not given) at each --batch, the gain with drafts "
                  "right with p = 0.5 and 0.8, and with --prompt, prompt lookup on real text");
  bench->add_option("--prompt", bench_options.prompts,
                    "with --speculation: a text prompt (repeatable), run on the base model and "
                    "every --adapter");
  bench->add_option("--serving-adapters", bench_options.serving_adapters)
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  bench->add_option("--streams", bench_options.streams)
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  bench->add_option("--requests", bench_options.requests)
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  std::vector<std::string> bench_tokenizers;
  bench
      ->add_option("--tokenizer", bench_tokenizers,
                   "measure tokenizer.json load time and encode MB/s instead (repeatable)")
      ->check(CLI::ExistingFile);

  lorax::MaskBenchOptions maskbench_options;
  bench->add_option("--maskbench", maskbench_options.path,
                    "MaskBench JSON lines (.jsonl or .jsonl.gz): constraint masks instead")
      ->check(CLI::ExistingFile);
  bench->add_option("--maskbench-tokenizer", maskbench_options.tokenizer_path,
                    "tokenizer.json for --maskbench")
      ->check(CLI::ExistingFile);

  std::string tokenize_model, tokenize_requests = "-";
  CLI::App* tok = app.add_subcommand("tokenize", "encode or decode JSON-line requests");
  tok->add_option("--model", tokenize_model, "checkpoint directory with tokenizer.json")
      ->required();
  tok->add_option("--requests", tokenize_requests, "JSON-lines file, - for stdin");

  lorax::ServeOptions serve_options;
  CLI::App* serve = app.add_subcommand("serve", "serve the LoRAX and OpenAI HTTP APIs");
  serve_options.model.add_to(*serve, false);
  serve->add_option("--host", serve_options.host, "address to listen on");
  serve->add_option("--port", serve_options.port)->check(CLI::Range(0, 65535));
  serve->add_option("--api-key", serve_options.api_key, "require Authorization: Bearer KEY");
  serve->add_option("--adapter-root", serve_options.adapter_root,
                    "directory under which adapter_source \"local\" ids are loaded");
  serve->add_option("--served-model-name", serve_options.served_model_name,
                    "base model id (default: the checkpoint directory's name)");
  serve
      ->add_option("--max-concurrent-requests", serve_options.max_concurrent_requests,
                   "requests in flight beyond which clients get 429")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  serve->add_option("--max-input-length", serve_options.limits.max_input_length)
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  serve->add_option("--max-total-tokens", serve_options.limits.max_total_tokens)
      ->check(CLI::Range(int64_t(2), int64_t(1) << 30));
  serve->add_option("--max-stop-sequences", serve_options.limits.max_stop_sequences)
      ->check(CLI::Range(int64_t(0), int64_t(1024)));
  serve
      ->add_option("--max-new-tokens", serve_options.limits.max_new_tokens,
                   "the most tokens one request may ask to generate")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  serve
      ->add_option("--max-best-of", serve_options.limits.max_best_of,
                   "the most sequences one request may ask for (best_of, n)")
      ->check(CLI::Range(int64_t(1), int64_t(64)));
  serve->add_option("--preloaded-adapter-ids", serve_options.preloaded_adapter_ids,
                    "adapters loaded at start and never evicted (registered ids or directories "
                    "under --adapter-root)");
  serve->add_option("--adapter-id", serve_options.adapter_id,
                    "the adapter of requests that name none (default: the base model)");
  serve->add_option("--chat-template", serve_options.chat_template_file,
                    "Jinja chat template file for checkpoints that ship none (or to replace it)");
  serve
      ->add_option("--max-top-logprobs", serve_options.limits.max_top_logprobs,
                   "the most alternatives per token a request may ask for")
      ->check(CLI::Range(int64_t(0), int64_t(20)));
  serve
      ->add_option("--max-request-bytes", serve_options.limits.max_body_bytes,
                   "larger request bodies are refused with 413 before they are read")
      ->check(CLI::Range(size_t(1024), size_t(1) << 32));
  serve
      ->add_option("--http-threads", serve_options.limits.http_threads,
                   "I/O threads serving every connection (event-driven: none waits for the engine)")
      ->check(CLI::Range(1, 256));
  serve
      ->add_option(
          "--max-connections", serve_options.limits.max_connections,
          "connections open at once; beyond, 503 with Retry-After and the connection closed")
      ->check(CLI::Range(1, 1000000));
  serve
      ->add_option("--request-read-timeout", serve_options.limits.request_read_timeout_s,
                   "seconds to receive a request's headers and body (from its first byte)")
      ->check(CLI::Range(0.1, 3600.0));
  serve
      ->add_option("--keep-alive-timeout", serve_options.limits.keep_alive_timeout_s,
                   "seconds an idle connection is kept open between requests")
      ->check(CLI::Range(0.1, 3600.0));
  serve
      ->add_option("--shutdown-grace", serve_options.shutdown_grace_s,
                   "seconds in-flight requests get to finish on SIGINT/SIGTERM")
      ->check(CLI::Range(0.0, 3600.0));

  lorax::LoadgenOptions load;
  CLI::App* loadgen =
      app.add_subcommand("loadgen", "drive a running server with streaming clients");
  loadgen->add_option("--host", load.host);
  loadgen->add_option("--port", load.port)->check(CLI::Range(1, 65535));
  loadgen->add_option("--api-key", load.api_key);
  loadgen->add_option("--clients", load.clients)->check(CLI::Range(1, 4096));
  loadgen->add_option("--adapters", load.adapters, "adapter ids spread over clients; base = none")
      ->delimiter(',');
  loadgen->add_option("--requests", load.requests_per_client, "requests per client")
      ->check(CLI::Range(1, 1000000));
  loadgen->add_option("--max-new-tokens", load.max_new_tokens)->check(CLI::Range(1, 1 << 20));
  loadgen->add_option("--prompt", load.prompt);
  loadgen->add_option("--time-limit", load.time_limit_s, "seconds before clients stop")
      ->check(CLI::Range(1.0, 86400.0));
  loadgen
      ->add_option("--connections", load.connections,
                   "idle keep-alive connections held open during the run")
      ->check(CLI::Range(0, 1000000));

  CLI11_PARSE(app, argc, argv);
  try {
    if (gen->parsed()) return generate(generate_options);
    if (bench->parsed() && !maskbench_options.path.empty())
      return lorax::run_maskbench(maskbench_options);
    if (bench->parsed())
      return bench_tokenizers.empty() ? lorax::run_bench(bench_options)
                                      : lorax::run_tokenizer_bench(bench_tokenizers);
    if (tok->parsed()) return lorax::run_tokenize(tokenize_model, tokenize_requests);
    if (loadgen->parsed()) return lorax::run_loadgen(load);
    if (serve->parsed()) return lorax::run_serve(serve_options);
  } catch (const lorax::Error& e) {
    lorax::log_error(e.what());
    return 1;
  } catch (const std::exception& e) {
    lorax::log_error("internal error: ", e.what());
    return 1;
  }
  return 0;
}
