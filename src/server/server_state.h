// What the route handlers share: the context the server was built from, its metrics, request
// ids, and the flag that tells waiting handlers and open streams the server is stopping.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "server/metrics.h"
#include "server/peer_watch.h"
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
  // For waits that must end when the server stops.
  std::function<bool()> stop_requested() const {
    return [this] { return stopping.load(); };
  }
  // For non-streaming waits: also ends when the client has gone away (see peer_watch.h), so its
  // request is cancelled and its KV blocks freed at once.
  std::function<bool()> stop_or_client_gone(int local_port, int remote_port) const {
    auto watch = std::make_shared<PeerWatch>(local_port, remote_port);
    return [this, watch] { return stopping.load() || watch->gone(); };
  }

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
