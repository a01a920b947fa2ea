// The built-in demo: a small Llama-architecture model with random weights, two random LoRA
// adapters and a byte-level tokenizer, all built deterministically in memory, so `lorax serve`
// with no --model works on a fresh machine. Its text is gibberish by construction; the server
// says so in its log and in /info.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adapters/lora_adapter.h"
#include "model/causal_lm.h"
#include "tokenizer/text_processor.h"

namespace lorax {

struct DemoModel {
  std::unique_ptr<CausalLM> model;
  TextProcessor text;
  std::vector<std::pair<std::string, std::shared_ptr<const LoraAdapter>>> adapters;
};

DemoModel build_demo_model(Backend& backend, DType activation = DType::F32);

// Byte-level BPE over the 256 bytes (GPT-2's byte-to-unicode alphabet), no merges, with
// <|begin_of_text|> (256) added by the post-processor and <|end_of_text|> (257) as EOS.
std::string demo_tokenizer_json();

}  // namespace lorax
