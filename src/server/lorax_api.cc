#include "server/lorax_api.h"

#include <httplib.h>

#include "server/adapter_resolution.h"
#include "server/generation_run.h"
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

Json details_json(const GenerationRun& run, const LoraxGenerateRequest& request,
                  const TokenTexts& texts) {
  Json tokens = Json::array();
  const bool alternatives = request.spec.top_logprobs > 0;
  for (size_t i = 0; i < run.tokens().size(); ++i)
    tokens.push_back(token_json(run.tokens()[i], previous_id(run, i), alternatives, texts));
  return {{"finish_reason", lorax_finish_reason(run.end())},
          {"prompt_tokens", run.prompt_tokens()},
          {"generated_tokens", run.tokens().size()},
          {"seed", seed_json(run)},
          {"prefill", request.decoder_input_details ? prefill_json(run, texts) : Json::array()},
          {"tokens", std::move(tokens)}};
}

std::string full_text(const GenerationRun& run, const LoraxGenerateRequest& request) {
  return (request.return_full_text ? run.prepared().prompt_text : std::string()) + run.text();
}

std::unique_ptr<GenerationRun> start(ServerState& state, const LoraxGenerateRequest& request,
                                     RequestLog& log) {
  log.set_adapter(adapter_label(request.spec.adapter, state.context.adapters));
  PreparedGeneration prepared = prepare_generation(request.spec, state.context, ApiFlavor::Lorax);
  log.set_adapter(prepared.adapter_label);
  return std::make_unique<GenerationRun>(state.context.service, state.tokenizer(),
                                         std::move(prepared), state.metrics);
}

// /generate_stream: one event per token; the last carries generated_text (and details).
class LoraxStream : public EventSource {
 public:
  LoraxStream(ServerState& state, LoraxGenerateRequest request, std::unique_ptr<GenerationRun> run,
              std::shared_ptr<RequestLog> log)
      : state_(state), request_(std::move(request)), run_(std::move(run)), log_(std::move(log)) {}

  Progress next(const Emit& emit, const std::function<bool()>& abort) override {
    const auto step = run_->next(abort);
    if (!step) return Progress::Aborted;
    if (step->last && run_->end() == GenerationEnd::Cancelled) throw engine_cancelled_error();
    const TokenTexts texts = state_.texts();
    Json event = {{"token", nullptr}, {"generated_text", nullptr}, {"details", nullptr}};
    if (step->token)
      event["token"] = token_json(run_->tokens()[*step->token], previous_id(*run_, *step->token),
                                  request_.spec.top_logprobs > 0, texts);
    if (step->last) {
      event["generated_text"] = full_text(*run_, request_);
      if (request_.details)
        event["details"] = {{"finish_reason", lorax_finish_reason(run_->end())},
                            {"prompt_tokens", run_->prompt_tokens()},
                            {"generated_tokens", run_->tokens().size()},
                            {"seed", seed_json(*run_)}};
    }
    // A step without a token and not the last (nothing to say) sends nothing.
    if ((step->token || step->last) && !emit(sse_event(event))) return Progress::Aborted;
    if (!step->last) return Progress::More;
    log_->succeed(run_->prompt_tokens(), int64_t(run_->tokens().size()),
                  lorax_finish_reason(run_->end()));
    return Progress::Done;
  }

  void on_error(const ApiError& error, const Emit& emit) override {
    log_->fail(error, http_status(error.kind(), ApiFlavor::Lorax));
    emit(sse_event(error_body(error, ApiFlavor::Lorax)));
  }

 private:
  ServerState& state_;
  LoraxGenerateRequest request_;
  std::unique_ptr<GenerationRun> run_;
  std::shared_ptr<RequestLog> log_;
};

}  // namespace

void LoraxApi::generate(const httplib::Request& request, httplib::Response& response,
                        RequestLog& log) {
  const LoraxGenerateRequest parsed =
      parse_lorax_generate(parse_json_body(request.body), state_.context.limits, false);
  auto run = start(state_, parsed, log);
  if (!run->run_to_end(state_.stop_or_client_gone(request.local_port, request.remote_port)) ||
      run->end() == GenerationEnd::Cancelled)
    throw engine_cancelled_error();
  Json body = {{"generated_text", full_text(*run, parsed)}};
  if (parsed.details) body["details"] = details_json(*run, parsed, state_.texts());
  response.set_content(dump_json(body), kJson);
  log.succeed(run->prompt_tokens(), int64_t(run->tokens().size()), lorax_finish_reason(run->end()));
}

void LoraxApi::generate_stream(const httplib::Request& request, httplib::Response& response,
                               std::shared_ptr<RequestLog> log) {
  LoraxGenerateRequest parsed =
      parse_lorax_generate(parse_json_body(request.body), state_.context.limits, true);
  auto run = start(state_, parsed, *log);  // errors so far still get a plain HTTP status
  stream_events(response,
                std::make_shared<LoraxStream>(state_, std::move(parsed), std::move(run), log),
                state_.stopping);
}

void LoraxApi::tokenize(const httplib::Request& request, httplib::Response& response) {
  const TokenizeRequest parsed = parse_tokenize(parse_json_body(request.body));
  if (!state_.context.text)
    throw ApiError(ErrorKind::Validation, "this model has no tokenizer", "inputs");
  const std::vector<int32_t> ids =
      state_.context.text->encode_prompt(parsed.inputs, parsed.add_special_tokens);
  const TokenTexts texts = state_.texts();
  const std::vector<std::string> pieces = texts.pieces(ids);
  // Offsets: each piece found in the input from where the previous one ended (a normalizer may
  // change text, e.g. SentencePiece's leading space; then the token gets an empty span).
  Json tokens = Json::array();
  size_t cursor = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    size_t start = cursor, stop = cursor;
    const size_t found =
        pieces[i].empty() ? std::string::npos : parsed.inputs.find(pieces[i], cursor);
    if (found != std::string::npos && found <= cursor + 1) {
      start = found;
      stop = cursor = found + pieces[i].size();
    }
    tokens.push_back({{"id", ids[i]},
                      {"text", shown_text(pieces[i], ids[i], texts.special(ids[i]), texts)},
                      {"start", start},
                      {"stop", stop}});
  }
  response.set_content(dump_json(tokens), kJson);
}

void LoraxApi::info(httplib::Response& response) {
  const ServerContext& c = state_.context;
  const CausalLM& model = c.service.model();
  Json adapters = Json::array();
  for (const std::string& id : c.adapters.registered()) adapters.push_back(id);
  const Json body = {
      {"model_id", c.served_model_name},
      {"model_dtype", c.model_dtype},
      {"model_device_type", model.backend().name()},
      {"model_type", model.config().model_type},
      {"vocab_size", model.config().vocab_size},
      {"max_position_embeddings", model.max_positions()},
      {"max_concurrent_requests", c.service.options().max_concurrent_requests},
      {"max_best_of", c.limits.max_best_of},
      {"max_stop_sequences", c.limits.max_stop_sequences},
      {"max_input_length", c.limits.max_input_length},
      {"max_total_tokens", c.limits.max_total_tokens},
      {"max_new_tokens", c.limits.max_new_tokens},
      {"has_tokenizer", c.text != nullptr},
      {"has_chat_template", c.text != nullptr && c.text->has_chat_template()},
      {"adapters", std::move(adapters)},
      {"adapter_source_local", c.adapter_root.has_value()},
      {"random_weights", c.random_weights},
      {"version", kVersion},
  };
  response.set_content(dump_json(body), kJson);
}

void LoraxApi::health(httplib::Response& response) {
  if (state_.stopping.load()) throw ApiError(ErrorKind::Unavailable, "the server is shutting down");
  response.set_content("{}", kJson);
}

}  // namespace lorax
