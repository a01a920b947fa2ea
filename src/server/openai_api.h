// The OpenAI API: /v1/completions, /v1/chat/completions (both optionally streamed) and
// /v1/models; vLLM's /v1/load_lora_adapter and /v1/unload_lora_adapter. `model` names the base
// model (served_model_name), a registered adapter, one loaded at run time, or with
// adapter_source "local" a directory under the adapter root.
#pragma once

#include <memory>

#include "server/http_message.h"
#include "server/request_log.h"
#include "server/server_state.h"

namespace lorax {

class OpenAiApi {
 public:
  explicit OpenAiApi(ServerState& state) : state_(state) {}

  void completions(const HttpRequest& request, HttpResponse& response,
                   std::shared_ptr<RequestLog> log);
  void chat_completions(const HttpRequest& request, HttpResponse& response,
                        std::shared_ptr<RequestLog> log);
  void models(HttpResponse& response);
  // vLLM's run-time adapter routes: {"lora_name", "lora_path"} and {"lora_name"}.
  void load_adapter(const HttpRequest& request, HttpResponse& response);
  void unload_adapter(const HttpRequest& request, HttpResponse& response);

 private:
  ServerState& state_;
};

}  // namespace lorax
