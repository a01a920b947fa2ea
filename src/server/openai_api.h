// The OpenAI API: /v1/completions, /v1/chat/completions (both optionally streamed) and
// /v1/models. `model` names the base model (served_model_name) or a registered adapter.
#pragma once

#include <memory>

#include "server/request_log.h"
#include "server/server_state.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace lorax {

class OpenAiApi {
 public:
  explicit OpenAiApi(ServerState& state) : state_(state) {}

  void completions(const httplib::Request& request, httplib::Response& response,
                   std::shared_ptr<RequestLog> log);
  void chat_completions(const httplib::Request& request, httplib::Response& response,
                        std::shared_ptr<RequestLog> log);
  void models(httplib::Response& response);

 private:
  ServerState& state_;
};

}  // namespace lorax
