// What the route handlers share: the context the server was built from, its metrics, request
// ids, and the flag that says the server is draining (GET /health answers 503).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/metrics.h"
#include "server/served_adapters.h"
#include "server/server_context.h"
#include "server/structured_output.h"
#include "server/token_text.h"

namespace lorax {

struct ServerState {
  // Feeds the engine's steps to `metrics` from the service's engine thread until destroyed.
  explicit ServerState(ServerContext server_context);
  ~ServerState();
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  const Tokenizer* tokenizer() const { return context.text ? &context.text->tokenizer() : nullptr; }
  TokenTexts texts() const { return TokenTexts(tokenizer()); }
  uint64_t new_request_id() { return next_request_id.fetch_add(1); }
  // "cmpl-<server>-<n>": unique across the server's restarts (the prefix is random per start).
  std::string openai_id(const char* kind, uint64_t request_id) const;

  ServerContext context;
  Metrics metrics;
  ServedAdapters adapters;
  ConstraintCompiler constraints;  // structured output, compiled on the HTTP threads
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> next_request_id{1};
  int64_t started_unix = 0;  // seconds: `created` of /v1/models
  std::string instance;      // random hex, per server start
};

}  // namespace lorax
