#include "server/openai_api.h"

#include <httplib.h>

#include <chrono>

#include "server/adapter_resolution.h"
#include "server/generation_run.h"
#include "server/openai_logprobs.h"
#include "server/sse.h"
#include "server/validation.h"

namespace lorax {

namespace {

constexpr const char* kJson = "application/json";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `model` names the base model or an adapter; anything else is 404 at resolution.
void select_model(GenerationSpec& spec, const std::optional<std::string>& model,
                  const ServerContext& context) {
  if (!model || model->empty() || *model == context.served_model_name) return;
  spec.adapter.id = *model;
  spec.adapter.source_given = true;
}

Json usage_json(const GenerationRun& run) {
  const int64_t generated = int64_t(run.tokens().size());
  return {{"prompt_tokens", run.prompt_tokens()},
          {"completion_tokens", generated},
          {"total_tokens", run.prompt_tokens() + generated}};
}

int32_t previous_id(const GenerationRun& run, size_t i) {
  return i == 0 ? run.prepared().request.prompt_ids.back() : run.tokens()[i - 1].id;
}

// What both endpoints share: the response header fields and the run.
struct Completion {
  std::string id;
  std::string model;
  int64_t created = unix_now();
  std::unique_ptr<GenerationRun> run;
};

Completion start(ServerState& state, GenerationSpec spec, const std::optional<std::string>& model,
                 const char* id_kind, RequestLog& log) {
  select_model(spec, model, state.context);
  log.set_adapter(adapter_label(spec.adapter, state.context.adapters));
  PreparedGeneration prepared = prepare_generation(spec, state.context, ApiFlavor::OpenAi);
  log.set_adapter(prepared.adapter_label);
  Completion c;
  c.id = state.openai_id(id_kind, log.id());
  c.model = model && !model->empty() ? *model : state.context.served_model_name;
  c.run = std::make_unique<GenerationRun>(state.context.service, state.tokenizer(),
                                          std::move(prepared), state.metrics);
  return c;
}

void finish_log(RequestLog& log, const GenerationRun& run) {
  log.succeed(run.prompt_tokens(), int64_t(run.tokens().size()), openai_finish_reason(run.end()));
}

// ---- /v1/completions ----

Json completion_chunk(const Completion& c, Json choice) {
  return {{"id", c.id},
          {"object", "text_completion"},
          {"created", c.created},
          {"model", c.model},
          {"choices", Json::array({std::move(choice)})}};
}

Json completion_choice(std::string text, Json logprobs, Json finish_reason) {
  return {{"index", 0},
          {"text", std::move(text)},
          {"logprobs", std::move(logprobs)},
          {"finish_reason", std::move(finish_reason)}};
}

Json completion_body(const Completion& c, const CompletionRequest& request,
                     const TokenTexts& texts) {
  const GenerationRun& run = *c.run;
  Json logprobs = nullptr;
  if (request.logprobs) {
    CompletionLogprobs lists(texts, request.return_tokens_as_token_ids);
    if (request.echo && run.prompt_logprobs())
      lists.add_prompt(run.prepared().request.prompt_ids, *run.prompt_logprobs());
    for (size_t i = 0; i < run.tokens().size(); ++i)
      lists.add_generated(run.tokens()[i], previous_id(run, i));
    logprobs = lists.take();
  }
  const std::string text = (request.echo ? run.prepared().prompt_text : std::string()) + run.text();
  Json body = completion_chunk(
      c, completion_choice(text, std::move(logprobs), openai_finish_reason(run.end())));
  body["usage"] = usage_json(run);
  return body;
}

// The end of every OpenAI stream: the usage chunk when asked for, then [DONE].
bool emit_end(const EventSource::Emit& emit, const Json& usage_chunk) {
  if (!usage_chunk.is_null() && !emit(sse_event(usage_chunk))) return false;
  return emit(std::string(kSseDone));
}

Json usage_chunk(const Completion& c, const char* object, bool include_usage) {
  if (!include_usage) return nullptr;
  return {{"id", c.id},       {"object", object},         {"created", c.created},
          {"model", c.model}, {"choices", Json::array()}, {"usage", usage_json(*c.run)}};
}

// An error in the middle of an OpenAI stream: logged, sent as an error event, then [DONE], the
// same for completions and chat.
void emit_stream_error(RequestLog& log, const ApiError& error, const EventSource::Emit& emit) {
  log.fail(error, http_status(error.kind(), ApiFlavor::OpenAi));
  if (emit(sse_event(error_body(error, ApiFlavor::OpenAi)))) emit(std::string(kSseDone));
}

class CompletionStream : public EventSource {
 public:
  CompletionStream(ServerState& state, CompletionRequest request, Completion completion,
                   std::shared_ptr<RequestLog> log)
      : texts_(state.texts()),
        request_(std::move(request)),
        c_(std::move(completion)),
        log_(std::move(log)),
        lists_(texts_, request_.return_tokens_as_token_ids) {}

  Progress next(const Emit& emit, const std::function<bool()>& abort) override {
    GenerationRun& run = *c_.run;
    const auto step = run.next(abort);
    if (!step) return Progress::Aborted;
    if (step->last && run.end() == GenerationEnd::Cancelled) throw engine_cancelled_error();
    std::string text = step->text;
    if (first_) {  // echo: the prompt opens the stream (its logprobs came with this first event)
      first_ = false;
      if (request_.echo) {
        text = run.prepared().prompt_text + text;
        if (request_.logprobs && run.prompt_logprobs())
          lists_.add_prompt(run.prepared().request.prompt_ids, *run.prompt_logprobs());
      }
    }
    if (request_.logprobs && step->token)
      lists_.add_generated(run.tokens()[*step->token], previous_id(run, *step->token));
    const bool has_logprobs = request_.logprobs.has_value();
    if (!text.empty() || step->last || (has_logprobs && step->token)) {
      Json finish = step->last ? Json(openai_finish_reason(run.end())) : Json(nullptr);
      Json logprobs = has_logprobs ? lists_.take() : Json(nullptr);
      if (!emit(sse_event(completion_chunk(c_, completion_choice(text, logprobs, finish)))))
        return Progress::Aborted;
    }
    if (!step->last) return Progress::More;
    finish_log(*log_, run);
    return emit_end(emit, usage_chunk(c_, "text_completion", request_.include_usage))
               ? Progress::Done
               : Progress::Aborted;
  }

  void on_error(const ApiError& error, const Emit& emit) override {
    emit_stream_error(*log_, error, emit);
  }

 private:
  TokenTexts texts_;
  CompletionRequest request_;
  Completion c_;
  std::shared_ptr<RequestLog> log_;
  CompletionLogprobs lists_;
  bool first_ = true;
};

// ---- /v1/chat/completions ----

Json chat_chunk(const Completion& c, Json delta, Json logprobs, Json finish_reason) {
  return {{"id", c.id},
          {"object", "chat.completion.chunk"},
          {"created", c.created},
          {"model", c.model},
          {"choices", Json::array({{{"index", 0},
                                    {"delta", std::move(delta)},
                                    {"logprobs", std::move(logprobs)},
                                    {"finish_reason", std::move(finish_reason)}}})}};
}

Json chat_body(const Completion& c, const ChatRequest& request, const TokenTexts& texts) {
  const GenerationRun& run = *c.run;
  Json logprobs = nullptr;
  if (request.logprobs) {
    Json content = Json::array();
    for (size_t i = 0; i < run.tokens().size(); ++i)
      content.push_back(chat_logprob_entry(run.tokens()[i], previous_id(run, i),
                                           request.top_logprobs, texts,
                                           request.return_tokens_as_token_ids));
    logprobs = {{"content", std::move(content)}};
  }
  Json choice = {{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", run.text()}}},
                 {"logprobs", std::move(logprobs)},
                 {"finish_reason", openai_finish_reason(run.end())}};
  return {{"id", c.id},
          {"object", "chat.completion"},
          {"created", c.created},
          {"model", c.model},
          {"choices", Json::array({std::move(choice)})},
          {"usage", usage_json(run)}};
}

class ChatStream : public EventSource {
 public:
  ChatStream(ServerState& state, ChatRequest request, Completion completion,
             std::shared_ptr<RequestLog> log)
      : texts_(state.texts()),
        request_(std::move(request)),
        c_(std::move(completion)),
        log_(std::move(log)) {}

  Progress next(const Emit& emit, const std::function<bool()>& abort) override {
    if (first_) {  // the role comes first, before any token: clients show it at once
      first_ = false;
      const Json delta = {{"role", "assistant"}, {"content", ""}};
      return emit(sse_event(chat_chunk(c_, delta, nullptr, nullptr))) ? Progress::More
                                                                      : Progress::Aborted;
    }
    GenerationRun& run = *c_.run;
    const auto step = run.next(abort);
    if (!step) return Progress::Aborted;
    if (step->last && run.end() == GenerationEnd::Cancelled) throw engine_cancelled_error();
    Json logprobs = nullptr;
    if (request_.logprobs && step->token)
      logprobs = {
          {"content", Json::array({chat_logprob_entry(
                          run.tokens()[*step->token], previous_id(run, *step->token),
                          request_.top_logprobs, texts_, request_.return_tokens_as_token_ids)})}};
    if (!step->text.empty() || !logprobs.is_null()) {
      const Json delta = {{"content", step->text}};
      if (!emit(sse_event(chat_chunk(c_, delta, std::move(logprobs), nullptr))))
        return Progress::Aborted;
    }
    if (!step->last) return Progress::More;
    if (!emit(sse_event(chat_chunk(c_, Json::object(), nullptr, openai_finish_reason(run.end())))))
      return Progress::Aborted;
    finish_log(*log_, run);
    return emit_end(emit, usage_chunk(c_, "chat.completion.chunk", request_.include_usage))
               ? Progress::Done
               : Progress::Aborted;
  }

  void on_error(const ApiError& error, const Emit& emit) override {
    emit_stream_error(*log_, error, emit);
  }

 private:
  TokenTexts texts_;
  ChatRequest request_;
  Completion c_;
  std::shared_ptr<RequestLog> log_;
  bool first_ = true;
};

}  // namespace

void OpenAiApi::completions(const httplib::Request& request, httplib::Response& response,
                            std::shared_ptr<RequestLog> log) {
  CompletionRequest parsed = parse_completion(parse_json_body(request.body), state_.context.limits);
  Completion c = start(state_, parsed.spec, parsed.model, "cmpl", *log);
  if (parsed.stream) {
    stream_events(response,
                  std::make_shared<CompletionStream>(state_, std::move(parsed), std::move(c), log),
                  state_.stopping);
    return;
  }
  if (!c.run->run_to_end(state_.stop_or_client_gone(request.local_port, request.remote_port)) ||
      c.run->end() == GenerationEnd::Cancelled)
    throw engine_cancelled_error();
  response.set_content(dump_json(completion_body(c, parsed, state_.texts())), kJson);
  finish_log(*log, *c.run);
}

void OpenAiApi::chat_completions(const httplib::Request& request, httplib::Response& response,
                                 std::shared_ptr<RequestLog> log) {
  ChatRequest parsed = parse_chat(parse_json_body(request.body), state_.context.limits);
  Completion c = start(state_, parsed.spec, parsed.model, "chatcmpl", *log);
  if (parsed.stream) {
    stream_events(response,
                  std::make_shared<ChatStream>(state_, std::move(parsed), std::move(c), log),
                  state_.stopping);
    return;
  }
  if (!c.run->run_to_end(state_.stop_or_client_gone(request.local_port, request.remote_port)) ||
      c.run->end() == GenerationEnd::Cancelled)
    throw engine_cancelled_error();
  response.set_content(dump_json(chat_body(c, parsed, state_.texts())), kJson);
  finish_log(*log, *c.run);
}

void OpenAiApi::models(httplib::Response& response) {
  const ServerContext& context = state_.context;
  auto entry = [&](const std::string& id, const Json& parent) {
    return Json{{"id", id},
                {"object", "model"},
                {"created", state_.started_unix},
                {"owned_by", "lorax"},
                {"root", id},
                {"parent", parent},
                {"max_model_len", context.limits.max_total_tokens}};
  };
  Json data = Json::array({entry(context.served_model_name, nullptr)});
  for (const std::string& id : context.adapters.registered())
    data.push_back(entry(id, context.served_model_name));
  response.set_content(dump_json({{"object", "list"}, {"data", std::move(data)}}), kJson);
}

}  // namespace lorax
