#include "server/http_server.h"

#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <thread>

#include "core/log.h"
#include "server/api_error.h"
#include "server/lorax_api.h"
#include "server/openai_api.h"
#include "server/request_log.h"
#include "server/server_state.h"

namespace lorax {

namespace {

using GenerationHandler =
    std::function<void(const httplib::Request&, httplib::Response&, std::shared_ptr<RequestLog>)>;
using PlainHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

ApiFlavor flavor_of(const std::string& path) {
  return path.rfind("/v1/", 0) == 0 ? ApiFlavor::OpenAi : ApiFlavor::Lorax;
}

void write_error(httplib::Response& response, const ApiError& error, ApiFlavor flavor) {
  response.status = http_status(error.kind(), flavor);
  response.set_content(dump_json(error_body(error, flavor)), "application/json");
}

// Compares in time independent of where the strings first differ (the key is a secret).
bool same_secret(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < given.size(); ++i) diff |= (unsigned char)(given[i] ^ expected[i]);
  return diff == 0;
}

// The model's context bounds what the limits may promise.
ServerContext with_usable_limits(ServerContext context) {
  ServerLimits& l = context.limits;
  const int64_t positions = context.service.model().max_positions();
  if (l.max_total_tokens > positions) {
    log_warn("max_total_tokens ", l.max_total_tokens, " exceeds the model's context ", positions,
             "; using ", positions);
    l.max_total_tokens = positions;
  }
  if (l.max_input_length >= l.max_total_tokens) {
    log_warn("max_input_length ", l.max_input_length, " leaves no room to generate within ",
             l.max_total_tokens, " tokens; using ", l.max_total_tokens - 1);
    l.max_input_length = l.max_total_tokens - 1;
  }
  return context;
}

// Writing to a socket whose client has gone raises SIGPIPE, which ends the process by default;
// a server must see EPIPE instead. Only the default disposition is replaced.
void ignore_sigpipe() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
    signal(SIGPIPE, SIG_IGN);
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(ServerContext context)
      : state(with_usable_limits(std::move(context))), lorax(state), openai(state) {}

  void configure();
  void authorize(const httplib::Request& request) const;
  httplib::Server::Handler plain(PlainHandler handler);
  httplib::Server::Handler generation(std::string endpoint, GenerationHandler handler);
  httplib::Server::HandlerWithContentReader bounded_body(httplib::Server::Handler handler) const;
  ApiError body_too_large() const;
  httplib::Server::HandlerResponse on_http_error(const httplib::Request& request,
                                                 httplib::Response& response) const;
  bool bind(const std::string& host, int port);

  ServerState state;
  LoraxApi lorax;
  OpenAiApi openai;
  httplib::Server server;
  std::atomic<int> port{-1};
  std::thread thread;
  std::mutex stop_mutex;
};

void HttpServer::Impl::authorize(const httplib::Request& request) const {
  const auto& key = state.context.api_key;
  if (!key) return;
  const std::string given = request.get_header_value("Authorization");
  if (given.empty())
    throw ApiError(ErrorKind::Unauthorized,
                   "missing API key: send the header \"Authorization: Bearer <key>\"");
  if (!same_secret(given, "Bearer " + *key))
    throw ApiError(ErrorKind::Unauthorized, "invalid API key");
}

httplib::Server::Handler HttpServer::Impl::plain(PlainHandler handler) {
  return [this, handler](const httplib::Request& request, httplib::Response& response) {
    const ApiFlavor flavor = flavor_of(request.path);
    try {
      const bool health =
          request.method == "GET" && (request.path == "/health" || request.path == "/");
      if (!health) authorize(request);
      handler(request, response);
    } catch (...) {
      const ApiError error = classify_exception(std::current_exception());
      write_error(response, error, flavor);
      const std::string line = request.method + " " + request.path + ": " +
                               std::to_string(response.status) + " " + error.what();
      if (error.kind() == ErrorKind::Internal)
        log_error(line);
      else
        log_warn(line);
    }
  };
}

httplib::Server::Handler HttpServer::Impl::generation(std::string endpoint,
                                                      GenerationHandler handler) {
  return [this, endpoint, handler](const httplib::Request& request, httplib::Response& response) {
    const ApiFlavor flavor = flavor_of(request.path);
    auto log = std::make_shared<RequestLog>(state.metrics, state.new_request_id(), endpoint);
    response.set_header("X-Request-Id", std::to_string(log->id()));
    try {
      authorize(request);
      handler(request, response, log);
    } catch (...) {
      const ApiError error = classify_exception(std::current_exception());
      write_error(response, error, flavor);
      log->fail(error, response.status);
    }
  };
}

// httplib 0.11 refuses a Content-Length over the limit before reading, but reads a chunked body
// (or one delimited by the connection's close) whole, whatever its size. POST bodies are
// therefore read here, through a receiver that stops at max_body_bytes.
httplib::Server::HandlerWithContentReader HttpServer::Impl::bounded_body(
    httplib::Server::Handler handler) const {
  return [this, handler](const httplib::Request& request, httplib::Response& response,
                         const httplib::ContentReader& read) {
    const size_t limit = state.context.limits.max_body_bytes;
    std::string body;
    bool too_large = request.get_header_value<uint64_t>("Content-Length") > limit;
    const bool complete = !too_large && read([&](const char* data, size_t size) {
      too_large = body.size() + size > limit;
      if (!too_large) body.append(data, size);
      return !too_large;
    });
    if (!complete) {
      const ApiError error =
          too_large ? body_too_large() : ApiError(ErrorKind::BadRequest, "malformed request body");
      write_error(response, error, flavor_of(request.path));
      response.set_header("Connection", "close");  // the rest of the body is not read
      log_warn(request.method, " ", request.path, ": ", response.status, " ", error.what());
      return;
    }
    httplib::Request with_body = request;
    with_body.body = std::move(body);
    handler(with_body, response);
  };
}

ApiError HttpServer::Impl::body_too_large() const {
  return ApiError(ErrorKind::PayloadTooLarge,
                  "request body is larger than the limit of " +
                      std::to_string(state.context.limits.max_body_bytes) + " bytes");
}

// httplib's own errors (no such route, body too large, unparsable request) get a JSON body in
// the API's shape; responses that already have a body are left alone.
httplib::Server::HandlerResponse HttpServer::Impl::on_http_error(
    const httplib::Request& request, httplib::Response& response) const {
  if (!response.body.empty() || response.is_chunked_content_provider_)
    return httplib::Server::HandlerResponse::Unhandled;
  const int status = response.status;
  ErrorKind kind = ErrorKind::BadRequest;
  std::string message = "malformed HTTP request";
  if (status == 404) {
    kind = ErrorKind::NotFound;
    message = "no route for " + request.method + " " + request.path;
  }
  const ApiFlavor flavor = flavor_of(request.path);
  write_error(response, status == 413 ? body_too_large() : ApiError(kind, message), flavor);
  response.status = status;  // keep httplib's status (405, 414, ...) where ours would differ
  return httplib::Server::HandlerResponse::Handled;
}

void HttpServer::Impl::configure() {
  const ServerLimits& limits = state.context.limits;
  server.set_payload_max_length(limits.max_body_bytes);
  server.set_tcp_nodelay(true);  // stream events leave at once, not after Nagle's delay
  const size_t threads = size_t(std::max(limits.http_threads, 2));
  // httplib takes ownership of the raw pointer it asks for (it deletes the queue itself).
  server.new_task_queue = [threads] {
    return std::make_unique<httplib::ThreadPool>(threads).release();
  };
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& q, httplib::Response& r) { return on_http_error(q, r); }));

  using Q = const httplib::Request&;
  using R = httplib::Response&;
  using Log = std::shared_ptr<RequestLog>;
  const auto post = [this](const char* path, httplib::Server::Handler handler) {
    server.Post(path, bounded_body(std::move(handler)));
  };
  post("/", generation("POST /", [this](Q q, R r, Log log) { lorax.root(q, r, log); }));
  post("/generate",
       generation("POST /generate", [this](Q q, R r, Log log) { lorax.generate(q, r, *log); }));
  post("/generate_stream", generation("POST /generate_stream", [this](Q q, R r, Log log) {
         lorax.generate_stream(q, r, log);
       }));
  post("/v1/completions", generation("POST /v1/completions",
                                     [this](Q q, R r, Log log) { openai.completions(q, r, log); }));
  post("/v1/chat/completions", generation("POST /v1/chat/completions", [this](Q q, R r, Log log) {
         openai.chat_completions(q, r, log);
       }));
  post("/tokenize", plain([this](Q q, R r) { lorax.tokenize(q, r); }));
  server.Get("/health", plain([this](Q, R r) { lorax.health(r); }));
  server.Get("/", plain([this](Q, R r) { lorax.health(r); }));  // LoRAX's second health route
  server.Get("/info", plain([this](Q, R r) { lorax.info(r); }));
  server.Get("/v1/models", plain([this](Q, R r) { openai.models(r); }));
  post("/v1/load_lora_adapter", plain([this](Q q, R r) { openai.load_adapter(q, r); }));
  post("/v1/unload_lora_adapter", plain([this](Q q, R r) { openai.unload_adapter(q, r); }));
  server.Get("/metrics", plain([this](Q, R r) {
               r.set_content(
                   state.metrics.render(state.context.service.stats(), state.adapters.stats()),
                   "text/plain; version=0.0.4; charset=utf-8");
             }));
}

bool HttpServer::Impl::bind(const std::string& host, int requested) {
  const int bound = requested == 0 ? server.bind_to_any_port(host)
                                   : (server.bind_to_port(host, requested) ? requested : -1);
  if (bound <= 0) return false;
  port = bound;
  return true;
}

HttpServer::HttpServer(ServerContext context) : impl_(std::make_unique<Impl>(std::move(context))) {
  ignore_sigpipe();
  for (const std::string& id : impl_->state.context.preloaded_adapters) {
    impl_->state.adapters.preload(id);
    log_info("preloaded adapter '", id, "' (never evicted)");
  }
  impl_->configure();
}

HttpServer::~HttpServer() {
  stop();
}

bool HttpServer::listen(const std::string& host, int port) {
  if (!impl_->bind(host, port)) return false;
  log_info("serving ", impl_->state.context.served_model_name, " on http://", host, ":",
           impl_->port.load());
  return impl_->server.listen_after_bind();
}

int HttpServer::start(const std::string& host, int port) {
  if (!impl_->bind(host, port)) fail("cannot listen on ", host, ":", port);
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // stop() only works on a running server: wait until it runs, so an early stop() is not lost.
  for (int i = 0; i < 5000 && !impl_->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return impl_->port;
}

int HttpServer::bound_port() const {
  return impl_->port;
}

void HttpServer::stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mutex);
  impl_->state.stopping = true;
  impl_->server.stop();
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id())
    impl_->thread.join();
}

const ServerContext& HttpServer::context() const {
  return impl_->state.context;
}

}  // namespace lorax
