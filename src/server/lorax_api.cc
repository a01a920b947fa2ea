#include "server/lorax_api.h"

#include <algorithm>

#include "server/adapter_resolution.h"
#include "server/response_headers.h"
#include "server/run_group.h"
#include "server/sse.h"
#include "server/validation.h"

namespace lorax {

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kJson = "application/json";

// TGI shows a special token by its vocabulary string ("</s>") although it adds no text.
std::string shown_text(const std::string& text, int32_t id, bool special, const TokenTexts& t) {
  return special && text.empty() ? t.raw(id) : text;
}

// A generated token as LoRAX's Token; `skipped` marks the accepted speculative drafts (tokens
// chosen by the step that chose the token before them).
Json token_json(const GeneratedToken& token, int32_t previous, bool alternatives,
                const TokenTexts& texts) {
  Json j = {{"id", token.id},
            {"text", shown_text(token.text, token.id, token.special, texts)},
            {"logprob", token.logprob},
            {"special", token.special}};
  if (alternatives) {
    Json list = Json::array();
    for (const auto& [id, logprob] : token.top)
      list.push_back({{"id", id}, {"text", texts.after(previous, id)}, {"logprob", logprob}});
    j["alternative_tokens"] = std::move(list);
  }
  j["skipped"] = token.skipped;
  return j;
}

// The token before generated token i: the prompt's last, or the previous generated one.
int32_t previous_id(const GenerationRun& run, size_t i) {
  return i == 0 ? run.prepared().request.prompt_ids.back() : run.tokens()[i - 1].id;
}

Json prefill_json(const GenerationRun& run, const TokenTexts& texts) {
  const std::vector<int32_t>& ids = run.prepared().request.prompt_ids;
  const std::vector<std::string> pieces = texts.pieces(ids);
  Json prefill = Json::array();
  for (size_t j = 0; j < ids.size(); ++j) {
    Json logprob = nullptr;
    if (run.prompt_logprobs() && j < run.prompt_logprobs()->size() && (*run.prompt_logprobs())[j])
      logprob = (*run.prompt_logprobs())[j]->logprob;
    prefill.push_back({{"id", ids[j]},
                       {"text", shown_text(pieces[j], ids[j], texts.special(ids[j]), texts)},
                       {"logprob", logprob}});
  }
  return prefill;
}

Json seed_json(const GenerationRun& run) {
  return run.prepared().seed ? Json(*run.prepared().seed) : Json(nullptr);
}

Json tokens_json(const GenerationRun& run, const LoraxGenerateRequest& request,
                 const TokenTexts& texts) {
  Json tokens = Json::array();
  const bool alternatives = request.spec.top_logprobs > 0;
  for (size_t i = 0; i < run.tokens().size(); ++i)
    tokens.push_back(token_json(run.tokens()[i], previous_id(run, i), alternatives, texts));
  return tokens;
}

std::string full_text(const GenerationRun& run, const LoraxGenerateRequest& request) {
  return (request.return_full_text ? run.prepared().prompt_text : std::string()) + run.text();
}

// One of the other sequences of a best_of request (LoRAX's BestOfSequence).
Json best_of_sequence_json(const GenerationRun& run, const LoraxGenerateRequest& request,
                           const TokenTexts& texts) {
  return {{"generated_text", full_text(run, request)},
          {"finish_reason", lorax_finish_reason(run.end())},
          {"generated_tokens", run.tokens().size()},
          {"seed", seed_json(run)},
          {"prefill", request.decoder_input_details ? prefill_json(run, texts) : Json::array()},
          {"tokens", tokens_json(run, request, texts)}};
}

// LoRAX's Details for the best sequence; the others follow as best_of_sequences.
Json details_json(const RunGroup& group, const std::vector<size_t>& ranked,
                  const LoraxGenerateRequest& request, const TokenTexts& texts) {
  const GenerationRun& run = group[ranked.front()];
  Json details = {
      {"finish_reason", lorax_finish_reason(run.end())},
      {"prompt_tokens", run.prompt_tokens()},
      {"generated_tokens", run.tokens().size()},
      {"skipped_tokens", std::count_if(run.tokens().begin(), run.tokens().end(),
                                       [](const GeneratedToken& t) { return t.skipped; })},
      {"seed", seed_json(run)},
      {"prefill", request.decoder_input_details ? prefill_json(run, texts) : Json::array()},
      {"tokens", tokens_json(run, request, texts)}};
  if (group.size() > 1) {
    Json others = Json::array();
    for (size_t k = 1; k < ranked.size(); ++k)
      others.push_back(best_of_sequence_json(group[ranked[k]], request, texts));
    details["best_of_sequences"] = std::move(others);
  }
  return details;
}

std::unique_ptr<RunGroup> start(ServerState& state, LoraxGenerateRequest& request,
                                RequestLog& log) {
  if (!request.spec.adapter.id) request.spec.adapter.id = state.context.default_adapter_id;
  log.set_adapter(state.adapters.label(request.spec.adapter));
  PreparedGeneration prepared =
      prepare_generation(request.spec, state.context, state.adapters, ApiFlavor::Lorax);
  if (request.spec.constraint)
    prepared.request.constraint = state.constraints.compile(*request.spec.constraint);
  log.set_adapter(prepared.adapter_label);
  state.metrics.observe_admitted(int64_t(prepared.request.prompt_ids.size()),
                                 prepared.request.max_new_tokens, request.best_of);
  return std::make_unique<RunGroup>(state.context.service, state.tokenizer(), prepared,
                                    request.best_of, state.metrics, request.spec.seed.has_value());
}

// /generate and POST / without `stream`: the answer once every sequence has ended.
class LoraxAnswer : public PendingAnswer {
 public:
  LoraxAnswer(ServerState& state, LoraxGenerateRequest request, std::unique_ptr<RunGroup> runs,
              std::shared_ptr<RequestLog> log, bool as_list)
      : state_(state),
        request_(std::move(request)),
        runs_(std::move(runs)),
        log_(std::move(log)),
        as_list_(as_list) {}

  bool advance(HttpResponse& response) override {
    while (!runs_->finished())
      if (!runs_->try_next()) return false;
    if (runs_->any_cancelled()) throw engine_cancelled_error();
    const std::vector<size_t> ranked = runs_->ranked();
    const GenerationRun& best = (*runs_)[ranked.front()];
    Json answer = {{"generated_text", full_text(best, request_)}};
    if (request_.details || request_.decoder_input_details)
      answer["details"] = details_json(*runs_, ranked, request_, state_.texts());
    response.set_content(dump_json(as_list_ ? Json::array({std::move(answer)}) : answer), kJson);
    set_generation_headers(response, state_, request_.spec.adapter, log_->started(), best,
                           utf8_length(request_.spec.prompt.text));
    log_->succeed(best);
    return true;
  }

  void set_notify(std::function<void()> notify) override { runs_->set_notify(std::move(notify)); }

 private:
  ServerState& state_;
  LoraxGenerateRequest request_;
  std::unique_ptr<RunGroup> runs_;
  std::shared_ptr<RequestLog> log_;
  bool as_list_;
};

// /generate_stream: one event per token; the last carries generated_text (and details).
class LoraxStream : public EventSource {
 public:
  LoraxStream(ServerState& state, LoraxGenerateRequest request, std::unique_ptr<RunGroup> runs,
              std::shared_ptr<RequestLog> log)
      : state_(state), request_(std::move(request)), runs_(std::move(runs)), log_(std::move(log)) {}

  Progress next(const Emit& emit) override {
    GenerationRun& run = (*runs_)[0];  // streams are one sequence (best_of is refused)
    const auto step = run.try_next();
    if (!step) return Progress::Waiting;
    if (step->last && run.end() == GenerationEnd::Cancelled) throw engine_cancelled_error();
    // LoRAX's StreamResponse always carries a token: a last step without one repeats the last.
    std::optional<size_t> token = step->token;
    if (!token && step->last && !run.tokens().empty()) token = run.tokens().size() - 1;
    if (token) {
      const Json event = {{"token", token_json(run.tokens()[*token], previous_id(run, *token),
                                               request_.spec.top_logprobs > 0, state_.texts())},
                          {"generated_text", step->last ? Json(full_text(run, request_)) : Json()},
                          {"details", step->last ? stream_details(run) : Json()}};
      if (!emit(sse_event(event))) return Progress::Aborted;
    }
    if (!step->last) return Progress::More;
    log_->succeed(run);
    return Progress::Done;
  }

  void set_notify(std::function<void()> notify) override { runs_->set_notify(std::move(notify)); }

  void on_error(const ApiError& error, const Emit& emit) override {
    log_->fail(error, http_status(error.kind(), ApiFlavor::Lorax));
    emit(sse_event(error_body(error, ApiFlavor::Lorax)));
  }

 private:
  Json stream_details(const GenerationRun& run) const {
    if (!request_.details) return nullptr;
    return {{"finish_reason", lorax_finish_reason(run.end())},
            {"prompt_tokens", run.prompt_tokens()},
            {"generated_tokens", run.tokens().size()},
            {"seed", seed_json(run)}};
  }

  ServerState& state_;
  LoraxGenerateRequest request_;
  std::unique_ptr<RunGroup> runs_;
  std::shared_ptr<RequestLog> log_;
};

// A stream that failed before its first token: LoRAX answers 200 with one error event (its
// validation runs inside the stream), which its client raises as the error's own class.
class FailedStream : public EventSource {
 public:
  FailedStream(ApiError error, std::shared_ptr<RequestLog> log)
      : error_(std::move(error)), log_(std::move(log)) {}
  Progress next(const Emit&) override { throw error_; }
  void on_error(const ApiError& error, const Emit& emit) override {
    log_->fail(error, http_status(error.kind(), ApiFlavor::Lorax));
    emit(sse_event(error_body(error, ApiFlavor::Lorax)));
  }

 private:
  ApiError error_;
  std::shared_ptr<RequestLog> log_;
};

// LoRAX's /tokenize: each token's vocabulary string and its span in the input in characters. The
// span is found by looking for the token's decoded text from where the previous token ended (a
// token whose text is not there, like an added BOS or a normalized piece, gets an empty span).
Json tokenize_json(const std::vector<int32_t>& ids, const std::string& input,
                   const TokenTexts& texts) {
  const std::vector<std::string> pieces = texts.pieces(ids);
  Json tokens = Json::array();
  size_t cursor = 0;  // bytes
  for (size_t i = 0; i < ids.size(); ++i) {
    size_t start = cursor, stop = cursor;
    const size_t found = pieces[i].empty() ? std::string::npos : input.find(pieces[i], cursor);
    if (found != std::string::npos && found <= cursor + 1) {
      start = found;
      stop = cursor = found + pieces[i].size();
    }
    const std::string raw = texts.raw(ids[i]);
    tokens.push_back({{"id", ids[i]},
                      {"text", raw.empty() ? pieces[i] : raw},
                      {"start", utf8_length(std::string_view(input).substr(0, start))},
                      {"stop", utf8_length(std::string_view(input).substr(0, stop))}});
  }
  return tokens;
}

size_t input_characters(const Json& body) {
  const auto it = body.find("inputs");
  return it != body.end() && it->is_string() ? utf8_length(it->get_ref<const std::string&>()) : 0;
}

}  // namespace

void LoraxApi::generate(const HttpRequest& request, HttpResponse& response,
                        std::shared_ptr<RequestLog> log) {
  answer(parse_json_body(request.body), response, std::move(log), /*as_list=*/false);
}

void LoraxApi::generate_stream(const HttpRequest& request, HttpResponse& response,
                               std::shared_ptr<RequestLog> log) {
  stream(parse_json_body(request.body), response, std::move(log));
}

void LoraxApi::root(const HttpRequest& request, HttpResponse& response,
                    std::shared_ptr<RequestLog> log) {
  const Json body = parse_json_body(request.body);
  if (lorax_stream_flag(body)) return stream(body, response, std::move(log));
  answer(body, response, std::move(log), /*as_list=*/true);
}

void LoraxApi::answer(const Json& body, HttpResponse& response, std::shared_ptr<RequestLog> log,
                      bool as_list) {
  LoraxGenerateRequest parsed = parse_lorax_generate(body, state_.context.limits, false);
  auto runs = start(state_, parsed, *log);
  response.pending =
      std::make_shared<LoraxAnswer>(state_, std::move(parsed), std::move(runs), log, as_list);
}

void LoraxApi::stream(const Json& body, HttpResponse& response, std::shared_ptr<RequestLog> log) {
  std::shared_ptr<EventSource> source;
  std::optional<AdapterSpec> adapter;
  try {
    LoraxGenerateRequest parsed = parse_lorax_generate(body, state_.context.limits, true);
    auto runs = start(state_, parsed, *log);
    adapter = parsed.spec.adapter;
    source = std::make_shared<LoraxStream>(state_, std::move(parsed), std::move(runs), log);
  } catch (...) {
    source = std::make_shared<FailedStream>(classify_exception(std::current_exception()), log);
  }
  set_stream_headers(response, state_, adapter, input_characters(body));
  stream_events(response, std::move(source));
}

void LoraxApi::tokenize(const HttpRequest& request, HttpResponse& response) {
  const TokenizeRequest parsed = parse_tokenize(parse_json_body(request.body));
  if (!state_.context.text)
    throw ApiError(ErrorKind::NotFound, "No fast tokenizer or tokenizer.json for this model",
                   "inputs");
  const Tokenizer& tokenizer = state_.context.text->tokenizer();
  const std::vector<int32_t> ids = tokenizer.encode(parsed.inputs, parsed.add_special_tokens);
  response.set_content(dump_json(tokenize_json(ids, parsed.inputs, state_.texts())), kJson);
}

void LoraxApi::info(HttpResponse& response) {
  const ServerContext& c = state_.context;
  const CausalLM& model = c.service.model();
  const EngineOptions& engine = c.service.options().engine;
  Json adapters = Json::array();
  for (const std::string& id : c.adapters.registered()) adapters.push_back(id);
  // LoRAX's Info first, every field; then what this server adds.
  const Json body = {
      {"model_id", c.served_model_name},
      {"model_sha", nullptr},
      {"model_dtype", c.model_dtype},
      {"model_device_type", model.backend().name()},
      {"model_pipeline_tag", "lorax"},
      {"max_concurrent_requests", c.service.options().max_concurrent_requests},
      {"max_best_of", c.limits.max_best_of},
      {"max_stop_sequences", c.limits.max_stop_sequences},
      {"max_input_length", c.limits.max_input_length},
      {"max_total_tokens", c.limits.max_total_tokens},
      {"waiting_served_ratio", 0.0},  // no waiting-ratio heuristic: admission is by KV blocks
      {"max_batch_total_tokens", engine.max_batch_total_tokens > 0
                                     ? engine.max_batch_total_tokens
                                     : engine.kv.num_blocks * engine.kv.block_size},
      {"max_waiting_tokens", 0},
      {"validation_workers", c.limits.http_threads},
      {"eager_prefill", true},  // waiting requests are admitted at the next step
      {"version", kVersion},
      {"sha", nullptr},
      {"docker_label", nullptr},
      {"request_logger_url", nullptr},
      {"model_type", model.config().model_type},
      {"vocab_size", model.config().vocab_size},
      {"max_position_embeddings", model.max_positions()},
      {"max_new_tokens", c.limits.max_new_tokens},
      {"has_tokenizer", c.text != nullptr},
      {"has_chat_template", c.text != nullptr && c.text->has_chat_template()},
      {"adapters", std::move(adapters)},
      {"adapter_source_local", c.adapter_root.has_value()},
      {"random_weights", c.random_weights},
  };
  response.set_content(dump_json(body), kJson);
}

void LoraxApi::health(HttpResponse& response) {
  if (state_.stopping.load()) throw ApiError(ErrorKind::Unavailable, "the server is shutting down");
  response.set_content("{}", kJson);
}

}  // namespace lorax
