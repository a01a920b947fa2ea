#include "core/thread_pool.h"

#include <immintrin.h>

namespace lorax {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::run_tasks(const std::function<void(int64_t)>& job, int64_t size) {
  for (;;) {
    const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= size) return;
    job(i);
    done_.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_size_ = n;
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_tasks(fn, n);
  while (done_.load(std::memory_order_acquire) < n) _mm_pause();
  {
    // No worker joins after this; those that joined late find no task left and leave.
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = nullptr;
  }
  while (active_.load(std::memory_order_acquire) > 0) _mm_pause();
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    // Spin a little: the next loop of a forward pass usually starts within microseconds.
    for (int spin = 0; spin < 20000 && generation_.load(std::memory_order_acquire) == seen; ++spin)
      _mm_pause();
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return generation_.load() != seen; });
    seen = generation_.load();
    if (stopping_) return;
    if (job_ == nullptr) continue;
    const auto* job = job_;
    const int64_t size = job_size_;
    active_.fetch_add(1, std::memory_order_acq_rel);
    lock.unlock();
    run_tasks(*job, size);
    active_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace lorax
