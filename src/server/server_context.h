// What the HTTP layer is built from: the engine, the text side of the model, the adapters, and
// the limits every request is validated against. The caller (the `lorax serve` command, tests)
// owns everything referenced here and keeps it alive while the server runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/adapter_store.h"
#include "engine/engine_service.h"
#include "tokenizer/text_processor.h"

namespace lorax {

struct ServerLimits {
  int64_t max_input_length = 1024;  // prompt tokens (after truncation)
  int64_t max_total_tokens = 2048;  // prompt + generated tokens
  // The most a request may ask for. A request that gives none gets what is left of
  // max_total_tokens after its prompt (LoRAX's default), at most this.
  int64_t max_new_tokens = 2048;
  int64_t max_stop_sequences = 4;
  int64_t max_top_logprobs = 20;  // alternatives per token; the engine reports at most 20
  // Sequences one request may ask for: LoRAX's best_of, OpenAI's n and best_of. Each is its own
  // engine request; with the prefix cache they share the prompt's KV blocks (run_group.h).
  int64_t max_best_of = 4;
  size_t max_body_bytes = 4 << 20;  // larger request bodies get 413
  // The HTTP layer is event-driven (http_connection.h): a few I/O threads serve every
  // connection, streams included; none waits for the engine.
  int http_threads = 2;
  int max_connections = 10000;  // open at once; beyond, a connection gets 503 and is closed
  // From a request's first byte (or a new connection's accept) to its last: a client that sends
  // slower is closed, so slow clients cannot hold connections.
  double request_read_timeout_s = 10;
  double keep_alive_timeout_s = 60;  // an idle connection between requests is closed after it
  // A client whose writes make no progress for this long is dropped and its request cancelled;
  // at most stream_buffer_bytes of a stream wait for a slow reader (further events wait in the
  // engine's handle). A slow reader holds neither the engine nor other clients.
  double write_timeout_s = 30;
  size_t stream_buffer_bytes = 1 << 20;
};

struct ServerContext {
  EngineService& service;
  // Null when the checkpoint has no tokenizer: only token-id prompts work then.
  const TextProcessor* text = nullptr;
  AdapterStore& adapters;
  std::string served_model_name;  // the base model's id in /v1/models, /info and `model`
  std::string model_dtype;        // reported by /info
  // adapter_source "local": adapter_id names a directory under this root. Unset: refused.
  std::optional<std::string> adapter_root;
  // When set, every endpoint except GET /health needs "Authorization: Bearer <key>".
  std::optional<std::string> api_key;
  bool random_weights = false;  // the demo model: /info says its output is noise
  ServerLimits limits;
  // Loaded before serving and never evicted: registered ids, or directories under adapter_root.
  std::vector<std::string> preloaded_adapters;
  // The adapter of requests that name none (LoRAX's --adapter-id); unset: the base model.
  std::optional<std::string> default_adapter_id;
};

}  // namespace lorax
