// Shared validation checks and POST /tokenize.
#include <cmath>

#include "server/validation_checks.h"

namespace lorax {

namespace {

std::string number_text(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);  // 0.500000 -> 0.5, 2.000000 -> 2.
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

bool is_empty_value(const Json& value) {
  return (value.is_object() || value.is_array() || value.is_string()) && value.empty();
}

}  // namespace

std::vector<std::string> read_stop(const FieldReader& fields, const ServerLimits& limits,
                                   bool single_ok) {
  // Counted before the strings are copied.
  const Json* raw = fields.value("stop");
  const size_t given = raw && raw->is_array() ? raw->size() : 0;
  if (int64_t(given) > limits.max_stop_sequences)
    fields.invalid("stop", "supports up to " + std::to_string(limits.max_stop_sequences) +
                               " stop sequences. Given: " + std::to_string(given));
  std::vector<std::string> stop =
      fields.strings("stop", single_ok).value_or(std::vector<std::string>{});
  for (const std::string& s : stop)
    if (s.empty()) fields.invalid("stop", "sequences must not be empty strings");
  return stop;
}

void read_penalties(const FieldReader& fields, SamplingParams& sampling) {
  for (const char* key : {"frequency_penalty", "presence_penalty"}) {
    const auto value = fields.number(key);
    if (!value) continue;
    if (!std::isfinite(*value) || *value < -2.0 || *value > 2.0)
      fields.invalid(key, "must be between -2.0 and 2.0, got " + number_text(*value));
    (key[0] == 'f' ? sampling.frequency_penalty : sampling.presence_penalty) = float(*value);
  }
  if (const auto rep = fields.number("repetition_penalty")) {
    if (!(*rep > 0.0) || !std::isfinite(*rep))
      fields.invalid("repetition_penalty", "must be strictly positive");
    sampling.repetition_penalty = float(*rep);
  }
}

void refuse_if_set(const FieldReader& fields, const char* key, const std::string& why) {
  const Json* value = fields.value(key);
  if (value && !is_empty_value(*value)) fields.invalid(key, why);
}

void read_openai_sampling(const FieldReader& fields, GenerationSpec& spec) {
  SamplingParams& s = spec.sampling;
  s.temperature = 1.0f;  // OpenAI's default: sampling
  if (const auto t = fields.number("temperature")) {
    if (!std::isfinite(*t) || *t < 0.0 || *t > 2.0)
      fields.invalid("temperature", "must be between 0 and 2, got " + number_text(*t));
    s.temperature = float(*t);
  }
  if (const auto p = fields.number("top_p")) {
    if (!(*p > 0.0 && *p <= 1.0))
      fields.invalid("top_p", "must be in (0, 1], got " + number_text(*p));
    s.top_p = float(*p);
  }
  if (const auto k = fields.integer("top_k")) {
    if (*k < -1)
      fields.invalid("top_k", "must be -1 (no limit) or positive, got " + std::to_string(*k));
    s.top_k = *k > 0 ? int(std::min<int64_t>(*k, 1 << 30)) : 0;
  }
  for (const char* key : {"n", "best_of"})
    if (const auto n = fields.integer(key); n && *n != 1)
      fields.invalid(
          key, "must be 1: this server returns one choice per request, got " + std::to_string(*n));
  read_penalties(fields, s);
  spec.seed = fields.seed("seed", /*wrap_negative=*/true);
  spec.ignore_eos = fields.boolean("ignore_eos").value_or(false);
  refuse_if_set(fields, "logit_bias", "is not supported by this server");
  refuse_if_set(fields, "suffix", "is not supported by this server");
}

void read_openai_stream(const FieldReader& fields, bool& stream, bool& include_usage) {
  stream = fields.boolean("stream").value_or(false);
  const Json* options = fields.value("stream_options");
  if (!options) return;
  if (!options->is_object())
    fields.invalid("stream_options", "must be an object, got " + json_excerpt(*options));
  if (!stream) fields.invalid("stream_options", "is only allowed when `stream` is true");
  include_usage = FieldReader(*options, "stream_options.").boolean("include_usage").value_or(false);
}

TokenizeRequest parse_tokenize(const Json& body) {
  FieldReader fields(body);
  TokenizeRequest out;
  const auto inputs = fields.string("inputs");
  if (!inputs) fields.invalid("inputs", "is required");
  out.inputs = *inputs;
  out.add_special_tokens = fields.boolean("add_special_tokens").value_or(true);
  return out;
}

void check_input_length(int64_t input, const ServerLimits& limits, ApiFlavor flavor) {
  if (input <= limits.max_input_length) return;
  const std::string max = std::to_string(limits.max_input_length);
  if (flavor == ApiFlavor::Lorax)
    throw ApiError(
        ErrorKind::Validation,
        "`inputs` must have less than " + max + " tokens. Given: " + std::to_string(input),
        "inputs");
  throw ApiError(ErrorKind::Validation,
                 "This model's maximum input length is " + max +
                     " tokens. However, your prompt has " + std::to_string(input) + " tokens.",
                 "prompt");
}

}  // namespace lorax
