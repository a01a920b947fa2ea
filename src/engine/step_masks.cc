#include "engine/step_masks.h"

#include <algorithm>
#include <exception>

namespace lorax {

void fill_allowed(structured::ConstraintState& state, bool ignore_eos,
                  const std::vector<int32_t>& eos_ids, std::span<uint32_t> bits) {
  std::fill(bits.begin(), bits.end(), 0u);
  if (!state.is_finished()) {
    const size_t words = std::min(bits.size(), state.mask_words());
    if (words == state.mask_words()) {
      state.fill_mask(bits.data());
    } else {  // a vocabulary of logits narrower than the tokenizer's: its tail cannot be chosen
      std::vector<uint32_t> all(state.mask_words());
      state.fill_mask(all.data());
      std::copy_n(all.begin(), words, bits.begin());
    }
  }
  bool others = false;
  for (int32_t id : eos_ids)  // the constraint may list EOS ids as its stop tokens: not "others"
    if (id >= 0 && size_t(id) / 32 < bits.size()) bits[size_t(id) / 32] &= ~(1u << (id % 32));
  for (uint32_t w : bits) others = others || w != 0;
  const bool eos = others ? state.is_accepting() && !ignore_eos : true;
  if (!eos) return;
  for (int32_t id : eos_ids)
    if (id >= 0 && size_t(id) / 32 < bits.size()) bits[size_t(id) / 32] |= 1u << (id % 32);
}

BackgroundJob::~BackgroundJob() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundJob::start(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = std::move(job);
    pending_ = true;
  }
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  changed_.notify_all();
}

void BackgroundJob::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !pending_; });
}

void BackgroundJob::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || (pending_ && job_); });
    if (stopping_) return;
    std::function<void()> job = std::move(job_);
    job_ = nullptr;
    lock.unlock();
    job();
    lock.lock();
    pending_ = false;
    changed_.notify_all();
  }
}

void StepMasks::begin(std::vector<SampleRow>& rows, std::vector<Row> constrained, int64_t vocab,
                      const std::vector<int32_t>& eos_ids) {
  worker_.wait();
  rows_ = std::move(constrained);
  if (rows_.empty()) return;
  const size_t words = size_t((vocab + 31) / 32);
  words_.resize(rows_.size() * words);  // grows to the largest step, then stays
  for (size_t i = 0; i < rows_.size(); ++i)
    rows[rows_[i].row].allowed = std::span<const uint32_t>(words_.data() + i * words, words);
  worker_.start([this, words, &eos_ids] {
    for (size_t i = 0; i < rows_.size(); ++i) {
      const std::span<uint32_t> bits(words_.data() + i * words, words);
      try {
        fill_allowed(*rows_[i].state, rows_[i].ignore_eos, eos_ids, bits);
      } catch (const std::exception&) {
        // The constraint gave up (a determinization limit): the sequence ends rather than the
        // step, and the others go on.
        std::fill(bits.begin(), bits.end(), 0u);
        for (int32_t id : eos_ids)
          if (id >= 0 && size_t(id) / 32 < bits.size()) bits[size_t(id) / 32] |= 1u << (id % 32);
      }
    }
  });
}

}  // namespace lorax
