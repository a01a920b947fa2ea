// The HTTP front of the server: the LoRAX REST API and the OpenAI API over one EngineService.
//
//   POST /, /generate, /generate_stream (SSE), /tokenize    GET /, /health, /info, /metrics
//   POST /v1/completions, /v1/chat/completions (SSE with "stream": true)    GET /v1/models
//   POST /v1/load_lora_adapter, /v1/unload_lora_adapter (vLLM's)
//
// Every handler runs inside one wrapper that turns any exception into the API's error response
// (LoRAX: {"error", "error_type"}; OpenAI under /v1: {"error": {"message", "type", "param",
// "code"}}), so a bad request, a broken adapter or a bug in one request never stops the server.
// With an API key set, everything but GET /health needs "Authorization: Bearer <key>" (401).
//
// Usage (the `lorax serve` command):
//   HttpServer server(context);
//   server.listen("0.0.0.0", 8080);   // blocks until stop() from another thread or a signal
// Tests start it in the background instead:
//   const int port = server.start("127.0.0.1", 0);  ... server.stop();
#pragma once

#include <memory>
#include <string>

#include "server/server_context.h"

namespace lorax {

class HttpServer {
 public:
  // Clamps limits the model cannot honour (max_total_tokens above its context) with a warning.
  // Loads the preloaded adapters; throws ApiError naming the one that fails and why.
  explicit HttpServer(ServerContext context);
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0: any free port) and serves until stop(); false if it cannot bind.
  bool listen(const std::string& host, int port);
  // Binds, then serves on a background thread; returns the bound port. Throws lorax::Error if
  // it cannot bind.
  int start(const std::string& host, int port);
  int bound_port() const;
  // Stops accepting, ends open streams (their requests are cancelled), joins the background
  // thread. Safe to call more than once and from any thread.
  void stop();

  const ServerContext& context() const;
  const ServerLimits& limits() const { return context().limits; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lorax
