// The LoRAX REST API (TGI's shapes plus adapters): POST / (/generate or /generate_stream, by the
// body's `stream`; a plain answer is a one-element list), /generate, /generate_stream, /tokenize,
// /info, /health. Handlers throw on error; HttpServer's route wrapper writes the error body.
// Streams are the exception, as in LoRAX: once the body is JSON, anything that goes wrong is
// answered 200 with one SSE error event {"error", "error_type"}.
#pragma once

#include <memory>

#include "server/json_body.h"

#include "server/request_log.h"
#include "server/server_state.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace lorax {

class LoraxApi {
 public:
  explicit LoraxApi(ServerState& state) : state_(state) {}

  void generate(const httplib::Request& request, httplib::Response& response, RequestLog& log);
  void generate_stream(const httplib::Request& request, httplib::Response& response,
                       std::shared_ptr<RequestLog> log);
  void root(const httplib::Request& request, httplib::Response& response,
            std::shared_ptr<RequestLog> log);
  void tokenize(const httplib::Request& request, httplib::Response& response);
  void info(httplib::Response& response);
  void health(httplib::Response& response);

 private:
  void answer(const Json& body, const httplib::Request& request, httplib::Response& response,
              RequestLog& log, bool as_list);
  void stream(const Json& body, httplib::Response& response, std::shared_ptr<RequestLog> log);

  ServerState& state_;
};

}  // namespace lorax
