// One client connection of the event-driven HTTP layer (Boost.Beast's parser over Asio sockets).
//
// Everything a connection does runs on its own strand, on whichever of the server's few I/O
// threads is free; nothing in it ever waits. It keeps one read in flight at all times, so
// pipelined requests are parsed as they come (and answered in order, one at a time) and a client
// that goes away is seen at once, even while its request is generating: the response is dropped
// and with it the engine run, which cancels the sequence and frees its KV blocks.
//
// Streams and non-streaming generations (http_message.h) are advanced when the engine notifies
// that events arrived: the notification posts to the strand, so the engine thread never waits on
// a client. Bytes a client does not read pile up to ServerLimits::stream_buffer_bytes, or stay
// unwritten for write_timeout_s, before the client is dropped.
//
// Deadlines: a new connection or a request that has begun must arrive whole within
// request_read_timeout_s; an idle connection between requests is closed after
// keep_alive_timeout_s. HTTP/1.0 gets no chunked encoding: a stream ends by closing.
//
//   start_connection(std::move(socket), routes, limits, registry, false);  // owns itself
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/http_message.h"
#include "server/server_context.h"

namespace lorax {

// What a connection asks of its server.
class HttpRoutes {
 public:
  virtual ~HttpRoutes() = default;
  // Answers a parsed request: at once, as a stream, or pending (http_message.h). Never throws.
  virtual void handle(const HttpRequest& request, HttpResponse& response) = 0;
  // The error answer, in the API's shape for `path`, to a request the HTTP layer refuses: 400
  // (malformed), 413 (body too large), 431 (headers too large), 503 (too many connections).
  virtual void refuse(int status, const std::string& path, HttpResponse& response) = 0;
  // Draining: every answer closes its connection.
  virtual bool draining() const = 0;
};

// What the server may do to an open connection.
class HttpConnection {
 public:
  virtual ~HttpConnection() = default;
  // From any thread: closes once the response in progress (if any) is written.
  virtual void close_when_idle() = 0;
  // From any thread: closes now, dropping any response in progress.
  virtual void close() = 0;
  // Only once no I/O thread runs: drops the response in progress (and its engine runs).
  virtual void release() = 0;
};

// The server's open connections, so that stopping can close them; also counts those admitted.
class ConnectionRegistry {
 public:
  void add(HttpConnection* connection, std::weak_ptr<HttpConnection> handle, bool admitted);
  void remove(HttpConnection* connection, bool admitted);
  size_t admitted() const { return admitted_.load(); }
  size_t size() const;
  // Calls `f` on every connection still alive.
  void for_each(const std::function<void(HttpConnection&)>& f) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<HttpConnection*, std::weak_ptr<HttpConnection>> open_;
  std::atomic<size_t> admitted_{0};
};

// Serves `socket` (whose executor must be a strand of its own) until the client or a deadline
// ends it. With `over_capacity`, answers 503 with Retry-After and closes instead. `routes`,
// `limits` and `registry` outlive every connection (the server joins its I/O threads and
// release()s what is left first).
void start_connection(boost::asio::ip::tcp::socket socket, HttpRoutes& routes,
                      const ServerLimits& limits, ConnectionRegistry& registry, bool over_capacity);

}  // namespace lorax
