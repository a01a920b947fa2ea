#include "server/http_connection.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>

#include "core/log.h"
#include "server/sse.h"

namespace lorax {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadChunk = 16 << 10;
constexpr size_t kHeaderLimit = 64 << 10;
// Requests parsed ahead of the one being answered (pipelining): reading pauses beyond.
constexpr size_t kMaxQueued = 16;
// How long a closing connection keeps reading (and discarding) what the client still sends, so
// that closing does not reset the connection under an answer the client has not read yet.
constexpr std::chrono::seconds kLinger(2);
// Stream steps taken in one turn on the strand before letting other work run.
constexpr int kStepsPerTurn = 64;

std::string str(boost::beast::string_view view) {
  return std::string(view.data(), view.size());
}

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// A request as parsed, or the status it is refused with.
struct Incoming {
  HttpRequest request;
  bool http10 = false;
  bool keep_alive = true;
  int refused = 0;  // non-zero: answer this error and close
};

int refusal_status(const boost::system::error_code& ec) {
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::header_limit) return 431;
  return 400;
}

std::string head_of(const HttpResponse& response, bool http10, bool keep_alive,
                    std::optional<size_t> length) {
  std::string head = http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  head += std::to_string(response.status);
  head += ' ';
  head += str(http::obsolete_reason(http::int_to_status(unsigned(response.status))));
  head += "\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  if (length)
    head += "Content-Length: " + std::to_string(*length) + "\r\n";
  else if (!http10)
    head += "Transfer-Encoding: chunked\r\n";
  if (!keep_alive)
    head += "Connection: close\r\n";
  else if (http10)
    head += "Connection: keep-alive\r\n";
  head += "\r\n";
  return head;
}

class Connection : public HttpConnection, public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpRoutes& routes, const ServerLimits& limits,
             ConnectionRegistry& registry, bool admitted)
      : socket_(std::move(socket)),
        routes_(routes),
        limits_(limits),
        registry_(registry),
        admitted_(admitted),
        read_timer_(socket_.get_executor()),
        write_timer_(socket_.get_executor()) {}

  ~Connection() override { registry_.remove(this, admitted_); }

  tcp::socket::executor_type socket_executor() { return socket_.get_executor(); }

  void begin(bool over_capacity) {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);  // events leave at once, not after Nagle's delay
    if (over_capacity) {
      HttpResponse response;
      routes_.refuse(503, "/", response);
      out_ = head_of(response, false, false, response.body.size()) + response.body;
      close_after_write_ = true;
      response_done_ = true;
      busy_ = true;
      flush();
      return;
    }
    set_read_deadline(Deadline::Request, limits_.request_read_timeout_s);
    read();
  }

  void close_when_idle() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->close_after_write_ = true;
      if (!self->busy_ && self->queued_.empty()) self->close_now();
    });
  }

  void close() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
  }

  void release() override {
    stream_.reset();
    pending_.reset();
    self_ref_.reset();
  }

 private:
  // What the read timer guards: nothing, an idle keep-alive connection, or a request arriving
  // (a lingering close reuses Request).
  enum class Deadline { None, Idle, Request };

  // ---- reading ----

  void read() {
    if (reading_ || closed_) return;
    if (!lingering_ && (queued_.size() >= kMaxQueued || refused_)) return;  // resumes later
    reading_ = true;
    socket_.async_read_some(in_.prepare(kReadChunk),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(boost::system::error_code ec, size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {  // the client closed or reset: whatever it asked for is no longer wanted
      close_now();
      return;
    }
    in_.commit(n);
    if (lingering_) {
      in_.consume(in_.size());
      read();
      return;
    }
    parse();
    update_read_deadline();
    answer_next();
    read();
  }

  void parse() {
    while (in_.size() > 0 && !refused_) {
      if (!parser_) {
        parser_.emplace();
        parser_->body_limit(limits_.max_body_bytes);
        parser_->header_limit(kHeaderLimit);
        parser_->eager(true);
      }
      boost::system::error_code ec;
      const size_t used = parser_->put(in_.data(), ec);
      in_.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) {
        refuse(refusal_status(ec));
        return;
      }
      if (parser_->is_header_done() && !header_checked_ && !check_header()) return;
      if (!parser_->is_done()) {
        if (used == 0) break;
        continue;
      }
      take_request();
    }
  }

  // Strict framing beyond Beast's (which refuses Content-Length with Transfer-Encoding): a
  // request body is chunked, has a length, or is empty. Answers 100 Continue when asked.
  bool check_header() {
    header_checked_ = true;
    const auto& fields = parser_->get();
    const auto te = fields.find(http::field::transfer_encoding);
    if (te != fields.end() && !parser_->chunked()) {
      refuse(400);
      return false;
    }
    const auto expect = fields.find(http::field::expect);
    if (expect != fields.end() && fields.version() == 11 && !busy_ && queued_.empty() &&
        boost::beast::iequals(expect->value(), "100-continue")) {
      out_ += "HTTP/1.1 100 Continue\r\n\r\n";
      flush();
    }
    return true;
  }

  void take_request() {
    auto message = parser_->release();
    parser_.reset();
    header_checked_ = false;
    Incoming incoming;
    HttpRequest& request = incoming.request;
    request.method = str(message.method_string());
    const std::string target = str(message.target());
    request.path = target.substr(0, target.find('?'));
    for (const auto& field : message)
      request.headers.emplace_back(str(field.name_string()), str(field.value()));
    request.body = std::move(message.body());
    incoming.http10 = message.version() < 11;
    incoming.keep_alive = message.keep_alive();
    queued_.push_back(std::move(incoming));
  }

  void refuse(int status) {
    refused_ = true;
    Incoming incoming;
    incoming.refused = status;
    if (parser_ && parser_->is_header_done()) {
      const std::string target = str(parser_->get().target());
      incoming.request.path = target.substr(0, target.find('?'));
      incoming.http10 = parser_->get().version() < 11;
    }
    incoming.keep_alive = false;
    parser_.reset();
    in_.consume(in_.size());
    queued_.push_back(std::move(incoming));
  }

  // ---- deadlines ----

  // Reading has a deadline only while no response is in progress: a new or idle connection, or
  // one whose next request has begun to arrive.
  void update_read_deadline() {
    if (busy_ || !queued_.empty() || closed_ || lingering_) {
      if (deadline_ != Deadline::None) read_timer_.cancel();
      deadline_ = Deadline::None;
      return;
    }
    const bool partial = in_.size() > 0 || parser_.has_value();
    if (partial && deadline_ != Deadline::Request) {
      set_read_deadline(Deadline::Request, limits_.request_read_timeout_s);
    } else if (!partial && deadline_ == Deadline::None) {
      set_read_deadline(Deadline::Idle, limits_.keep_alive_timeout_s);
    }
  }

  void set_read_deadline(Deadline kind, double s) {
    deadline_ = kind;
    read_timer_.expires_after(seconds(s));
    read_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed_) return;  // cancelled: re-armed or no longer needed
      if (self->read_timer_.expiry() > Clock::now()) return;
      if (self->lingering_ || self->deadline_ != Deadline::None) self->close_now();
    });
  }

  // ---- answering ----

  void answer_next() {
    if (busy_ || queued_.empty() || closed_) return;
    Incoming incoming = std::move(queued_.front());
    queued_.pop_front();
    busy_ = true;
    response_done_ = false;
    update_read_deadline();
    http10_ = incoming.http10;
    keep_alive_ = incoming.keep_alive && !close_after_write_;
    response_ = HttpResponse();
    if (incoming.refused) {
      routes_.refuse(incoming.refused, incoming.request.path, response_);
    } else {
      routes_.handle(incoming.request, response_);
    }
    if (routes_.draining()) keep_alive_ = false;
    if (response_.pending || response_.stream)
      self_ref_ = shared_from_this();  // only the engine's notifications refer to it meanwhile
    if (response_.pending) {
      pending_ = std::move(response_.pending);
      pending_->set_notify(notifier());
      return;
    }
    if (response_.stream) {
      stream_ = std::move(response_.stream);
      if (http10_) keep_alive_ = false;  // the end of the stream is the end of the connection
      out_ += head_of(response_, http10_, keep_alive_, std::nullopt);
      stream_->set_notify(notifier());
      step();
      return;
    }
    write_whole();
  }

  // Posts step() to the strand, at most once until it runs: called from the engine thread.
  std::function<void()> notifier() {
    return [weak = weak_from_this(), executor = socket_.get_executor()] {
      const auto self = weak.lock();
      if (!self || self->step_posted_.exchange(true)) return;
      asio::post(executor, [self] {
        self->step_posted_ = false;
        self->step();
      });
    };
  }

  void write_whole() {
    out_ += head_of(response_, http10_, keep_alive_, response_.body.size());
    out_ += response_.body;
    response_.body.clear();
    response_done_ = true;
    flush();
  }

  // Takes what the engine has produced for the response in progress.
  void step() {
    if (closed_) return;
    if (pending_) {
      if (pending_->advance(response_)) {
        pending_.reset();
        write_whole();
      }
      return;
    }
    if (!stream_) return;
    const EventSource::Emit emit = [this](const std::string& event) {
      events_ += event;
      return true;
    };
    bool more = true;  // stopped only by the turn's end: come back after the others
    for (int i = 0; i < kStepsPerTurn && more; ++i) {
      if (backlogged()) {  // resumes when the client has read (on_written)
        more = false;
        break;
      }
      const EventSource::Progress progress = next_events(*stream_, emit);
      if (progress == EventSource::Progress::More) continue;
      if (progress != EventSource::Progress::Waiting) end_stream(progress);
      more = false;
    }
    if (more && !step_posted_.exchange(true))
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->step_posted_ = false;
        self->step();
      });
    take_events();
    flush();
  }

  // The stream's bytes waiting for the client: beyond the limit, no more are taken from the
  // engine (whose events wait in their handle) until the client reads.
  bool backlogged() const {
    return out_.size() + sending_.size() + events_.size() >= limits_.stream_buffer_bytes;
  }

  void take_events() {
    if (events_.empty()) return;
    if (!http10_) {
      char size[24];
      std::snprintf(size, sizeof(size), "%zx\r\n", events_.size());
      out_ += size;
    }
    out_ += events_;
    if (!http10_) out_ += "\r\n";
    events_.clear();
  }

  void end_stream(EventSource::Progress progress) {
    take_events();
    if (progress == EventSource::Progress::Done && !http10_) out_ += "0\r\n\r\n";
    if (progress != EventSource::Progress::Done) keep_alive_ = false;  // cut: the client sees it
    stream_.reset();
    response_done_ = true;
  }

  // ---- writing ----

  void flush() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (response_done_) finish_response();
      return;
    }
    writing_ = true;
    sending_.swap(out_);
    out_.clear();
    write_timer_.expires_after(seconds(limits_.write_timeout_s));
    write_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && self->writing_ && self->write_timer_.expiry() <= Clock::now()) {
        log_warn("dropping a client that reads nothing for ", self->limits_.write_timeout_s, " s");
        self->close_now();
      }
    });
    asio::async_write(socket_, asio::buffer(sending_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->on_written(ec);
                      });
  }

  void on_written(boost::system::error_code ec) {
    writing_ = false;
    write_timer_.cancel();
    sending_.clear();
    if (closed_) return;
    if (ec) {
      close_now();
      return;
    }
    if (stream_)
      step();  // takes what waited while the client was behind, and flushes
    else
      flush();
  }

  void finish_response() {
    response_done_ = false;
    busy_ = false;
    response_ = HttpResponse();
    self_ref_.reset();  // the handler running this holds the connection
    if (!keep_alive_ || close_after_write_ || refused_) {
      linger();
      return;
    }
    update_read_deadline();
    answer_next();
    read();
  }

  // ---- closing ----

  // Stops sending, then reads and discards for a while, so what the client sent last does not
  // make the kernel reset the connection under the answer it has not read yet.
  void linger() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      close_now();
      return;
    }
    read_timer_.cancel();
    set_read_deadline(Deadline::Request, std::chrono::duration<double>(kLinger).count());
    read();
  }

  void close_now() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    read_timer_.cancel();
    write_timer_.cancel();
    stream_.reset();   // cancels the sequence(s) of a stream in progress
    pending_.reset();  // and of a pending answer
    queued_.clear();
    self_ref_.reset();  // the handler running this holds the connection
  }

  tcp::socket socket_;
  HttpRoutes& routes_;
  const ServerLimits& limits_;
  ConnectionRegistry& registry_;
  const bool admitted_;
  asio::steady_timer read_timer_;
  asio::steady_timer write_timer_;
  Deadline deadline_ = Deadline::None;

  boost::beast::flat_buffer in_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool header_checked_ = false;
  std::deque<Incoming> queued_;
  bool reading_ = false;
  bool refused_ = false;  // a malformed request: nothing after it is read

  bool busy_ = false;  // a response is in progress
  bool http10_ = false;
  bool keep_alive_ = true;
  HttpResponse response_;
  std::shared_ptr<EventSource> stream_;
  std::shared_ptr<PendingAnswer> pending_;
  std::atomic<bool> step_posted_{false};
  std::shared_ptr<Connection> self_ref_;  // while the engine works for the response
  std::string events_;                    // stream events not yet framed
  bool response_done_ = false;

  std::string out_;      // to send after what is being sent
  std::string sending_;  // being sent
  bool writing_ = false;
  bool close_after_write_ = false;
  bool lingering_ = false;
  bool closed_ = false;
};

}  // namespace

void ConnectionRegistry::add(HttpConnection* connection, std::weak_ptr<HttpConnection> handle,
                             bool admitted) {
  std::lock_guard<std::mutex> lock(mutex_);
  open_.emplace(connection, std::move(handle));
  if (admitted) admitted_.fetch_add(1);
}

void ConnectionRegistry::remove(HttpConnection* connection, bool admitted) {
  std::lock_guard<std::mutex> lock(mutex_);
  open_.erase(connection);
  if (admitted) admitted_.fetch_sub(1);
}

size_t ConnectionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_.size();
}

void ConnectionRegistry::for_each(const std::function<void(HttpConnection&)>& f) const {
  std::vector<std::shared_ptr<HttpConnection>> alive;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [raw, weak] : open_)
      if (auto connection = weak.lock()) alive.push_back(std::move(connection));
  }
  for (const auto& connection : alive) f(*connection);
}

void start_connection(tcp::socket socket, HttpRoutes& routes, const ServerLimits& limits,
                      ConnectionRegistry& registry, bool over_capacity) {
  auto connection =
      std::make_shared<Connection>(std::move(socket), routes, limits, registry, !over_capacity);
  registry.add(connection.get(), connection, !over_capacity);
  asio::post(connection->socket_executor(),
             [connection, over_capacity] { connection->begin(over_capacity); });
}

}  // namespace lorax
