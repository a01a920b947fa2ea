// Server-sent events: each event is "data: <payload>\n\n". A response streams events from an
// EventSource, pulled one engine step at a time by httplib's chunked content provider on the
// request's HTTP thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/api_error.h"
#include "server/json_body.h"

namespace httplib {
struct Response;
}

namespace lorax {

std::string sse_event(const Json& data);
std::string sse_data(std::string_view payload);  // payload as is (already serialized)
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

class EventSource {
 public:
  enum class Progress { More, Done, Aborted };
  using Emit = std::function<bool(const std::string& event)>;  // false: the client is gone

  virtual ~EventSource() = default;
  // Emits the next events. `abort()` turns true when the server stops. Exceptions become an
  // error event (stream_events).
  virtual Progress next(const Emit& emit, const std::function<bool()>& abort) = 0;
  // The last event(s) after an error was reported: OpenAI streams still end with [DONE].
  virtual void on_error(const ApiError& error, const Emit& emit) = 0;
};

// Makes `response` a text/event-stream fed by `source`. The source lives as long as the
// response: when the client disconnects, writing fails, the response is dropped and with it the
// source and its engine handle (which cancels the request and frees its KV blocks).
void stream_events(httplib::Response& response, std::shared_ptr<EventSource> source,
                   const std::atomic<bool>& stopping);

}  // namespace lorax
