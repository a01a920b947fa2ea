// POST /v1/completions and /v1/chat/completions bodies, validated as OpenAI documents them (with
// vLLM's extensions top_k, repetition_penalty, ignore_eos, return_tokens_as_token_ids, and
// LoRAX's adapter_source, api_token, ignore_eos_token).
#include <algorithm>

#include "server/validation_checks.h"

namespace lorax {

namespace {

constexpr int kMaxCompletionLogprobs = 5;  // the legacy completions API's limit
constexpr int64_t kCompletionDefaultMaxTokens = 16;

std::vector<int32_t> token_ids(const FieldReader& f, const Json& list, const ServerLimits& limits) {
  // Before copying: the completions API has no truncation, so a longer list is refused anyway.
  check_input_length(int64_t(list.size()), limits, ApiFlavor::OpenAi);
  std::vector<int32_t> ids;
  for (const Json& item : list) {
    if (!item.is_number_integer())
      f.invalid("prompt", "must be a string, a list of one string, or a list of token ids; got " +
                              json_excerpt(list));
    const int64_t id = item.get<int64_t>();
    if (id < 0 || id > INT32_MAX)
      f.invalid("prompt", "holds token id " + std::to_string(id) + ", which is out of range");
    ids.push_back(int32_t(id));
  }
  if (ids.empty()) f.invalid("prompt", "must not be an empty list of token ids");
  return ids;
}

// A string, [string], [ids] or [[ids]]: one prompt only (batched prompts are not served).
PromptSpec read_completion_prompt(const FieldReader& f, const ServerLimits& limits) {
  const Json* prompt = f.value("prompt");
  if (!prompt) f.invalid("prompt", "is required");
  PromptSpec out;
  if (prompt->is_string()) {
    out.text = prompt->get<std::string>();
    return out;
  }
  if (!prompt->is_array() || prompt->empty())
    f.invalid("prompt", "must be a string, a list of one string, or a list of token ids; got " +
                            json_excerpt(*prompt));
  const Json& first = prompt->front();
  if (first.is_string() || first.is_array()) {
    if (prompt->size() > 1)
      f.invalid("prompt", "holds " + std::to_string(prompt->size()) +
                              " prompts; this server takes one prompt per request");
    if (first.is_string()) {
      out.text = first.get<std::string>();
      return out;
    }
    out.kind = PromptSpec::Kind::TokenIds;
    out.ids = token_ids(f, first, limits);
    return out;
  }
  out.kind = PromptSpec::Kind::TokenIds;
  out.ids = token_ids(f, *prompt, limits);
  return out;
}

// OpenAI content may be a string, null, or a list of parts; templates get one string.
Json flatten_content(const FieldReader& f, const Json& content, const char* key) {
  if (content.is_string() || content.is_null()) return content;
  if (!content.is_array())
    f.invalid(key,
              "content must be a string or a list of text parts, got " + json_excerpt(content));
  std::string text;
  for (const Json& part : content) {
    const bool is_text =
        has_string_field(part, "type", "text") && part.contains("text") && part["text"].is_string();
    if (!is_text)
      f.invalid(key, "content parts must be {\"type\": \"text\", \"text\": ...}; got " +
                         json_excerpt(part));
    if (!text.empty()) text += "\n";
    text += part["text"].get<std::string>();
  }
  return text;
}

Json read_messages(const FieldReader& f) {
  const Json* messages = f.value("messages");
  if (!messages) f.invalid("messages", "is required");
  if (!messages->is_array() || messages->empty())
    f.invalid("messages", "must be a non-empty list of {\"role\", \"content\"} objects");
  return read_chat_messages(f, *messages, "messages");
}

std::optional<int64_t> read_max_tokens(const FieldReader& f, const ServerLimits& limits,
                                       const char* key, int64_t minimum) {
  const auto n = f.integer(key);
  if (!n) return std::nullopt;
  if (*n < minimum)
    f.invalid(key, "must be at least " + std::to_string(minimum) + ", got " + std::to_string(*n));
  if (*n > limits.max_new_tokens)
    f.invalid(
        key, "must be <= " + std::to_string(limits.max_new_tokens) + ", got " + std::to_string(*n));
  return n;
}

}  // namespace

Json read_chat_messages(const FieldReader& f, const Json& messages, const char* key) {
  Json out = Json::array();
  for (const Json& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      f.invalid(key,
                "each message must be an object with a string \"role\"; got " + json_excerpt(m));
    Json copy = m;
    copy["content"] = flatten_content(f, m.value("content", Json()), key);
    out.push_back(std::move(copy));
  }
  return out;
}

CompletionRequest parse_completion(const Json& body, const ServerLimits& limits) {
  const FieldReader f(body);
  CompletionRequest out;
  out.model = f.string("model");
  out.spec.prompt = read_completion_prompt(f, limits);
  read_openai_sampling(f, out.spec);
  read_openai_stream(f, out.stream, out.include_usage);
  out.choices = read_openai_choices(f, limits, out.stream, /*best_of_allowed=*/true);
  // 0 is allowed: with echo and logprobs it scores a prompt without generating.
  out.spec.max_new_tokens =
      read_max_tokens(f, limits, "max_tokens", 0).value_or(kCompletionDefaultMaxTokens);
  out.spec.stop = read_stop(f, limits, /*single_ok=*/true);
  out.echo = f.boolean("echo").value_or(false);
  if (const auto lp = f.integer("logprobs")) {
    const int64_t most = std::min<int64_t>(kMaxCompletionLogprobs, limits.max_top_logprobs);
    if (*lp < 0 || *lp > most)
      f.invalid("logprobs",
                "must be between 0 and " + std::to_string(most) + ", got " + std::to_string(*lp));
    out.logprobs = int(*lp);
    out.spec.top_logprobs = int(*lp);
    out.spec.prompt_logprobs = out.echo;
  }
  out.return_tokens_as_token_ids = f.boolean("return_tokens_as_token_ids").value_or(false);
  out.spec.constraint = read_constraint(f);
  return out;
}

ChatRequest parse_chat(const Json& body, const ServerLimits& limits) {
  const FieldReader f(body);
  ChatRequest out;
  out.model = f.string("model");
  out.spec.prompt.kind = PromptSpec::Kind::Chat;
  out.spec.prompt.messages = read_messages(f);
  out.spec.prompt.add_generation_prompt = f.boolean("add_generation_prompt").value_or(true);
  read_openai_sampling(f, out.spec);
  read_openai_stream(f, out.stream, out.include_usage);
  out.choices = read_openai_choices(f, limits, out.stream, /*best_of_allowed=*/false);
  out.spec.max_new_tokens = read_max_tokens(f, limits, "max_tokens", 1);
  if (const auto n = read_max_tokens(f, limits, "max_completion_tokens", 1))
    out.spec.max_new_tokens = n;  // the newer name wins
  out.spec.stop = read_stop(f, limits, /*single_ok=*/true);
  out.logprobs = f.boolean("logprobs").value_or(false);
  if (const auto k = f.integer("top_logprobs")) {
    if (*k < 0 || *k > limits.max_top_logprobs)
      f.invalid("top_logprobs", "must be between 0 and " + std::to_string(limits.max_top_logprobs) +
                                    ", got " + std::to_string(*k));
    if (*k > 0 && !out.logprobs) f.invalid("top_logprobs", "requires `logprobs` to be true");
    out.top_logprobs = int(*k);
  }
  out.spec.top_logprobs = out.top_logprobs;
  out.return_tokens_as_token_ids = f.boolean("return_tokens_as_token_ids").value_or(false);
  for (const char* key : {"tools", "functions"})
    refuse_if_set(f, key, "is not supported by this server");
  // Clients often send tool_choice "none"/"auto" with no tools; only a demand for a tool fails.
  if (const Json* choice = f.value("tool_choice");
      choice && !(choice->is_string() && (*choice == "none" || *choice == "auto")))
    f.invalid("tool_choice", "is not supported by this server");
  out.spec.constraint = read_constraint(f);
  return out;
}

}  // namespace lorax
