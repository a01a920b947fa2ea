#include "server/run_group.h"

#include <algorithm>
#include <numeric>

#include "server/prepared_generation.h"

namespace lorax {

namespace {
// How long one wait on a single run lasts when several are waited on: the others' events wait at
// most this long. A lone run waits the run's own poll interval (its events wake it at once).
constexpr std::chrono::milliseconds kGroupWait(2);
constexpr std::chrono::milliseconds kSingleWait(50);
}  // namespace

RunGroup::RunGroup(EngineService& service, const Tokenizer* tokenizer,
                   const PreparedGeneration& prepared, int count, Metrics& metrics,
                   bool seed_given) {
  for (int i = 0; i < count; ++i) {
    PreparedGeneration one = prepared;
    if (i > 0 && prepared.seed)
      one = with_seed(prepared, seed_given ? *prepared.seed + uint64_t(i) : random_seed());
    runs_.push_back(std::make_unique<GenerationRun>(service, tokenizer, std::move(one), metrics));
  }
}

std::optional<RunGroup::Event> RunGroup::poll(size_t i, std::chrono::milliseconds timeout) {
  auto step = runs_[i]->poll(timeout);
  if (!step) return std::nullopt;
  cursor_ = (i + 1) % runs_.size();
  return Event{i, std::move(*step)};
}

std::optional<RunGroup::Event> RunGroup::next(const std::function<bool()>& abort) {
  const size_t n = runs_.size();
  const std::chrono::milliseconds wait = n == 1 ? kSingleWait : kGroupWait;
  for (;;) {
    if (abort()) {
      for (auto& run : runs_)
        if (!run->finished()) run->cancel();
      return std::nullopt;
    }
    std::optional<size_t> first_unfinished;
    for (size_t k = 0; k < n; ++k) {  // a run with an event ready goes first
      const size_t i = (cursor_ + k) % n;
      if (runs_[i]->finished()) continue;
      if (!first_unfinished) first_unfinished = i;
      if (auto event = poll(i, std::chrono::milliseconds(0))) return event;
    }
    if (!first_unfinished) return std::nullopt;  // misuse: nothing left to wait for
    if (auto event = poll(*first_unfinished, wait)) return event;
    cursor_ = (*first_unfinished + 1) % n;
  }
}

bool RunGroup::run_to_end(const std::function<bool()>& abort) {
  while (!finished())
    if (!next(abort)) return false;
  return true;
}

bool RunGroup::finished() const {
  return std::all_of(runs_.begin(), runs_.end(), [](const auto& run) { return run->finished(); });
}

bool RunGroup::any_cancelled() const {
  return std::any_of(runs_.begin(), runs_.end(),
                     [](const auto& run) { return run->end() == GenerationEnd::Cancelled; });
}

std::vector<size_t> RunGroup::ranked() const {
  std::vector<size_t> order(runs_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    return runs_[a]->mean_logprob() > runs_[b]->mean_logprob();
  });
  return order;
}

}  // namespace lorax
