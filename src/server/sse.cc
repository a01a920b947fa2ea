#include "server/sse.h"

#include <httplib.h>

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

void stream_events(httplib::Response& response, std::shared_ptr<EventSource> source,
                   const std::atomic<bool>& stopping) {
  response.set_header("Cache-Control", "no-cache");
  // Exactly "text/event-stream": httplib never compresses that type (compression would hold
  // events back until the stream ends).
  response.set_chunked_content_provider(
      "text/event-stream", [source, &stopping](size_t, httplib::DataSink& sink) {
        const EventSource::Emit emit = [&sink](const std::string& event) {
          return sink.write(event.data(), event.size());
        };
        const auto abort = [&stopping] { return stopping.load(); };
        EventSource::Progress progress;
        try {
          progress = source->next(emit, abort);
        } catch (...) {
          const ApiError error = classify_exception(std::current_exception());
          if (error.kind() == ErrorKind::Internal) log_error("stream failed: ", error.what());
          source->on_error(error, emit);
          progress = EventSource::Progress::Done;
        }
        if (progress == EventSource::Progress::Aborted) return false;  // drop the connection
        if (progress == EventSource::Progress::Done) sink.done();
        return true;
      });
}

}  // namespace lorax
