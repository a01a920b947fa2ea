// The LoRAX REST API (TGI's shapes plus adapters): /generate, /generate_stream, /tokenize,
// /info, /health. Handlers throw on error; HttpServer's route wrapper writes the error body.
#pragma once

#include <memory>

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
  void tokenize(const httplib::Request& request, httplib::Response& response);
  void info(httplib::Response& response);
  void health(httplib::Response& response);

 private:
  ServerState& state_;
};

}  // namespace lorax
