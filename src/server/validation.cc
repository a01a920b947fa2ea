// Shared validation checks and POST /tokenize.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

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

void read_adapter_source(const FieldReader& fields, AdapterSpec& adapter) {
  const auto source = fields.string("adapter_source");
  adapter.source_given = source.has_value();
  if (!source || *source == "hub") return;
  if (*source == "local") {
    adapter.source = AdapterSpec::Source::Local;
    return;
  }
  fields.invalid("adapter_source",
                 "must be \"hub\" (registered adapters) or \"local\" (a directory under the "
                 "adapter root) on this server, got \"" +
                     *source + "\"");
}

void refuse_if_set(const FieldReader& fields, const char* key, const std::string& why) {
  const Json* value = fields.value(key);
  if (value && !is_empty_value(*value)) fields.invalid(key, why);
}

// logit_bias: {"token id": bias in [-100, 100]}, ids as decimal strings (OpenAI's JSON keys).
// Biases of 0 change nothing and are dropped; whether an id is inside the vocabulary is checked
// by prepare_generation(), which knows the model.
std::vector<LogitBias> read_logit_bias(const FieldReader& fields) {
  std::vector<LogitBias> out;
  const Json* bias = fields.value("logit_bias");
  if (!bias) return out;
  if (!bias->is_object())
    fields.invalid("logit_bias",
                   "must be an object of token ids to biases, got " + json_excerpt(*bias));
  std::set<int32_t> seen;
  for (const auto& [key, value] : bias->items()) {
    const bool digits =
        !key.empty() && key.size() <= 10 &&
        std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    const long long id = digits ? std::stoll(key) : -1;
    if (!digits || id > std::numeric_limits<int32_t>::max())
      fields.invalid("logit_bias",
                     "keys must be token ids (non-negative integers), got \"" + key + "\"");
    if (!seen.insert(int32_t(id)).second)
      fields.invalid("logit_bias", "names token " + std::to_string(id) + " twice");
    if (!value.is_number())
      fields.invalid("logit_bias",
                     "values must be numbers, got " + json_excerpt(value) + " for token " + key);
    const double v = value.get<double>();
    if (!(v >= -100.0 && v <= 100.0))
      fields.invalid("logit_bias", "values must be between -100 and 100, got " + number_text(v) +
                                       " for token " + key);
    if (v != 0.0) out.push_back({int32_t(id), float(v)});
  }
  return out;
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
  read_penalties(fields, s);
  spec.seed = fields.seed("seed", /*wrap_negative=*/true);
  // vLLM's ignore_eos and LoRAX's ignore_eos_token
  spec.ignore_eos = fields.boolean("ignore_eos").value_or(false) ||
                    fields.boolean("ignore_eos_token").value_or(false);
  read_adapter_source(fields, spec.adapter);
  (void)fields.string("api_token");  // LoRAX's token for private hub adapters: nothing to fetch
  spec.logit_bias = read_logit_bias(fields);
  spec.speculate = fields.boolean("speculate").value_or(true);
  refuse_if_set(fields, "suffix", "is not supported by this server");
}

OpenAiChoices read_openai_choices(const FieldReader& fields, const ServerLimits& limits,
                                  bool stream, bool best_of_allowed) {
  const std::string most = std::to_string(limits.max_best_of);
  OpenAiChoices out;
  if (const auto n = fields.integer("n")) {
    if (*n < 1 || *n > limits.max_best_of)
      fields.invalid("n", "must be between 1 and " + most + ", got " + std::to_string(*n));
    out.n = int(*n);
  }
  out.best_of = out.n;
  const auto best_of = best_of_allowed ? fields.integer("best_of") : std::nullopt;
  if (!best_of) return out;
  if (*best_of < out.n || *best_of > limits.max_best_of)
    fields.invalid("best_of", "must be between `n` (" + std::to_string(out.n) + ") and " + most +
                                  ", got " + std::to_string(*best_of));
  if (stream && *best_of != out.n)
    fields.invalid("best_of",
                   "must equal `n` when streaming: the best sequences are known only "
                   "once all have ended");
  out.best_of = int(*best_of);
  return out;
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
