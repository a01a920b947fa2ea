#include "server/sse.h"

#include "core/log.h"

namespace lorax {

std::string sse_event(const Json& data) {
  return sse_data(dump_json(data));
}

std::string sse_data(std::string_view payload) {
  std::string event = "data: ";
  event.append(payload);
  event += "\n\n";
  return event;
}

EventSource::Progress next_events(EventSource& source, const EventSource::Emit& emit) {
  try {
    return source.next(emit);
  } catch (...) {
    const ApiError error = classify_exception(std::current_exception());
    if (error.kind() == ErrorKind::Internal) log_error("stream failed: ", error.what());
    source.on_error(error, emit);
    return EventSource::Progress::Done;
  }
}

void stream_events(HttpResponse& response, std::shared_ptr<EventSource> source) {
  response.set_header("Cache-Control", "no-cache");
  response.set_header("Content-Type", "text/event-stream");
  response.stream = std::move(source);
}

}  // namespace lorax
