#include "server/openai_api.h"

#include <chrono>

#include "server/adapter_resolution.h"
#include "server/openai_logprobs.h"
#include "server/request_fields.h"
#include "server/response_headers.h"
#include "server/run_group.h"
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

// `model` names the base model or an adapter (registered, or with adapter_source "local" a
// directory under the adapter root); anything else is 404 at resolution.
void select_model(GenerationSpec& spec, const std::optional<std::string>& model,
                  const ServerContext& context) {
  if (!model || model->empty()) {  // no model named: the default adapter, if any
    spec.adapter.source = AdapterSpec::Source::Registry;
    spec.adapter.id = context.default_adapter_id;
    return;
  }
  if (*model == context.served_model_name) {
    spec.adapter.source = AdapterSpec::Source::Registry;
    return;
  }
  spec.adapter.id = *model;
  spec.adapter.source_given = true;
}

int32_t previous_id(const GenerationRun& run, size_t i) {
  return i == 0 ? run.prepared().request.prompt_ids.back() : run.tokens()[i - 1].id;
}

// What both endpoints share: the response header fields, the sequences, and which sequence each
// returned choice is.
struct Completion {
  std::string id;
  std::string model;
  int64_t created = unix_now();
  std::unique_ptr<RunGroup> runs;
  std::vector<size_t> choice_runs;  // choice index -> run index
  AdapterSpec adapter;
  size_t characters = 0;  // of the prompt, for x-compute-characters
};

Completion start(ServerState& state, GenerationSpec spec, const OpenAiChoices& choices,
                 const std::optional<std::string>& model, const char* id_kind, RequestLog& log) {
  select_model(spec, model, state.context);
  log.set_adapter(state.adapters.label(spec.adapter));
  PreparedGeneration prepared =
      prepare_generation(spec, state.context, state.adapters, ApiFlavor::OpenAi);
  if (spec.constraint) prepared.request.constraint = state.constraints.compile(*spec.constraint);
  log.set_adapter(prepared.adapter_label);
  state.metrics.observe_admitted(int64_t(prepared.request.prompt_ids.size()),
                                 prepared.request.max_new_tokens, choices.best_of);
  Completion c;
  c.id = state.openai_id(id_kind, log.id());
  c.model = model && !model->empty() ? *model : state.context.served_model_name;
  c.adapter = spec.adapter;
  c.characters = utf8_length(prepared.prompt_text);
  c.runs = std::make_unique<RunGroup>(state.context.service, state.tokenizer(), prepared,
                                      choices.best_of, state.metrics, spec.seed.has_value());
  for (int i = 0; i < choices.n; ++i) c.choice_runs.push_back(size_t(i));
  return c;
}

// Non-streaming: once every sequence has ended, keeps the n best (all of them when best_of is n,
// in the order they were asked for). False while some have not.
bool finish_all(Completion& c) {
  while (!c.runs->finished())
    if (!c.runs->try_next()) return false;
  if (c.runs->any_cancelled()) throw engine_cancelled_error();
  if (c.runs->size() > c.choice_runs.size()) {
    const std::vector<size_t> ranked = c.runs->ranked();
    c.choice_runs.assign(ranked.begin(), ranked.begin() + long(c.choice_runs.size()));
  }
  return true;
}

int64_t generated_tokens(const RunGroup& runs) {
  int64_t total = 0;
  for (size_t i = 0; i < runs.size(); ++i) total += int64_t(runs[i].tokens().size());
  return total;
}

// Every sequence generated counts, returned or not (as OpenAI bills best_of).
Json usage_json(const RunGroup& runs) {
  const int64_t prompt = runs[0].prompt_tokens();
  const int64_t generated = generated_tokens(runs);
  return {{"prompt_tokens", prompt},
          {"completion_tokens", generated},
          {"total_tokens", prompt + generated},
          {"prompt_tokens_details", {{"cached_tokens", runs[0].cached_tokens()}}}};
}

void finish_log(RequestLog& log, const Completion& c) {
  const GenerationRun& first = (*c.runs)[c.choice_runs.front()];
  log.succeed(first, generated_tokens(*c.runs), openai_finish_reason(first.end()));
}

void set_headers(HttpResponse& response, const ServerState& state, const Completion& c,
                 const RequestLog& log) {
  set_generation_headers(response, state, c.adapter, log.started(),
                         (*c.runs)[c.choice_runs.front()], c.characters);
}

// The end of every OpenAI stream: the usage chunk when asked for, then [DONE].
bool emit_end(const EventSource::Emit& emit, const Json& usage_chunk) {
  if (!usage_chunk.is_null() && !emit(sse_event(usage_chunk))) return false;
  return emit(std::string(kSseDone));
}

Json usage_chunk(const Completion& c, const char* object, bool include_usage) {
  if (!include_usage) return nullptr;
  return {{"id", c.id},       {"object", object},         {"created", c.created},
          {"model", c.model}, {"choices", Json::array()}, {"usage", usage_json(*c.runs)}};
}

// An error in the middle of an OpenAI stream: logged, sent as an error event, then [DONE], the
// same for completions and chat.
void emit_stream_error(RequestLog& log, const ApiError& error, const EventSource::Emit& emit) {
  log.fail(error, http_status(error.kind(), ApiFlavor::OpenAi));
  if (emit(sse_event(error_body(error, ApiFlavor::OpenAi)))) emit(std::string(kSseDone));
}

// A non-streaming completion or chat completion: `body` builds the answer once every sequence
// has ended.
class CompletionAnswer : public PendingAnswer {
 public:
  using Body = std::function<Json(const Completion&)>;
  CompletionAnswer(ServerState& state, Completion completion, Body body,
                   std::shared_ptr<RequestLog> log)
      : state_(state), c_(std::move(completion)), body_(std::move(body)), log_(std::move(log)) {}

  bool advance(HttpResponse& response) override {
    if (!finish_all(c_)) return false;
    response.set_content(dump_json(body_(c_)), kJson);
    set_headers(response, state_, c_, *log_);
    finish_log(*log_, c_);
    return true;
  }

  void set_notify(std::function<void()> notify) override { c_.runs->set_notify(std::move(notify)); }

 private:
  ServerState& state_;
  Completion c_;
  Body body_;
  std::shared_ptr<RequestLog> log_;
};

// ---- /v1/completions ----

Json completion_chunk(const Completion& c, Json choice) {
  return {{"id", c.id},
          {"object", "text_completion"},
          {"created", c.created},
          {"model", c.model},
          {"choices", Json::array({std::move(choice)})}};
}

Json completion_choice(size_t index, std::string text, Json logprobs, Json finish_reason) {
  return {{"index", index},
          {"text", std::move(text)},
          {"logprobs", std::move(logprobs)},
          {"finish_reason", std::move(finish_reason)}};
}

Json completion_logprobs(const GenerationRun& run, const CompletionRequest& request,
                         const TokenTexts& texts) {
  if (!request.logprobs) return nullptr;
  CompletionLogprobs lists(texts, request.return_tokens_as_token_ids);
  if (request.echo && run.prompt_logprobs())
    lists.add_prompt(run.prepared().request.prompt_ids, *run.prompt_logprobs());
  for (size_t i = 0; i < run.tokens().size(); ++i)
    lists.add_generated(run.tokens()[i], previous_id(run, i));
  return lists.take();
}

Json completion_body(const Completion& c, const CompletionRequest& request,
                     const TokenTexts& texts) {
  Json choices = Json::array();
  for (size_t k = 0; k < c.choice_runs.size(); ++k) {
    const GenerationRun& run = (*c.runs)[c.choice_runs[k]];
    const std::string text =
        (request.echo ? run.prepared().prompt_text : std::string()) + run.text();
    choices.push_back(completion_choice(k, text, completion_logprobs(run, request, texts),
                                        openai_finish_reason(run.end())));
  }
  return {{"id", c.id},       {"object", "text_completion"},   {"created", c.created},
          {"model", c.model}, {"choices", std::move(choices)}, {"usage", usage_json(*c.runs)}};
}

// Streams every choice's chunks as its sequence produces them (choice i is run i: best_of equals
// n when streaming).
class CompletionStream : public EventSource {
 public:
  CompletionStream(ServerState& state, CompletionRequest request, Completion completion,
                   std::shared_ptr<RequestLog> log)
      : texts_(state.texts()),
        request_(std::move(request)),
        c_(std::move(completion)),
        log_(std::move(log)),
        first_(c_.runs->size(), true) {
    for (size_t i = 0; i < c_.runs->size(); ++i)
      lists_.emplace_back(texts_, request_.return_tokens_as_token_ids);
  }

  Progress next(const Emit& emit) override {
    const auto event = c_.runs->try_next();
    if (!event) return Progress::Waiting;
    const size_t i = event->run;
    const GenerationRun::Step& step = event->step;
    GenerationRun& run = (*c_.runs)[i];
    if (step.last && run.end() == GenerationEnd::Cancelled) throw engine_cancelled_error();
    std::string text = step.text;
    if (first_[i]) {  // echo: the prompt opens the choice (its logprobs came with this event)
      first_[i] = false;
      if (request_.echo) {
        text = run.prepared().prompt_text + text;
        if (request_.logprobs && run.prompt_logprobs())
          lists_[i].add_prompt(run.prepared().request.prompt_ids, *run.prompt_logprobs());
      }
    }
    if (request_.logprobs && step.token)
      lists_[i].add_generated(run.tokens()[*step.token], previous_id(run, *step.token));
    const bool has_logprobs = request_.logprobs.has_value();
    if (!text.empty() || step.last || (has_logprobs && step.token)) {
      Json finish = step.last ? Json(openai_finish_reason(run.end())) : Json(nullptr);
      Json logprobs = has_logprobs ? lists_[i].take() : Json(nullptr);
      if (!emit(sse_event(completion_chunk(c_, completion_choice(i, text, logprobs, finish)))))
        return Progress::Aborted;
    }
    if (!c_.runs->finished()) return Progress::More;
    finish_log(*log_, c_);
    return emit_end(emit, usage_chunk(c_, "text_completion", request_.include_usage))
               ? Progress::Done
               : Progress::Aborted;
  }

  void on_error(const ApiError& error, const Emit& emit) override {
    emit_stream_error(*log_, error, emit);
  }

  void set_notify(std::function<void()> notify) override { c_.runs->set_notify(std::move(notify)); }

 private:
  TokenTexts texts_;
  CompletionRequest request_;
  Completion c_;
  std::shared_ptr<RequestLog> log_;
  std::vector<CompletionLogprobs> lists_;  // per choice
  std::vector<bool> first_;                // per choice: no event seen yet
};

// ---- /v1/chat/completions ----

Json chat_chunk(const Completion& c, size_t index, Json delta, Json logprobs, Json finish_reason) {
  return {{"id", c.id},
          {"object", "chat.completion.chunk"},
          {"created", c.created},
          {"model", c.model},
          {"choices", Json::array({{{"index", index},
                                    {"delta", std::move(delta)},
                                    {"logprobs", std::move(logprobs)},
                                    {"finish_reason", std::move(finish_reason)}}})}};
}

Json chat_logprobs(const GenerationRun& run, const ChatRequest& request, const TokenTexts& texts) {
  if (!request.logprobs) return nullptr;
  Json content = Json::array();
  for (size_t i = 0; i < run.tokens().size(); ++i)
    content.push_back(chat_logprob_entry(run.tokens()[i], previous_id(run, i), request.top_logprobs,
                                         texts, request.return_tokens_as_token_ids));
  return {{"content", std::move(content)}};
}

Json chat_body(const Completion& c, const ChatRequest& request, const TokenTexts& texts) {
  Json choices = Json::array();
  for (size_t k = 0; k < c.choice_runs.size(); ++k) {
    const GenerationRun& run = (*c.runs)[c.choice_runs[k]];
    choices.push_back({{"index", k},
                       {"message", {{"role", "assistant"}, {"content", run.text()}}},
                       {"logprobs", chat_logprobs(run, request, texts)},
                       {"finish_reason", openai_finish_reason(run.end())}});
  }
  return {{"id", c.id},       {"object", "chat.completion"},   {"created", c.created},
          {"model", c.model}, {"choices", std::move(choices)}, {"usage", usage_json(*c.runs)}};
}

class ChatStream : public EventSource {
 public:
  ChatStream(ServerState& state, ChatRequest request, Completion completion,
             std::shared_ptr<RequestLog> log)
      : texts_(state.texts()),
        request_(std::move(request)),
        c_(std::move(completion)),
        log_(std::move(log)) {}

  Progress next(const Emit& emit) override {
    if (roles_sent_ < c_.runs->size()) {  // each role first, before any token: shown at once
      const Json delta = {{"role", "assistant"}, {"content", ""}};
      return emit(sse_event(chat_chunk(c_, roles_sent_++, delta, nullptr, nullptr)))
                 ? Progress::More
                 : Progress::Aborted;
    }
    const auto event = c_.runs->try_next();
    if (!event) return Progress::Waiting;
    const size_t i = event->run;
    const GenerationRun::Step& step = event->step;
    GenerationRun& run = (*c_.runs)[i];
    if (step.last && run.end() == GenerationEnd::Cancelled) throw engine_cancelled_error();
    Json logprobs = nullptr;
    if (request_.logprobs && step.token)
      logprobs = {
          {"content", Json::array({chat_logprob_entry(
                          run.tokens()[*step.token], previous_id(run, *step.token),
                          request_.top_logprobs, texts_, request_.return_tokens_as_token_ids)})}};
    if (!step.text.empty() || !logprobs.is_null()) {
      const Json delta = {{"content", step.text}};
      if (!emit(sse_event(chat_chunk(c_, i, delta, std::move(logprobs), nullptr))))
        return Progress::Aborted;
    }
    if (step.last && !emit(sse_event(chat_chunk(c_, i, Json::object(), nullptr,
                                                openai_finish_reason(run.end())))))
      return Progress::Aborted;
    if (!c_.runs->finished()) return Progress::More;
    finish_log(*log_, c_);
    return emit_end(emit, usage_chunk(c_, "chat.completion.chunk", request_.include_usage))
               ? Progress::Done
               : Progress::Aborted;
  }

  void on_error(const ApiError& error, const Emit& emit) override {
    emit_stream_error(*log_, error, emit);
  }

  void set_notify(std::function<void()> notify) override { c_.runs->set_notify(std::move(notify)); }

 private:
  TokenTexts texts_;
  ChatRequest request_;
  Completion c_;
  std::shared_ptr<RequestLog> log_;
  size_t roles_sent_ = 0;
};

}  // namespace

void OpenAiApi::completions(const HttpRequest& request, HttpResponse& response,
                            std::shared_ptr<RequestLog> log) {
  CompletionRequest parsed = parse_completion(parse_json_body(request.body), state_.context.limits);
  Completion c = start(state_, parsed.spec, parsed.choices, parsed.model, "cmpl", *log);
  if (parsed.stream) {
    set_stream_headers(response, state_, c.adapter, c.characters);
    stream_events(response,
                  std::make_shared<CompletionStream>(state_, std::move(parsed), std::move(c), log));
    return;
  }
  const TokenTexts texts = state_.texts();
  auto body = [texts, parsed](const Completion& done) {
    return completion_body(done, parsed, texts);
  };
  response.pending = std::make_shared<CompletionAnswer>(state_, std::move(c), body, log);
}

void OpenAiApi::chat_completions(const HttpRequest& request, HttpResponse& response,
                                 std::shared_ptr<RequestLog> log) {
  ChatRequest parsed = parse_chat(parse_json_body(request.body), state_.context.limits);
  Completion c = start(state_, parsed.spec, parsed.choices, parsed.model, "chatcmpl", *log);
  if (parsed.stream) {
    set_stream_headers(response, state_, c.adapter, c.characters);
    stream_events(response,
                  std::make_shared<ChatStream>(state_, std::move(parsed), std::move(c), log));
    return;
  }
  const TokenTexts texts = state_.texts();
  auto body = [texts, parsed](const Completion& done) { return chat_body(done, parsed, texts); };
  response.pending = std::make_shared<CompletionAnswer>(state_, std::move(c), body, log);
}

void OpenAiApi::models(HttpResponse& response) {
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
  for (const std::string& id : state_.adapters.loaded_names())
    data.push_back(entry(id, context.served_model_name));
  response.set_content(dump_json({{"object", "list"}, {"data", std::move(data)}}), kJson);
}

void OpenAiApi::load_adapter(const HttpRequest& request, HttpResponse& response) {
  const Json body = parse_json_body(request.body);
  const FieldReader fields(body);
  const auto name = fields.string("lora_name");
  const auto path = fields.string("lora_path");
  if (!name) fields.invalid("lora_name", "is required");
  if (!path) fields.invalid("lora_path", "is required");
  state_.adapters.load(*name, *path);
  response.set_content("Success: LoRA adapter '" + *name + "' added successfully.", "text/plain");
}

void OpenAiApi::unload_adapter(const HttpRequest& request, HttpResponse& response) {
  const Json body = parse_json_body(request.body);
  const FieldReader fields(body);
  const auto name = fields.string("lora_name");
  if (!name) fields.invalid("lora_name", "is required");
  state_.adapters.unload(*name);
  response.set_content("Success: LoRA adapter '" + *name + "' removed successfully.", "text/plain");
}

}  // namespace lorax
