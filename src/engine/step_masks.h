// Allowed-token masks of a step's constrained rows (structured output).
//
// Each step, every sampling row of a sequence that carries a constraint gets a packed bitmask
// over the vocabulary (SampleRow::allowed, backend/sampling.h) from its ConstraintState. The
// engine lays the masks out and points the rows at them before the forward pass, the masks are
// filled on a worker thread while the backend computes, and the engine waits for them just
// before sampling. Rows without a constraint get no mask and cost nothing.
//
// End of sequence: a constrained row allows the model's EOS ids exactly when its constraint
// accepts (the text so far is complete); with ignore_eos, only when nothing else may follow. A
// state from which nothing may follow and that does not accept (it cannot happen with a
// tokenizer that has every byte, but a vocabulary may lack one) allows EOS too, so that the
// sequence ends instead of sampling from an empty distribution.
//
// Not done: forced runs (a state that allows exactly one token) are sampled like any other step
// rather than fast-forwarded through the model in one chunk.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "backend/sampling.h"
#include "structured/constraint.h"

namespace lorax {

// Fills `bits` (zeroed first) with the tokens `state` allows next, EOS included as above.
void fill_allowed(structured::ConstraintState& state, bool ignore_eos,
                  const std::vector<int32_t>& eos_ids, std::span<uint32_t> bits);

// One background thread that runs one job at a time.
class BackgroundJob {
 public:
  BackgroundJob() = default;
  ~BackgroundJob();
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  // Starts `job` on the thread (started on first use); the previous job must be waited for.
  void start(std::function<void()> job);
  // Returns once the started job, if any, has finished.
  void wait();

 private:
  void loop();

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;
  bool pending_ = false;  // a job is started and not finished
  bool stopping_ = false;
};

class StepMasks {
 public:
  struct Row {
    size_t row = 0;  // index in the step's sampling rows
    structured::ConstraintState* state = nullptr;
    bool ignore_eos = false;
  };

  // Lays out one mask per constrained row over a vocabulary of `vocab` logits, points those
  // rows' `allowed` at them, and starts filling them. The states must not change until wait().
  void begin(std::vector<SampleRow>& rows, std::vector<Row> constrained, int64_t vocab,
             const std::vector<int32_t>& eos_ids);
  // Returns once every mask of the step is filled.
  void wait() { worker_.wait(); }

 private:
  std::vector<uint32_t> words_;  // [constrained rows, words per row]
  std::vector<Row> rows_;
  BackgroundJob worker_;
};

}  // namespace lorax
