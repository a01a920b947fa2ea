// `lorax generate`: the offline batch command. Reads one JSON request a line, schedules them all
// together through the engine (one continuously batched run), and writes one JSON result a line
// in request order.
//
// Request: {"id": any, "prompt_ids": [int] | "prompt": str | "messages": [{"role", "content"}],
//           "max_new_tokens": int, "temperature": number,
//           "top_k": int, "top_p": number, "seed": int, "top_logprobs": 0..20,
//           "prompt_logprobs": bool, "ignore_eos": bool, "adapter": NAME | null}
// Result:  {"id", "adapter", "prompt_ids", "generated_ids", "finish_reason": "length"|"eos",
//           "prompt_logprobs": null | [null, {"id", "logprob", "top": [[id, logprob], ...]}, ...],
//           "logprobs": [{"id", "logprob", "top": [...]}, ...], "text": decoded generation}
// ("text" when the checkpoint has a tokenizer.json; "prompt" is encoded with the tokenizer's
// special tokens, "messages" through the chat template with the generation prompt.)
// A line that cannot be served is answered {"id", "error": "..."} in its place; the others run
// normally and the command exits with status 2 at the end.
#pragma once

#include <iosfwd>
#include <string>

#include "cli/model_options.h"
#include "tokenizer/text_processor.h"

namespace lorax {

struct GenerateOptions {
  ModelOptions model;
  std::string requests_path = "-";
  bool progress = true;
};

// Runs the whole command on already-open streams; returns the exit status.
int run_generate(const GenerateOptions& options, std::istream& requests, std::ostream& results);
int run_generate(const GenerateOptions& options, CausalLM& model, const TextProcessor* text,
                 std::istream& requests, std::ostream& results);

}  // namespace lorax
