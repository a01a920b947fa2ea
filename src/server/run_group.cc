#include "server/run_group.h"

#include <algorithm>
#include <iterator>
#include <numeric>

#include "server/prepared_generation.h"

namespace lorax {

namespace {
// Whether the other sequences can read the first one's prompt from the prefix cache.
bool can_share_prompt(const EngineService& service, const GenerationRequest& request) {
  const EngineOptions& engine = service.options().engine;
  const int64_t shareable_tokens = int64_t(request.prompt_ids.size()) - 1;  // the last: computed
  return engine.prefix_caching && !request.prompt_logprobs &&
         shareable_tokens >= engine.kv.block_size;
}
}  // namespace

RunGroup::RunGroup(EngineService& service, const Tokenizer* tokenizer,
                   const PreparedGeneration& prepared, int count, Metrics& metrics, bool seed_given)
    : service_(service), tokenizer_(tokenizer), metrics_(metrics) {
  std::vector<PreparedGeneration> all;
  for (int i = 0; i < count; ++i) {
    all.push_back(prepared);
    if (i > 0 && prepared.seed)
      all.back() = with_seed(prepared, seed_given ? *prepared.seed + uint64_t(i) : random_seed());
  }
  runs_.resize(all.size());
  runs_[0] = std::make_unique<GenerationRun>(service_, tokenizer_, std::move(all[0]), metrics_);
  held_back_.assign(std::make_move_iterator(all.begin() + 1), std::make_move_iterator(all.end()));
  if (!can_share_prompt(service_, prepared.request)) submit_held_back();
}

void RunGroup::submit_held_back() {
  for (size_t i = 0; i < held_back_.size(); ++i) {
    runs_[i + 1] =
        std::make_unique<GenerationRun>(service_, tokenizer_, std::move(held_back_[i]), metrics_);
    if (notify_) runs_[i + 1]->set_notify(notify_);
  }
  held_back_.clear();
}

std::optional<RunGroup::Event> RunGroup::poll(size_t i) {
  auto step = runs_[i]->try_next();
  if (!step) return std::nullopt;
  cursor_ = (i + 1) % runs_.size();
  // The first run's first event: its prompt is in the prefix cache now.
  if (i == 0 && !held_back_.empty()) submit_held_back();
  return Event{i, std::move(*step)};
}

std::optional<RunGroup::Event> RunGroup::try_next() {
  const size_t n = runs_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (cursor_ + k) % n;
    if (!runs_[i] || runs_[i]->finished()) continue;
    if (auto event = poll(i)) return event;
  }
  return std::nullopt;
}

void RunGroup::set_notify(std::function<void()> notify) {
  notify_ = std::move(notify);
  for (auto& run : runs_)
    if (run) run->set_notify(notify_);
}

bool RunGroup::finished() const {
  // Held-back runs are null until submitted; once none is held back, every run exists.
  return held_back_.empty() &&
         std::all_of(runs_.begin(), runs_.end(), [](const auto& run) { return run->finished(); });
}

bool RunGroup::any_cancelled() const {
  return std::any_of(runs_.begin(), runs_.end(), [](const auto& run) {
    return !run || run->end() == GenerationEnd::Cancelled;
  });
}

std::vector<size_t> RunGroup::ranked() const {
  std::vector<size_t> order(runs_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  order.erase(std::remove_if(order.begin(), order.end(), [this](size_t i) { return !runs_[i]; }),
              order.end());
  std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    return runs_[a]->mean_logprob() > runs_[b]->mean_logprob();
  });
  return order;
}

}  // namespace lorax
