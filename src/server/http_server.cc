#include "server/http_server.h"

#include <signal.h>
#include <sys/resource.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "core/log.h"
#include "server/api_error.h"
#include "server/http_connection.h"
#include "server/lorax_api.h"
#include "server/openai_api.h"
#include "server/request_log.h"
#include "server/server_state.h"

namespace lorax {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
using GenerationHandler =
    std::function<void(const HttpRequest&, HttpResponse&, std::shared_ptr<RequestLog>)>;

ApiFlavor flavor_of(const std::string& path) {
  return path.rfind("/v1/", 0) == 0 ? ApiFlavor::OpenAi : ApiFlavor::Lorax;
}

void write_error(HttpResponse& response, const ApiError& error, ApiFlavor flavor) {
  response.status = http_status(error.kind(), flavor);
  response.set_content(dump_json(error_body(error, flavor)), "application/json");
  // Overload and draining pass: a client may come back (429: a slot frees within seconds).
  if (response.status == 429 || response.status == 503) response.set_header("Retry-After", "1");
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

// The longest accept queue the system allows (net.core.somaxconn): a burst of connections waits
// there rather than being refused before the server accepts them.
int listen_backlog() {
  std::ifstream file("/proc/sys/net/core/somaxconn");
  int value = 0;
  if (file >> value && value > 0) return value;
  return asio::socket_base::max_listen_connections;
}

// Errors where the server can do nothing but wait: out of file descriptors or memory, or a
// connection that went before it was accepted.
bool transient_accept_error(const boost::system::error_code& ec) {
  return ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor;
}

// A non-streaming generation whose errors, when it completes, become the API's error answer.
class GuardedAnswer : public PendingAnswer {
 public:
  GuardedAnswer(std::shared_ptr<PendingAnswer> inner, std::shared_ptr<RequestLog> log,
                ApiFlavor flavor)
      : inner_(std::move(inner)), log_(std::move(log)), flavor_(flavor) {}
  bool advance(HttpResponse& response) override {
    try {
      return inner_->advance(response);
    } catch (...) {
      const ApiError error = classify_exception(std::current_exception());
      write_error(response, error, flavor_);
      log_->fail(error, response.status);
      return true;
    }
  }
  void set_notify(std::function<void()> notify) override { inner_->set_notify(std::move(notify)); }

 private:
  std::shared_ptr<PendingAnswer> inner_;
  std::shared_ptr<RequestLog> log_;
  ApiFlavor flavor_;
};

}  // namespace

struct HttpServer::Impl : HttpRoutes {
  explicit Impl(ServerContext context)
      : state(with_usable_limits(std::move(context))), lorax(state), openai(state) {}

  void configure();
  void authorize(const HttpRequest& request) const;
  Handler plain(Handler handler);
  Handler generation(std::string endpoint, GenerationHandler handler);
  ApiError body_too_large() const;

  void handle(const HttpRequest& request, HttpResponse& response) override;
  void refuse(int status, const std::string& path, HttpResponse& response) override;
  bool draining() const override { return state.stopping.load(); }

  void bind(const std::string& host, int port);
  void accept();
  void run_threads();
  void close_connections();

  ServerState state;
  LoraxApi lorax;
  OpenAiApi openai;
  std::map<std::pair<std::string, std::string>, Handler> routes;  // (method, path)
  ConnectionRegistry registry;  // outlives the I/O context, whose handlers hold connections
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{asio::make_strand(io)};
  asio::steady_timer accept_retry{acceptor.get_executor()};
  std::atomic<int> port{-1};
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  bool stopped = false;
};

void HttpServer::Impl::authorize(const HttpRequest& request) const {
  const auto& key = state.context.api_key;
  if (!key) return;
  const std::string given = request.header("Authorization");
  if (given.empty())
    throw ApiError(ErrorKind::Unauthorized,
                   "missing API key: send the header \"Authorization: Bearer <key>\"");
  if (!same_secret(given, "Bearer " + *key))
    throw ApiError(ErrorKind::Unauthorized, "invalid API key");
}

Handler HttpServer::Impl::plain(Handler handler) {
  return [this, handler](const HttpRequest& request, HttpResponse& response) {
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

Handler HttpServer::Impl::generation(std::string endpoint, GenerationHandler handler) {
  return [this, endpoint, handler](const HttpRequest& request, HttpResponse& response) {
    const ApiFlavor flavor = flavor_of(request.path);
    auto log = std::make_shared<RequestLog>(state.metrics, state.new_request_id(), endpoint);
    response.set_header("X-Request-Id", std::to_string(log->id()));
    try {
      authorize(request);
      handler(request, response, log);
      if (response.pending)
        response.pending =
            std::make_shared<GuardedAnswer>(std::move(response.pending), log, flavor);
    } catch (...) {
      const ApiError error = classify_exception(std::current_exception());
      response.pending.reset();
      response.stream.reset();
      write_error(response, error, flavor);
      log->fail(error, response.status);
    }
  };
}

ApiError HttpServer::Impl::body_too_large() const {
  return ApiError(ErrorKind::PayloadTooLarge,
                  "request body is larger than the limit of " +
                      std::to_string(state.context.limits.max_body_bytes) + " bytes");
}

void HttpServer::Impl::handle(const HttpRequest& request, HttpResponse& response) {
  const auto route = routes.find({request.method, request.path});
  if (route == routes.end()) {
    write_error(
        response,
        ApiError(ErrorKind::NotFound, "no route for " + request.method + " " + request.path),
        flavor_of(request.path));
    return;
  }
  route->second(request, response);
}

// Requests refused before any route sees them get a JSON body in the API's shape too.
void HttpServer::Impl::refuse(int status, const std::string& path, HttpResponse& response) {
  const ApiFlavor flavor = flavor_of(path);
  if (status == 413) {
    write_error(response, body_too_large(), flavor);
  } else if (status == 503) {
    write_error(response,
                ApiError(ErrorKind::Unavailable,
                         "too many open connections (limit " +
                             std::to_string(state.context.limits.max_connections) + ")"),
                flavor);
  } else {
    write_error(response,
                ApiError(ErrorKind::BadRequest, status == 431 ? "request headers are too large"
                                                              : "malformed HTTP request"),
                flavor);
  }
  response.status = status;
}

void HttpServer::Impl::configure() {
  using Q = const HttpRequest&;
  using R = HttpResponse&;
  using Log = std::shared_ptr<RequestLog>;
  const auto post = [this](const char* path, Handler handler) {
    routes[{"POST", path}] = std::move(handler);
  };
  const auto get = [this](const char* path, Handler handler) {
    routes[{"GET", path}] = std::move(handler);
  };
  post("/", generation("POST /", [this](Q q, R r, Log log) { lorax.root(q, r, log); }));
  post("/generate",
       generation("POST /generate", [this](Q q, R r, Log log) { lorax.generate(q, r, log); }));
  post("/generate_stream", generation("POST /generate_stream", [this](Q q, R r, Log log) {
         lorax.generate_stream(q, r, log);
       }));
  post("/v1/completions", generation("POST /v1/completions",
                                     [this](Q q, R r, Log log) { openai.completions(q, r, log); }));
  post("/v1/chat/completions", generation("POST /v1/chat/completions", [this](Q q, R r, Log log) {
         openai.chat_completions(q, r, log);
       }));
  post("/tokenize", plain([this](Q q, R r) { lorax.tokenize(q, r); }));
  get("/health", plain([this](Q, R r) { lorax.health(r); }));
  get("/", plain([this](Q, R r) { lorax.health(r); }));  // LoRAX's second health route
  get("/info", plain([this](Q, R r) { lorax.info(r); }));
  get("/v1/models", plain([this](Q, R r) { openai.models(r); }));
  post("/v1/load_lora_adapter", plain([this](Q q, R r) { openai.load_adapter(q, r); }));
  post("/v1/unload_lora_adapter", plain([this](Q q, R r) { openai.unload_adapter(q, r); }));
  get("/metrics", plain([this](Q, R r) {
        r.set_content(state.metrics.render(state.context.service.stats(), state.adapters.stats()),
                      "text/plain; version=0.0.4; charset=utf-8");
      }));
}

void HttpServer::Impl::bind(const std::string& host, int requested) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) fail("cannot listen on ", host, ":", requested, ": ", ec.message());
  const tcp::endpoint endpoint(address, uint16_t(requested));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(listen_backlog(), ec);
  if (ec) fail("cannot listen on ", host, ":", requested, ": ", ec.message());
  port = acceptor.local_endpoint().port();
}

void HttpServer::Impl::accept() {
  acceptor.async_accept(
      asio::make_strand(io), [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
          if (!acceptor.is_open() || !transient_accept_error(ec)) return;
          log_warn("accept failed (", ec.message(), "); retrying");
          accept_retry.expires_after(std::chrono::milliseconds(50));
          accept_retry.async_wait([this](boost::system::error_code wait) {
            if (!wait && acceptor.is_open()) accept();
          });
          return;
        }
        const bool over = registry.admitted() >= size_t(state.context.limits.max_connections);
        start_connection(std::move(socket), *this, state.context.limits, registry, over);
        accept();
      });
}

void HttpServer::Impl::run_threads() {
  work.emplace(io.get_executor());
  const int count = std::max(state.context.limits.http_threads, 1);
  for (int i = 0; i < count; ++i)
    threads.emplace_back([this] {
      for (;;) {
        try {
          io.run();
          return;
        } catch (const std::exception& e) {  // a bug in a handler must not end the server
          log_error("HTTP I/O thread: ", e.what());
        }
      }
    });
  asio::post(acceptor.get_executor(), [this] { accept(); });
}

// Lets responses in progress end (within a bound), closes idle connections, then the rest.
void HttpServer::Impl::close_connections() {
  registry.for_each([](HttpConnection& c) { c.close_when_idle(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (registry.size() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  registry.for_each([](HttpConnection& c) { c.close(); });
  const auto closing = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (registry.size() > 0 && std::chrono::steady_clock::now() < closing)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
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

int HttpServer::start(const std::string& host, int port) {
  impl_->bind(host, port);
  impl_->run_threads();
  return impl_->port;
}

int HttpServer::bound_port() const {
  return impl_->port;
}

void HttpServer::drain() {
  impl_->state.stopping = true;
}

void HttpServer::stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->state.stopping = true;
  if (impl_->threads.empty()) return;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    impl->accept_retry.cancel();
  });
  impl_->close_connections();
  impl_->work.reset();
  impl_->io.stop();
  for (auto& thread : impl_->threads)
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  // No I/O thread runs now: what is left lets go of its engine runs before the engine may go.
  impl_->registry.for_each([](HttpConnection& c) { c.release(); });
}

const ServerContext& HttpServer::context() const {
  return impl_->state.context;
}

}  // namespace lorax
