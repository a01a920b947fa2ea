#include "cli/generate_command.h"

#include <chrono>
#include <istream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "core/log.h"

namespace lorax {

// Ordered: chat messages reach the template with their keys as the user wrote them.
using json = nlohmann::ordered_json;

namespace {

// One parsed request line: either a request for the engine or the error that rejected it.
struct RequestLine {
  json id;
  GenerationRequest request;
  std::optional<std::string> adapter;
  std::string error;
};

template <typename T>
T get_field(const json& line, const char* key, T fallback, bool (json::*is_type)() const,
            const char* type_name) {
  if (!line.contains(key) || line[key].is_null()) return fallback;
  LORAX_CHECK((line[key].*is_type)(), "field \"", key, "\" must be ", type_name, ", got ",
              line[key].dump());
  return line[key].get<T>();
}

// The prompt as token ids: given directly, or encoded from "prompt" text or chat "messages".
std::vector<int32_t> prompt_of(const json& line, const TextProcessor* text) {
  const int given = int(line.contains("prompt_ids")) + int(line.contains("prompt")) +
                    int(line.contains("messages"));
  LORAX_CHECK(given == 1, "give exactly one of \"prompt_ids\", \"prompt\" or \"messages\"");
  std::vector<int32_t> ids;
  if (line.contains("prompt_ids")) {
    LORAX_CHECK(line["prompt_ids"].is_array(), "field \"prompt_ids\" must be a list of token ids");
    for (const auto& id : line["prompt_ids"]) {
      LORAX_CHECK(id.is_number_integer(), "prompt_ids must hold integers, got ", id.dump());
      const int64_t value = id.get<int64_t>();
      LORAX_CHECK(value >= 0 && value < (int64_t(1) << 31), "prompt token id ", value,
                  " is out of range");
      ids.push_back(int32_t(value));
    }
    return ids;
  }
  LORAX_CHECK(text != nullptr, "this checkpoint has no tokenizer.json: give \"prompt_ids\"");
  if (line.contains("prompt")) {
    LORAX_CHECK(line["prompt"].is_string(), "field \"prompt\" must be a string");
    return text->encode_prompt(line["prompt"].get<std::string>());
  }
  const json& messages = line["messages"];
  LORAX_CHECK(messages.is_array() && !messages.empty(),
              "field \"messages\" must be a non-empty list of {\"role\", \"content\"}");
  for (const auto& m : messages)
    LORAX_CHECK(m.is_object() && m.contains("role") && m["role"].is_string(),
                "each message needs a string \"role\"");
  return text->encode_chat(messages, true);
}

GenerationRequest parse_request(const json& line, const TextProcessor* text) {
  static const std::set<std::string> known = {
      "id",         "prompt_ids",   "prompt",          "messages",   "max_new_tokens",
      "temperature", "top_k",       "top_p",           "seed",       "top_logprobs",
      "prompt_logprobs", "ignore_eos", "adapter"};
  for (const auto& [key, value] : line.items())
    LORAX_CHECK(known.count(key), "unknown field \"", key, "\"");
  GenerationRequest r;
  r.prompt_ids = prompt_of(line, text);
  r.max_new_tokens =
      get_field<int64_t>(line, "max_new_tokens", 16, &json::is_number_integer, "an integer");
  r.sampling.temperature =
      get_field<float>(line, "temperature", 0.0f, &json::is_number, "a number");
  LORAX_CHECK(r.sampling.temperature >= 0.0f, "temperature must be >= 0");
  r.sampling.top_k = get_field<int>(line, "top_k", 0, &json::is_number_integer, "an integer");
  LORAX_CHECK(r.sampling.top_k >= 0, "top_k must be >= 0");
  r.sampling.top_p = get_field<float>(line, "top_p", 1.0f, &json::is_number, "a number");
  LORAX_CHECK(r.sampling.top_p > 0.0f && r.sampling.top_p <= 1.0f, "top_p must be in (0, 1]");
  r.sampling.seed =
      get_field<uint64_t>(line, "seed", 0, &json::is_number_unsigned, "a non-negative integer");
  r.top_logprobs = get_field<int>(line, "top_logprobs", 0, &json::is_number_integer, "an integer");
  r.prompt_logprobs =
      get_field<bool>(line, "prompt_logprobs", false, &json::is_boolean, "a boolean");
  r.ignore_eos = get_field<bool>(line, "ignore_eos", false, &json::is_boolean, "a boolean");
  return r;
}

std::vector<RequestLine> read_requests(std::istream& in, const TextProcessor* text) {
  std::vector<RequestLine> lines;
  std::string raw;
  int64_t number = 0;
  while (std::getline(in, raw)) {
    ++number;
    if (raw.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines
    RequestLine line;
    line.id = int64_t(lines.size());
    try {
      const json parsed = json::parse(raw);
      LORAX_CHECK(parsed.is_object(), "a request must be a JSON object");
      if (parsed.contains("id")) line.id = parsed["id"];
      line.request = parse_request(parsed, text);
      if (parsed.contains("adapter") && !parsed["adapter"].is_null()) {
        LORAX_CHECK(parsed["adapter"].is_string(), "field \"adapter\" must be a name or null");
        line.adapter = parsed["adapter"].get<std::string>();
      }
    } catch (const json::exception& e) {
      line.error = "line " + std::to_string(number) + ": malformed JSON: " + e.what();
    } catch (const Error& e) {  // includes chat-template errors, with the template's message
      line.error = "line " + std::to_string(number) + ": " + e.what();
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// Error messages may quote bytes of the input; never let them break the output line.
std::string to_line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json token_json(const TokenLogprob& t) {
  json top = json::array();
  for (const auto& [id, lp] : t.top) top.push_back({id, lp});
  return {{"id", t.id}, {"logprob", t.logprob}, {"top", top}};
}

// Accumulates a request's outputs across steps.
struct Result {
  json prompt_logprobs = nullptr;
  std::vector<int32_t> generated;
  json logprobs = json::array();
  FinishReason finish = FinishReason::None;
};

void record(const StepOutput& o, Result& r) {
  if (o.prompt_logprobs) {
    r.prompt_logprobs = json::array();
    for (const auto& entry : *o.prompt_logprobs)
      r.prompt_logprobs.push_back(entry ? token_json(*entry) : json(nullptr));
  }
  if (o.token) {
    r.generated.push_back(o.token->id);
    r.logprobs.push_back(token_json(*o.token));
  }
  if (o.finish != FinishReason::None) r.finish = o.finish;
}

void report_progress(const Engine& engine, int64_t steps, int64_t tokens, double seconds) {
  const EngineStats s = engine.stats();
  log_info("step ", steps, ": ", s.running, " running, ", s.waiting, " waiting, ",
           s.kv_blocks_total - s.kv_blocks_free, "/", s.kv_blocks_total, " KV blocks, ", tokens,
           " tokens generated, ", seconds > 0 ? double(tokens) / seconds : 0.0, " tok/s");
}

}  // namespace

int run_generate(const GenerateOptions& options, CausalLM& model, const TextProcessor* text,
                 std::istream& requests, std::ostream& results) {
  std::vector<RequestLine> lines = read_requests(requests, text);
  Engine engine(model, options.model.engine_options(model));
  const auto adapters = make_adapter_store(options.model, model);
  std::map<uint64_t, size_t> line_of;  // engine id -> line index
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].error.empty()) continue;
    try {
      if (lines[i].adapter) lines[i].request.adapter = adapters->get(*lines[i].adapter);
      line_of[engine.add(lines[i].request)] = i;
    } catch (const Error& e) {
      lines[i].error = e.what();
    }
  }
  std::vector<Result> outcome(lines.size());
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  int64_t steps = 0, tokens = 0;
  while (engine.has_work()) {
    for (const StepOutput& o : engine.step()) {
      record(o, outcome[line_of.at(o.request_id)]);
      tokens += o.token ? 1 : 0;
    }
    ++steps;
    const auto now = std::chrono::steady_clock::now();
    if (options.progress && now - last_report > std::chrono::seconds(2)) {
      report_progress(engine, steps, tokens, std::chrono::duration<double>(now - start).count());
      last_report = now;
    }
  }
  if (options.progress)
    report_progress(
        engine, steps, tokens,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

  int status = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].error.empty()) {
      results << to_line(json{{"id", lines[i].id}, {"error", lines[i].error}}) << "\n";
      status = 2;
      continue;
    }
    const Result& r = outcome[i];
    json out = {{"id", lines[i].id},
                {"adapter", lines[i].adapter ? json(*lines[i].adapter) : json(nullptr)},
                {"prompt_ids", lines[i].request.prompt_ids},
                {"generated_ids", r.generated},
                {"finish_reason", finish_reason_name(r.finish)},
                {"prompt_logprobs", r.prompt_logprobs},
                {"logprobs", r.logprobs}};
    if (text != nullptr) out["text"] = text->decode(r.generated, true);
    results << to_line(out) << "\n";
  }
  results.flush();
  return status;
}

int run_generate(const GenerateOptions& options, std::istream& requests, std::ostream& results) {
  LoadedModel loaded = load_model(options.model);
  const auto text = TextProcessor::from_model_dir(options.model.model_dir);
  return run_generate(options, *loaded.model, text ? &*text : nullptr, requests, results);
}

}  // namespace lorax
