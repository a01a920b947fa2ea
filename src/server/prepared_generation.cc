#include "server/prepared_generation.h"

#include <random>

#include "server/adapter_resolution.h"
#include "tokenizer/jinja/chat_template.h"
#include "tokenizer/tokenizer_config.h"

namespace lorax {

namespace {

const TextProcessor& require_text(const ServerContext& context, const char* what) {
  if (!context.text)
    throw ApiError(ErrorKind::Validation,
                   std::string("this model has no tokenizer, so ") + what +
                       " cannot be encoded; send token ids to /v1/completions instead",
                   "prompt");
  return *context.text;
}

// The adapter's own chat template, when its directory has a tokenizer_config.json with one
// (adapters fine-tuned on a chat format ship it); null otherwise. The files were read when the
// adapter was loaded, under the same rules as its weights.
std::unique_ptr<jinja::ChatTemplate> adapter_chat_template(const LoraAdapter* adapter) {
  if (!adapter) return nullptr;
  const auto& files = adapter->prompt_files();
  if (!files.count("tokenizer_config.json") && !files.count("chat_template.jinja")) return nullptr;
  const TokenizerConfig config =
      TokenizerConfig::from_files(files, "adapter '" + printable(adapter->name()) + "'");
  const std::string* source = config.chat_template();
  if (!source) return nullptr;
  nlohmann::ordered_json special = nlohmann::ordered_json::object();
  if (config.bos_token) special["bos_token"] = *config.bos_token;
  if (config.eos_token) special["eos_token"] = *config.eos_token;
  return std::make_unique<jinja::ChatTemplate>(*source, special);
}

std::vector<int32_t> encode_chat(const PromptSpec& prompt, const TextProcessor& text,
                                 const LoraAdapter* adapter) {
  if (const auto own = adapter_chat_template(adapter))
    return text.tokenizer().encode(own->apply(prompt.messages, prompt.add_generation_prompt),
                                   false);
  if (!text.has_chat_template())
    throw ApiError(ErrorKind::Validation,
                   "this model has no chat template (serve it with --chat-template FILE); use "
                   "/v1/completions with a prompt",
                   "messages");
  return text.encode_chat(prompt.messages, prompt.add_generation_prompt);
}

std::vector<int32_t> encode(const PromptSpec& prompt, const ServerContext& context,
                            const LoraAdapter* adapter) {
  switch (prompt.kind) {
    case PromptSpec::Kind::TokenIds:
      return prompt.ids;
    case PromptSpec::Kind::Text:
      return require_text(context, "text prompts").encode_prompt(prompt.text);
    case PromptSpec::Kind::Chat:
      return encode_chat(prompt, require_text(context, "chat messages"), adapter);
  }
  return {};
}

void check_total_length(int64_t input, int64_t max_new, const ServerLimits& limits,
                        ApiFlavor flavor) {
  if (input + max_new <= limits.max_total_tokens) return;
  const std::string total = std::to_string(limits.max_total_tokens);
  if (flavor == ApiFlavor::Lorax)
    throw ApiError(ErrorKind::Validation,
                   "`inputs` tokens + `max_new_tokens` must be <= " + total +
                       ". Given: " + std::to_string(input) + " `inputs` tokens and " +
                       std::to_string(max_new) + " `max_new_tokens`",
                   "max_new_tokens");
  throw ApiError(ErrorKind::Validation,
                 "This model's maximum context length is " + total +
                     " tokens. However, you requested " + std::to_string(input + max_new) +
                     " tokens (" + std::to_string(input) + " in the messages, " +
                     std::to_string(max_new) +
                     " in the completion). Please reduce the length of the messages or "
                     "completion.",
                 "max_tokens");
}

std::string prompt_text(const PromptSpec& prompt, const std::vector<int32_t>& ids, bool truncated,
                        const ServerContext& context) {
  if (prompt.kind == PromptSpec::Kind::Text && !truncated) return prompt.text;
  return context.text ? context.text->decode(ids, /*skip_special_tokens=*/true) : std::string();
}

}  // namespace

uint64_t random_seed() {
  std::random_device device;  // per request: no shared generator between threads
  return (uint64_t(device()) << 32) | device();
}

PreparedGeneration prepare_generation(const GenerationSpec& spec, const ServerContext& context,
                                      ServedAdapters& adapters, ApiFlavor flavor) {
  const ServerLimits& limits = context.limits;
  // The adapter first: its directory may carry the chat template the prompt is rendered with.
  ResolvedAdapter adapter = adapters.resolve(spec.adapter, flavor);
  if (adapter.adapter && adapter.adapter->medusa()) {
    const std::string refusal =
        context.service.model().adapter_heads_refusal(*adapter.adapter->medusa());
    if (!refusal.empty())
      throw ApiError(ErrorKind::Validation, "adapter '" + adapter.adapter->name() + "': " + refusal,
                     "adapter_id");
  }
  std::vector<int32_t> ids = encode(spec.prompt, context, adapter.adapter.get());
  if (ids.empty())
    throw ApiError(ErrorKind::Validation, "the prompt is empty (no tokens)", "prompt");
  const bool truncated = spec.truncate && int64_t(ids.size()) > *spec.truncate;
  if (truncated) ids.erase(ids.begin(), ids.end() - *spec.truncate);  // keep the last N
  const int64_t input = int64_t(ids.size());
  check_input_length(input, limits, flavor);
  const int64_t max_new = spec.max_new_tokens.value_or(
      std::min(limits.max_new_tokens, limits.max_total_tokens - input));
  check_total_length(input, max_new, limits, flavor);

  PreparedGeneration out;
  out.prompt_text = prompt_text(spec.prompt, ids, truncated, context);
  out.stop = spec.stop;
  GenerationRequest& r = out.request;
  r.prompt_ids = std::move(ids);
  r.max_new_tokens = max_new;
  r.sampling = spec.sampling;
  if (r.sampling.temperature > 0.0f) out.seed = spec.seed.value_or(random_seed());
  r.sampling.seed = out.seed.value_or(0);
  const int64_t vocab = context.service.model().config().vocab_size;
  for (const LogitBias& b : spec.logit_bias)
    if (b.id >= vocab)
      throw ApiError(ErrorKind::Validation,
                     "`logit_bias` token id " + std::to_string(b.id) +
                         " is outside the vocabulary (0.." + std::to_string(vocab - 1) + ")",
                     "logit_bias");
  r.logit_bias = spec.logit_bias;
  r.top_logprobs = spec.top_logprobs;
  r.prompt_logprobs = spec.prompt_logprobs;
  r.ignore_eos = spec.ignore_eos;
  r.speculate = spec.speculate;
  r.adapter = std::move(adapter.adapter);
  out.adapter_label = std::move(adapter.label);
  return out;
}

PreparedGeneration with_seed(const PreparedGeneration& prepared, uint64_t seed) {
  PreparedGeneration out = prepared;
  if (!out.seed) return out;  // greedy: every sequence is the same
  out.seed = seed;
  out.request.sampling.seed = seed;
  return out;
}

}  // namespace lorax
