// `lorax serve`: the LoRAX and OpenAI HTTP APIs over one continuously batched engine. With no
// --model it serves the built-in demo (random weights; it says so). SIGINT/SIGTERM drain: new
// requests get 503, in-flight ones finish within the grace period or are cancelled, exit 0.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/model_options.h"
#include "server/server_context.h"

namespace lorax {

struct ServeOptions {
  ModelOptions model;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string adapter_root;
  std::string served_model_name;   // default: the checkpoint directory's name
  std::string chat_template_file;  // replaces the checkpoint's chat template when set
  std::vector<std::string> preloaded_adapter_ids;  // loaded at start, never evicted
  std::string adapter_id;                          // the adapter of requests that name none
  int64_t max_concurrent_requests = 128;
  double shutdown_grace_s = 30;
  ServerLimits limits;
};

int run_serve(const ServeOptions& options);

}  // namespace lorax
