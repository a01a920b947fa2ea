// The engine on its own thread, for servers: HTTP threads submit requests and read each
// request's events from its handle; only the engine thread touches the model and the KV cache.
//
// Contract:
// - submit() validates in the caller's thread (a bad request throws lorax::Error before anything
//   is queued), refuses with OverloadedError beyond max_concurrent_requests and with
//   ShuttingDownError after shutdown() began, and otherwise returns a handle at once.
// - Every event of a request arrives on its handle in order; the last has finish != None.
// - cancel(), or dropping the handle before the end (a client that went away), frees the
//   request's KV blocks at the engine's next loop, before its next step.
// - shutdown(grace) stops admitting, lets in-flight requests finish for up to `grace`, cancels
//   what is left, and joins the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/error.h"
#include "engine/engine.h"

namespace lorax {

class OverloadedError : public Error {
 public:
  using Error::Error;
};
class ShuttingDownError : public Error {
 public:
  using Error::Error;
};

class EngineService;

// One request's stream of events. Thread-safe: the engine thread pushes, one reader pops.
class RequestHandle {
 public:
  RequestHandle(EngineService& service, uint64_t id) : service_(service), id_(id) {}
  ~RequestHandle();  // cancels the request if it has not finished
  RequestHandle(const RequestHandle&) = delete;
  RequestHandle& operator=(const RequestHandle&) = delete;

  uint64_t id() const { return id_; }
  // The next event, waiting up to `timeout`; nullopt on timeout.
  std::optional<StepOutput> next(std::chrono::milliseconds timeout);
  bool finished() const { return finished_.load(); }
  void cancel();
  // For readers that never wait in next() (an event loop): `notify` is called after each event
  // arrives, on the engine thread (at once, here, when events are already waiting), and must not
  // block. Empty: none. Once this returns, the previous one is not running and is not called
  // again, so what it refers to may go.
  void set_notify(std::function<void()> notify);

 private:
  friend class EngineService;
  void push(const StepOutput& event);

  EngineService& service_;
  const uint64_t id_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<StepOutput> events_;
  std::atomic<bool> finished_{false};  // the final event was pushed
  std::mutex notify_mutex_;            // held while notify_ runs or is replaced
  std::function<void()> notify_;
};

struct ServiceOptions {
  EngineOptions engine;
  int64_t max_concurrent_requests = 128;
};

// One engine step as the service ran it, for step metrics.
struct StepReport {
  StepInfo step;         // what the engine did (admissions, prefill or decode)
  double seconds = 0.0;  // the step's wall time
  bool failed = false;   // it threw: its requests were cancelled
};
// Called on the engine thread after every step that ran the model (or failed), before the step's
// events are delivered.
using StepObserver = std::function<void(const StepReport&)>;

struct ServiceStats {
  EngineStats engine;
  int64_t in_flight = 0;  // submitted and not finished
};

class EngineService {
 public:
  EngineService(CausalLM& model, const ServiceOptions& options);
  ~EngineService();
  EngineService(const EngineService&) = delete;
  EngineService& operator=(const EngineService&) = delete;

  std::shared_ptr<RequestHandle> submit(GenerationRequest request);
  void cancel(uint64_t id);
  ServiceStats stats() const;
  // Replaces the step observer (an empty one: none). Once this returns, the old one is not
  // running and will not be called again, so its owner may go.
  void set_step_observer(StepObserver observer);
  void shutdown(std::chrono::milliseconds grace);
  const CausalLM& model() const { return model_; }
  const ServiceOptions& options() const { return options_; }

 private:
  struct Pending {
    GenerationRequest request;
    std::weak_ptr<RequestHandle> handle;
  };
  void run();
  void take_inbox(std::unique_lock<std::mutex>& lock);
  void deliver(const std::vector<StepOutput>& outputs);
  void finish(uint64_t engine_id, FinishReason reason);
  void report_step(const StepReport& report);

  CausalLM& model_;
  const ServiceOptions options_;
  Engine engine_;  // engine thread only (stats() reads a snapshot)

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<uint64_t, Pending>> inbox_;  // service id -> request
  std::vector<uint64_t> cancels_;                   // service ids
  bool stopping_ = false;
  bool draining_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  uint64_t next_id_ = 1;
  int64_t in_flight_ = 0;
  EngineStats snapshot_;
  std::mutex observer_mutex_;  // held while the observer runs or is replaced
  StepObserver observer_;

  // engine thread only
  std::map<uint64_t, std::weak_ptr<RequestHandle>> by_engine_id_;
  std::map<uint64_t, uint64_t> engine_id_of_;  // service id -> engine id

  std::thread thread_;
};

}  // namespace lorax
