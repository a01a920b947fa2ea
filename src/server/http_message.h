// The request and response the route handlers see, apart from the HTTP library that carries them
// (http_connection.h): a handler reads an HttpRequest and fills an HttpResponse.
//
// A response is either complete when the handler returns (status, headers, body), a stream
// (`stream`: text/event-stream fed by an EventSource, see sse.h), or pending (`pending`: a
// non-streaming generation whose body is known only at its end). Streams and pending answers
// never wait: the connection asks them again when they notify it, so no I/O thread waits for the
// engine.
//
//   void handler(const HttpRequest& request, HttpResponse& response) {
//     response.set_header("X-Thing", "1");
//     response.set_content(dump_json(answer), "application/json");
//   }
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lorax {

class EventSource;

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of header `name` (case-insensitive), or "" when absent.
std::string header_value(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method;
  std::string path;  // the target without its query
  std::string body;
  HttpHeaders headers;
  std::string header(std::string_view name) const { return header_value(headers, name); }
};

struct HttpResponse;

// A non-streaming answer that completes later, as the engine's events arrive.
class PendingAnswer {
 public:
  virtual ~PendingAnswer() = default;
  // Takes what has arrived without waiting; true once `response` holds the whole answer (or the
  // error). Never throws.
  virtual bool advance(HttpResponse& response) = 0;
  // `notify` is called, from any thread, when advance() may make progress. It must not block.
  virtual void set_notify(std::function<void()> notify) = 0;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  std::shared_ptr<EventSource> stream;
  std::shared_ptr<PendingAnswer> pending;

  // Replaces any header of that name.
  void set_header(std::string name, std::string value);
  std::string header(std::string_view name) const { return header_value(headers, name); }
  void set_content(std::string content, std::string content_type);
};

}  // namespace lorax
