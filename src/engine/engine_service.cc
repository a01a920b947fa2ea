#include "engine/engine_service.h"

// GCC 12 at -O3 reports copies of std::optional<std::vector<...>> members as "maybe
// uninitialized" (a known false positive of its inliner); the copies here are plain value copies.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstdlib>

#include "core/log.h"

namespace lorax {

RequestHandle::~RequestHandle() {
  if (!finished_.load()) service_.cancel(id_);
}

void RequestHandle::push(const StepOutput& event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (event.finish != FinishReason::None) finished_.store(true);
    events_.push_back(event);
  }
  ready_.notify_one();
  std::lock_guard<std::mutex> lock(notify_mutex_);
  if (notify_) notify_();
}

void RequestHandle::set_notify(std::function<void()> notify) {
  std::lock_guard<std::mutex> lock(notify_mutex_);
  notify_ = std::move(notify);
  bool waiting = false;
  {
    std::lock_guard<std::mutex> events_lock(mutex_);
    waiting = !events_.empty();
  }
  if (notify_ && waiting) notify_();
}

std::optional<StepOutput> RequestHandle::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  StepOutput event = std::move(events_.front());
  events_.pop_front();
  return event;
}

void RequestHandle::cancel() {
  if (!finished_.load()) service_.cancel(id_);
}

EngineService::EngineService(CausalLM& model, const ServiceOptions& options)
    : model_(model), options_(options), engine_(model, options.engine) {
  thread_ = std::thread([this] { run(); });
}

EngineService::~EngineService() {
  shutdown(std::chrono::milliseconds(0));
}

std::shared_ptr<RequestHandle> EngineService::submit(GenerationRequest request) {
  engine_.validate(request);  // immutable state only: safe from any thread
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_ || draining_) throw ShuttingDownError("the server is shutting down");
  if (in_flight_ >= options_.max_concurrent_requests)
    throw OverloadedError("too many concurrent requests (limit " +
                          std::to_string(options_.max_concurrent_requests) + ")");
  const uint64_t id = next_id_++;
  auto handle = std::make_shared<RequestHandle>(*this, id);
  inbox_.emplace_back(id, Pending{std::move(request), handle});
  ++in_flight_;
  wake_.notify_one();
  return handle;
}

void EngineService::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  cancels_.push_back(id);
  wake_.notify_one();
}

ServiceStats EngineService::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {snapshot_, in_flight_};
}

void EngineService::set_step_observer(StepObserver observer) {
  std::lock_guard<std::mutex> lock(observer_mutex_);
  observer_ = std::move(observer);
}

void EngineService::report_step(const StepReport& report) {
  std::lock_guard<std::mutex> lock(observer_mutex_);
  if (observer_) observer_(report);
}

void EngineService::shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!thread_.joinable()) return;
    draining_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + grace;
  }
  wake_.notify_one();
  thread_.join();
}

void EngineService::take_inbox(std::unique_lock<std::mutex>& lock) {
  auto inbox = std::move(inbox_);
  auto cancels = std::move(cancels_);
  inbox_.clear();
  cancels_.clear();
  lock.unlock();
  for (auto& [id, pending] : inbox) {
    auto handle = pending.handle.lock();
    if (!handle) {  // the client left before its request reached the engine
      std::lock_guard<std::mutex> relock(mutex_);
      --in_flight_;
      continue;
    }
    try {
      const uint64_t engine_id = engine_.add(std::move(pending.request));
      by_engine_id_[engine_id] = handle;
      engine_id_of_[id] = engine_id;
    } catch (const Error& e) {  // validated already; should not happen
      log_error("request refused by the engine: ", e.what());
      StepOutput failed;
      failed.finish = FinishReason::Cancelled;
      handle->push(failed);
      std::lock_guard<std::mutex> relock(mutex_);
      --in_flight_;
    }
  }
  for (uint64_t id : cancels) {
    auto it = engine_id_of_.find(id);
    if (it == engine_id_of_.end()) continue;  // finished already, or never started
    engine_.cancel(it->second);
    finish(it->second, FinishReason::Cancelled);
  }
  lock.lock();
}

void EngineService::finish(uint64_t engine_id, FinishReason reason) {
  auto it = by_engine_id_.find(engine_id);
  if (it == by_engine_id_.end()) return;
  const std::shared_ptr<RequestHandle> handle = it->second.lock();
  for (auto e = engine_id_of_.begin(); e != engine_id_of_.end(); ++e)
    if (e->second == engine_id) {
      engine_id_of_.erase(e);
      break;
    }
  by_engine_id_.erase(it);
  {
    // Before the last event goes out: a client that has its final event sees itself gone
    // from in_flight.
    std::lock_guard<std::mutex> lock(mutex_);
    --in_flight_;
  }
  if (reason == FinishReason::Cancelled && handle) {
    StepOutput last;
    last.request_id = handle->id();
    last.finish = FinishReason::Cancelled;
    handle->push(last);
  }
}

void EngineService::deliver(const std::vector<StepOutput>& outputs) {
  for (const StepOutput& o : outputs) {
    auto it = by_engine_id_.find(o.request_id);
    if (it == by_engine_id_.end()) continue;
    auto handle = it->second.lock();
    if (!handle && o.finish == FinishReason::None) {
      engine_.cancel(o.request_id);  // nobody is listening any more
      finish(o.request_id, FinishReason::Cancelled);
      continue;
    }
    if (o.finish != FinishReason::None) finish(o.request_id, o.finish);  // bookkeeping first
    if (handle) {
      StepOutput event = o;
      event.request_id = handle->id();
      handle->push(event);
    }
  }
}

void EngineService::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] {
      return !inbox_.empty() || !cancels_.empty() || draining_ || engine_.has_work();
    });
    take_inbox(lock);
    snapshot_ = engine_.stats();  // cancellations free blocks without a step
    if (draining_ && (!engine_.has_work() || std::chrono::steady_clock::now() >= drain_deadline_)) {
      lock.unlock();
      for (auto& [engine_id, handle] : std::map(by_engine_id_)) {
        engine_.cancel(engine_id);
        finish(engine_id, FinishReason::Cancelled);
      }
      lock.lock();
      stopping_ = true;
      return;
    }
    if (!engine_.has_work()) continue;
    lock.unlock();
    std::vector<StepOutput> outputs;
    StepReport report;
    const auto started = std::chrono::steady_clock::now();
    try {
      outputs = engine_.step();
    } catch (const DeviceLostError& e) {
      // The device cannot run another step: stop the process so a supervisor restarts it,
      // rather than answer every later request with an error.
      log_error("the device is unusable, stopping the server: ", e.what());
      std::_Exit(EXIT_FAILURE);
    } catch (const std::exception& e) {
      // A failing step must not take the server down: fail what was running, keep serving.
      log_error("engine step failed: ", e.what(), "; cancelling the running requests");
      report.failed = true;
      for (auto& [engine_id, handle] : std::map(by_engine_id_)) {
        engine_.cancel(engine_id);
        finish(engine_id, FinishReason::Cancelled);
      }
    }
    {
      // Published before the events: a client holding its last token sees its blocks freed.
      std::lock_guard<std::mutex> relock(mutex_);
      snapshot_ = engine_.stats();
    }
    report.step = engine_.last_step();
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (report.step.ran_forward || report.failed) report_step(report);
    deliver(outputs);
    lock.lock();
  }
}

}  // namespace lorax
