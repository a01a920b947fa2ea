// A fixed pool of worker threads for data-parallel loops.
//
// `parallel_for(n, fn)` runs fn(i) for i in [0, n) across the workers and the calling thread and
// returns when all are done. Workers spin briefly before sleeping, because a decode step issues
// hundreds of short loops back to back and waking a sleeping thread costs more than most of them.
// One loop runs at a time; the pool is owned by whoever runs the loops (the CPU backend).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lorax {

class ThreadPool {
 public:
  // threads <= 0 means one per hardware thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }
  void parallel_for(int64_t n, const std::function<void(int64_t)>& fn);

 private:
  void worker_loop();
  void run_tasks(const std::function<void(int64_t)>& job, int64_t size);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t job_size_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> active_{0};  // workers inside run_tasks
  bool stopping_ = false;
};

}  // namespace lorax
