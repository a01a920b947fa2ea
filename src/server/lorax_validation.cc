// POST /generate and /generate_stream bodies, validated as LoRAX's router does
// (router/src/validation.rs): same checks, same messages.
#include <cmath>

#include "server/validation_checks.h"

namespace lorax {

namespace {

void read_adapter(const FieldReader& p, AdapterSpec& adapter) {
  adapter.id = p.string("adapter_id");
  if (adapter.id && adapter.id->empty()) adapter.id.reset();
  const auto source = p.string("adapter_source");
  adapter.source_given = source.has_value();
  if (source && *source == "local") {
    adapter.source = AdapterSpec::Source::Local;
    if (!adapter.id) p.invalid("adapter_id", "is required when `adapter_source` is \"local\"");
  } else if (source && *source != "hub") {
    p.invalid("adapter_source",
              "must be \"hub\" (registered adapters) or \"local\" on this "
              "server, got \"" +
                  *source + "\"");
  }
  refuse_if_set(p, "merged_adapters", "is not supported by this server");
}

// TGI's rule: any sampling parameter turns sampling on; otherwise the choice is greedy.
void read_sampling(const FieldReader& p, GenerationSpec& spec) {
  SamplingParams& s = spec.sampling;
  const auto temperature = p.number("temperature");
  if (temperature && !(*temperature > 0.0 && std::isfinite(*temperature)))
    p.invalid("temperature", "must be strictly positive");
  const auto top_p = p.number("top_p");
  if (top_p && !(*top_p > 0.0 && *top_p < 1.0)) p.invalid("top_p", "must be > 0.0 and < 1.0");
  const auto typical_p = p.number("typical_p");
  if (typical_p && !(*typical_p > 0.0 && *typical_p < 1.0))
    p.invalid("typical_p", "must be > 0.0 and < 1.0");
  const auto top_k = p.integer("top_k");
  if (top_k && *top_k <= 0) p.invalid("top_k", "must be strictly positive");
  read_penalties(p, s);

  const bool sampling = p.boolean("do_sample").value_or(false) ||
                        (temperature && *temperature != 1.0) || top_k || top_p || typical_p;
  if (!sampling) return;  // greedy: temperature stays 0
  s.temperature = float(temperature.value_or(1.0));
  if (top_k) s.top_k = int(std::min<int64_t>(*top_k, 1 << 30));
  if (top_p) s.top_p = float(*top_p);
  if (typical_p) s.typical_p = float(*typical_p);
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

void read_best_of(const FieldReader& p, const ServerLimits& limits) {
  const auto best_of = p.integer("best_of");
  if (!best_of || *best_of == 1) return;
  if (limits.max_best_of == 1) p.invalid("best_of", "!= 1 is not allowed for this endpoint");
  p.invalid("best_of", "must be > 0 and <= " + std::to_string(limits.max_best_of) +
                           ". Given: " + std::to_string(*best_of));
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

}  // namespace

LoraxGenerateRequest parse_lorax_generate(const Json& body, const ServerLimits& limits,
                                          bool stream) {
  const FieldReader top(body);
  LoraxGenerateRequest out;
  const auto inputs = top.string("inputs");
  if (!inputs) top.invalid("inputs", "is required");
  if (inputs->empty()) top.invalid("inputs", "cannot be empty");
  out.spec.prompt.kind = PromptSpec::Kind::Text;
  out.spec.prompt.text = *inputs;

  const Json empty = Json::object();
  const Json* params = top.value("parameters");
  if (params && !params->is_object())
    top.invalid("parameters", "must be an object, got " + json_excerpt(*params));
  const FieldReader p(params ? *params : empty, "parameters.");

  read_adapter(p, out.spec.adapter);
  read_sampling(p, out.spec);
  read_lengths(p, limits, out.spec);
  read_best_of(p, limits);
  read_outputs(p, out, limits, stream);
  out.spec.stop = read_stop(p, limits, /*single_ok=*/false);
  out.spec.seed = p.seed("seed", /*wrap_negative=*/false);
  out.spec.ignore_eos = p.boolean("ignore_eos_token").value_or(false);
  if (p.boolean("watermark").value_or(false))
    p.invalid("watermark", "is not supported by this server");
  if (p.boolean("apply_chat_template").value_or(false))
    p.invalid("apply_chat_template", "is not supported here: use /v1/chat/completions");
  refuse_if_set(p, "response_format", "is not supported by this server");
  return out;
}

}  // namespace lorax
