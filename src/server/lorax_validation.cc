// POST /generate and /generate_stream bodies, validated as LoRAX's router does
// (router/src/validation.rs): same checks, same messages.
#include <cmath>

#include "server/validation_checks.h"

namespace lorax {

namespace {

void read_adapter(const FieldReader& p, AdapterSpec& adapter) {
  adapter.id = p.string("adapter_id");
  if (adapter.id && adapter.id->empty()) adapter.id.reset();
  read_adapter_source(p, adapter);
  if (adapter.source == AdapterSpec::Source::Local && !adapter.id)
    p.invalid("adapter_id", "is required when `adapter_source` is \"local\"");
  (void)p.string("api_token");  // LoRAX's token for private hub adapters: nothing to fetch here
  refuse_if_set(p, "merged_adapters", "is not supported by this server");
}

// LoRAX's rule: any sampling parameter turns sampling on; otherwise the choice is greedy.
// temperature 0 means greedy whatever else is set, and top_p 1.0 keeps the whole distribution
// (LoRAX's router refuses both; OpenAI-style clients send them). Returns whether the request
// names any sampling parameter at all (LoRAX's test for best_of, where temperature 1.0 counts).
bool read_sampling(const FieldReader& p, GenerationSpec& spec) {
  SamplingParams& s = spec.sampling;
  const auto temperature = p.number("temperature");
  if (temperature && !(*temperature >= 0.0 && std::isfinite(*temperature)))
    p.invalid("temperature", "must be non-negative");
  const auto top_p = p.number("top_p");
  if (top_p && !(*top_p > 0.0 && *top_p <= 1.0)) p.invalid("top_p", "must be > 0.0 and <= 1.0");
  const auto typical_p = p.number("typical_p");
  if (typical_p && !(*typical_p > 0.0 && *typical_p < 1.0))
    p.invalid("typical_p", "must be > 0.0 and < 1.0");
  const auto top_k = p.integer("top_k");
  if (top_k && *top_k <= 0) p.invalid("top_k", "must be strictly positive");
  read_penalties(p, s);

  const bool do_sample = p.boolean("do_sample").value_or(false);
  const bool sampling = do_sample || (temperature && *temperature != 1.0) || top_k ||
                        (top_p && *top_p < 1.0) || typical_p;
  if (temperature && *temperature == 0.0) return false;  // greedy: temperature stays 0
  if (sampling) {
    s.temperature = float(temperature.value_or(1.0));
    if (top_k) s.top_k = int(std::min<int64_t>(*top_k, 1 << 30));
    if (top_p) s.top_p = float(*top_p);
    if (typical_p) s.typical_p = float(*typical_p);
  }
  return do_sample || temperature || top_k || top_p || typical_p;
}

void read_lengths(const FieldReader& p, const ServerLimits& limits, GenerationSpec& spec) {
  if (const auto n = p.integer("max_new_tokens")) {
    if (*n <= 0) p.invalid("max_new_tokens", "must be strictly positive");
    if (*n > limits.max_new_tokens)
      p.invalid("max_new_tokens", "must be <= " + std::to_string(limits.max_new_tokens) +
                                      ". Given: " + std::to_string(*n));
    spec.max_new_tokens = *n;
  }
  if (const auto t = p.integer("truncate")) {
    if (*t <= 0 || *t > limits.max_input_length)
      p.invalid("truncate", "must be strictly positive and less than " +
                                std::to_string(limits.max_input_length) +
                                ". Given: " + std::to_string(*t));
    spec.truncate = *t;
  }
}

// LoRAX's best_of checks, in its order and words.
int read_best_of(const FieldReader& p, const ServerLimits& limits, GenerationSpec& spec,
                 bool sampling_asked, bool stream) {
  const auto best_of = p.integer("best_of");
  if (!best_of || *best_of == 1) return 1;
  if (limits.max_best_of == 1) p.invalid("best_of", "!= 1 is not allowed for this endpoint");
  if (*best_of <= 0 || *best_of > limits.max_best_of)
    p.invalid("best_of", "must be > 0 and <= " + std::to_string(limits.max_best_of) +
                             ". Given: " + std::to_string(*best_of));
  if (!sampling_asked)
    throw ApiError(ErrorKind::Validation, "you must use sampling when `best_of` is > 1",
                   "parameters.best_of");
  if (spec.seed)
    throw ApiError(ErrorKind::Validation, "`seed` must not be set when `best_of` > 1",
                   "parameters.seed");
  if (stream) p.invalid("best_of", "!= 1 is not supported when streaming tokens");
  // temperature 1.0 alone is greedy for one sequence, but asks for distinct ones here
  if (spec.sampling.temperature == 0.0f) spec.sampling.temperature = 1.0f;
  return int(*best_of);
}

void read_outputs(const FieldReader& p, LoraxGenerateRequest& out, const ServerLimits& limits,
                  bool stream) {
  out.details = p.boolean("details").value_or(false);
  out.decoder_input_details = p.boolean("decoder_input_details").value_or(false);
  if (stream && out.decoder_input_details)
    p.invalid("decoder_input_details", "== true is not supported when streaming tokens");
  out.return_full_text = p.boolean("return_full_text").value_or(false);
  out.spec.prompt_logprobs = out.decoder_input_details;
  if (const auto k = p.integer("return_k_alternatives")) {
    if (*k <= 0) p.invalid("return_k_alternatives", "must be strictly positive");
    if (*k > limits.max_top_logprobs)
      p.invalid("return_k_alternatives", "must be <= " + std::to_string(limits.max_top_logprobs));
    out.spec.top_logprobs = int(*k);
  }
}

// With apply_chat_template, `inputs` holds the conversation as a JSON list of messages (what
// LoRAX's server json.loads before rendering the template).
void read_inputs(const FieldReader& top, const FieldReader& p, PromptSpec& prompt) {
  const auto inputs = top.string("inputs");
  if (!inputs) top.invalid("inputs", "is required");
  if (inputs->empty()) top.invalid("inputs", "cannot be empty");
  prompt.kind = PromptSpec::Kind::Text;
  prompt.text = *inputs;
  if (!p.boolean("apply_chat_template").value_or(false)) return;
  const std::optional<Json> messages = parse_json_text(*inputs);
  if (!messages || !messages->is_array() || messages->empty())
    top.invalid("inputs",
                "must be a JSON list of {\"role\", \"content\"} messages when "
                "`apply_chat_template` is true");
  prompt.kind = PromptSpec::Kind::Chat;
  prompt.messages = read_chat_messages(top, *messages, "inputs");
  prompt.add_generation_prompt = true;
}

}  // namespace

LoraxGenerateRequest parse_lorax_generate(const Json& body, const ServerLimits& limits,
                                          bool stream) {
  const FieldReader top(body);
  const Json empty = Json::object();
  const Json* params = top.value("parameters");
  if (params && !params->is_object())
    top.invalid("parameters", "must be an object, got " + json_excerpt(*params));
  const FieldReader p(params ? *params : empty, "parameters.");

  LoraxGenerateRequest out;
  read_inputs(top, p, out.spec.prompt);
  read_adapter(p, out.spec.adapter);
  const bool sampling_asked = read_sampling(p, out.spec);
  read_lengths(p, limits, out.spec);
  out.spec.seed = p.seed("seed", /*wrap_negative=*/false);
  out.best_of = read_best_of(p, limits, out.spec, sampling_asked, stream);
  read_outputs(p, out, limits, stream);
  out.spec.stop = read_stop(p, limits, /*single_ok=*/false);
  out.spec.ignore_eos = p.boolean("ignore_eos_token").value_or(false);
  out.spec.speculate = p.boolean("speculate").value_or(true);
  if (p.boolean("watermark").value_or(false))
    p.invalid("watermark", "is not supported by this server");
  out.spec.constraint = read_constraint(p);
  return out;
}

bool lorax_stream_flag(const Json& body) {
  return FieldReader(body).boolean("stream").value_or(false);
}

}  // namespace lorax
