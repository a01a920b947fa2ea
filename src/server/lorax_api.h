// The LoRAX REST API (TGI's shapes plus adapters): POST / (/generate or /generate_stream, by the
// body's `stream`; a plain answer is a one-element list), /generate, /generate_stream, /tokenize,
// /info, /health. Handlers throw on error; HttpServer's route wrapper writes the error body.
// Streams are the exception, as in LoRAX: once the body is JSON, anything that goes wrong is
// answered 200 with one SSE error event {"error", "error_type"}.
#pragma once

#include <memory>

#include "server/json_body.h"

#include "server/http_message.h"
#include "server/request_log.h"
#include "server/server_state.h"

namespace lorax {

class LoraxApi {
 public:
  explicit LoraxApi(ServerState& state) : state_(state) {}

  // Non-streaming answers are pending (HttpResponse::pending) until generation ends.
  void generate(const HttpRequest& request, HttpResponse& response,
                std::shared_ptr<RequestLog> log);
  void generate_stream(const HttpRequest& request, HttpResponse& response,
                       std::shared_ptr<RequestLog> log);
  void root(const HttpRequest& request, HttpResponse& response, std::shared_ptr<RequestLog> log);
  void tokenize(const HttpRequest& request, HttpResponse& response);
  void info(HttpResponse& response);
  void health(HttpResponse& response);

 private:
  void answer(const Json& body, HttpResponse& response, std::shared_ptr<RequestLog> log,
              bool as_list);
  void stream(const Json& body, HttpResponse& response, std::shared_ptr<RequestLog> log);

  ServerState& state_;
};

}  // namespace lorax
