// Server-sent events: each event is "data: <payload>\n\n". A streamed response is fed by an
// EventSource that never waits: the connection (http_connection.h) asks it for what is ready
// whenever the engine notifies that events arrived, and writes them as they come.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/api_error.h"
#include "server/http_message.h"
#include "server/json_body.h"

namespace lorax {

std::string sse_event(const Json& data);
std::string sse_data(std::string_view payload);  // payload as is (already serialized)
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

class EventSource {
 public:
  // More: call next() again now. Waiting: nothing ready; call again once notified. Done: the
  // stream is complete. Aborted: end the response without completing it.
  enum class Progress { More, Waiting, Done, Aborted };
  using Emit = std::function<bool(const std::string& event)>;  // false: the client is gone

  virtual ~EventSource() = default;
  // Emits what is ready without waiting. Exceptions become an error event (next_events).
  virtual Progress next(const Emit& emit) = 0;
  // The last event(s) after an error was reported: OpenAI streams still end with [DONE].
  virtual void on_error(const ApiError& error, const Emit& emit) = 0;
  // `notify` is called, from any thread, when next() may have more to emit; it must not block.
  // Sources without engine runs have everything ready at once and need none.
  virtual void set_notify(std::function<void()>) {}
};

// One next() of `source`, with an exception turned into the source's error event(s) and Done.
EventSource::Progress next_events(EventSource& source, const EventSource::Emit& emit);

// Makes `response` a text/event-stream fed by `source`. The source lives as long as the
// response: when the client disconnects, the response is dropped and with it the source and its
// engine handle (which cancels the request and frees its KV blocks).
void stream_events(HttpResponse& response, std::shared_ptr<EventSource> source);

}  // namespace lorax
