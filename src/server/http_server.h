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
// Connections are served by a few I/O threads (ServerLimits::http_threads) through Boost.Beast
// and Asio, event-driven (http_connection.h): any number of open connections, up to
// max_connections, cost no thread each, and no I/O thread waits for the engine.
//
// Usage (the `lorax serve` command):
//   HttpServer server(context);
//   const int port = server.start("0.0.0.0", 8080);  // serves from background threads
//   ... server.drain(); service.shutdown(grace); server.stop();
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

  // Binds, then serves on a background thread; returns the bound port. Throws lorax::Error if
  // it cannot bind.
  int start(const std::string& host, int port);
  int bound_port() const;
  // Draining: GET /health answers 503 and every answer closes its connection; requests in
  // flight go on. For the time the engine finishes them (EngineService::shutdown).
  void drain();
  // Stops accepting, lets responses in progress be written for up to 2 s (after the engine's
  // shutdown each stream has its last event or an error event), closes every connection (open
  // streams are cut and their requests cancelled), joins the I/O threads. Safe to call more than
  // once and from any thread.
  void stop();

  const ServerContext& context() const;
  const ServerLimits& limits() const { return context().limits; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lorax
