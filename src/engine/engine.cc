#include "engine/engine.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/error.h"

namespace lorax {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::None:
      return "none";
    case FinishReason::Length:
      return "length";
    case FinishReason::Eos:
      return "eos";
    case FinishReason::Cancelled:
      return "cancelled";
  }
  return "?";
}

Engine::Engine(CausalLM& model, const EngineOptions& options)
    : model_(model),
      options_(options),
      cache_(model, options.kv),
      eos_ids_(model.config().eos_token_ids) {
  LORAX_CHECK(options.max_batch_prefill_tokens > 0 && options.max_running > 0 &&
                  options.max_active_adapters > 0,
              "engine limits must be positive");
  model_.plan(std::max(options.max_batch_prefill_tokens, options.max_running),
              options.max_running);
  const int64_t slots = options.max_active_adapters;
  model_.configure_adapter_slots(slots);
  slot_adapter_.assign(size_t(slots), nullptr);
  slot_used_.assign(size_t(slots), 0);
}

uint64_t Engine::add(GenerationRequest request) {
  validate(request);
  const int64_t len = int64_t(request.prompt_ids.size());
  auto seq = std::make_unique<Sequence>();
  seq->id = next_id_++;
  seq->tokens = request.prompt_ids;
  seq->prompt_len = len;
  seq->request = std::move(request);
  const uint64_t id = seq->id;
  waiting_.push_back(std::move(seq));
  return id;
}

void Engine::validate(const GenerationRequest& request) const {
  const int64_t len = int64_t(request.prompt_ids.size());
  const int64_t vocab = model_.config().vocab_size;
  LORAX_CHECK(len > 0, "prompt is empty");
  for (int32_t id : request.prompt_ids)
    LORAX_CHECK(id >= 0 && id < vocab, "prompt token id ", id, " is outside the vocabulary (0..",
                vocab - 1, ")");
  LORAX_CHECK(request.max_new_tokens >= 0, "max_new_tokens must be >= 0");
  LORAX_CHECK(request.top_logprobs >= 0 && request.top_logprobs <= 20,
              "top_logprobs must be between 0 and 20");
  LORAX_CHECK(len < model_.max_positions(), "prompt has ", len, " tokens; the model's context is ",
              model_.max_positions());
  const int64_t needed = std::min(len + request.max_new_tokens, model_.max_positions());
  const int64_t capacity = cache_.blocks().num_blocks() * cache_.block_size();
  LORAX_CHECK(needed <= capacity, "request needs ", needed,
              " tokens of KV cache but the cache holds ", capacity);
}

void Engine::cancel(uint64_t request_id) {
  auto matches = [&](const SequencePtr& s) { return s->id == request_id; };
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
    if (matches(*it)) {
      cache_.blocks().release((*it)->block_table);
      waiting_.erase(it);
      return;
    }
  for (auto it = running_.begin(); it != running_.end(); ++it)
    if (matches(*it)) {
      cache_.blocks().release((*it)->block_table);
      running_.erase(it);
      return;
    }
}

EngineStats Engine::stats() const {
  EngineStats s = counters_;
  s.waiting = int64_t(waiting_.size());
  s.running = int64_t(running_.size());
  s.kv_blocks_total = cache_.blocks().num_blocks();
  s.kv_blocks_free = cache_.blocks().num_free();
  return s;
}

std::vector<StepOutput> Engine::step() {
  std::vector<SequencePtr> admitted = admit();
  if (!admitted.empty()) return prefill_step(std::move(admitted));
  if (!running_.empty()) return decode_step();
  return {};
}

void Engine::refresh_active_adapters() {
  std::map<const LoraAdapter*, std::chrono::steady_clock::time_point> active;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& seq : running_) {
    const LoraAdapter* a = seq->request.adapter.get();
    if (a == nullptr || active.count(a)) continue;
    auto it = active_since_.find(a);
    active[a] = it == active_since_.end() ? now : it->second;
  }
  active_since_ = std::move(active);
}

bool Engine::may_admit_adapter(const LoraAdapter* adapter, bool someone_lacks_a_slot,
                               std::chrono::steady_clock::time_point now) const {
  if (adapter == nullptr) return true;
  auto it = active_since_.find(adapter);
  if (it == active_since_.end()) return int64_t(active_since_.size()) < options_.max_active_adapters;
  // Active: keeps admitting unless its turn is over and another adapter waits for a slot.
  return !(someone_lacks_a_slot && now - it->second > options_.adapter_cycle_time);
}

int64_t Engine::running_tokens() const {
  int64_t total = 0;
  for (const auto& seq : running_) total += int64_t(seq->tokens.size());
  return total;
}

std::vector<Engine::SequencePtr> Engine::admit() {
  std::vector<SequencePtr> admitted;
  if (waiting_.empty()) return admitted;
  refresh_active_adapters();
  const auto now = std::chrono::steady_clock::now();
  bool someone_lacks_a_slot = false;
  for (const auto& seq : waiting_) {
    const LoraAdapter* a = seq->request.adapter.get();
    if (a != nullptr && !active_since_.count(a) &&
        int64_t(active_since_.size()) >= options_.max_active_adapters)
      someone_lacks_a_slot = true;
  }
  int64_t prefill_tokens = 0;
  int64_t total_tokens = running_tokens();
  bool blocked = false;  // the KV cache or a token budget is full: stop admitting
  // Round-robin over adapters: each pass admits at most one request per adapter, the oldest.
  while (!blocked && !waiting_.empty()) {
    std::set<const LoraAdapter*> served;
    bool progress = false;
    for (size_t i = 0; i < waiting_.size() && !blocked;) {
      Sequence& seq = *waiting_[i];
      const LoraAdapter* adapter = seq.request.adapter.get();
      if (served.count(adapter) || !may_admit_adapter(adapter, someone_lacks_a_slot, now)) {
        served.insert(adapter);  // this adapter's later requests keep their order
        ++i;
        continue;
      }
      served.insert(adapter);
      const int64_t fresh = int64_t(seq.tokens.size()) - seq.num_cached;
      const int64_t need =
          cache_.blocks_for(int64_t(seq.tokens.size())) - int64_t(seq.block_table.size());
      // A request alone in the engine always runs, whatever the budgets say.
      const bool alone = running_.empty() && admitted.empty();
      const bool over_prefill =
          !alone && prefill_tokens + fresh > options_.max_batch_prefill_tokens;
      const bool over_total = !alone && options_.max_batch_total_tokens > 0 &&
                              total_tokens + int64_t(seq.tokens.size()) >
                                  options_.max_batch_total_tokens;
      if (int64_t(running_.size() + admitted.size()) >= options_.max_running || over_prefill ||
          over_total || !cache_.blocks().can_allocate(need)) {
        blocked = true;  // later requests wait their turn rather than overtake this one
        break;
      }
      cache_.blocks().allocate(need, seq.block_table);
      prefill_tokens += fresh;
      total_tokens += int64_t(seq.tokens.size());
      if (adapter != nullptr && !active_since_.count(adapter)) active_since_[adapter] = now;
      admitted.push_back(std::move(waiting_[i]));
      waiting_.erase(waiting_.begin() + int64_t(i));
      progress = true;
    }
    if (!progress) break;
  }
  return admitted;
}

int32_t Engine::slot_of(const Sequence& seq, int64_t position) const {
  const int64_t bs = cache_.block_size();
  return int32_t(seq.block_table[size_t(position / bs)] * bs + position % bs);
}

void Engine::fill_tables(ForwardBatch& batch, const std::vector<Sequence*>& seqs) const {
  size_t max_blocks = 1;
  for (const Sequence* s : seqs) max_blocks = std::max(max_blocks, s->block_table.size());
  batch.max_blocks = int64_t(max_blocks);
  batch.block_tables.assign(seqs.size() * max_blocks, -1);
  for (size_t b = 0; b < seqs.size(); ++b) {
    std::copy(seqs[b]->block_table.begin(), seqs[b]->block_table.end(),
              batch.block_tables.begin() + int64_t(b * max_blocks));
    batch.seqlen.push_back(int32_t(seqs[b]->tokens.size()));
    batch.max_s = std::max<int64_t>(batch.max_s, int64_t(seqs[b]->tokens.size()));
  }
}

void Engine::group_by_adapter(std::vector<Sequence*>& seqs) {
  std::stable_sort(seqs.begin(), seqs.end(), [](const Sequence* a, const Sequence* b) {
    return a->request.adapter.get() < b->request.adapter.get();
  });
}

int32_t Engine::adapter_slot(const std::shared_ptr<const LoraAdapter>& adapter,
                             const std::vector<Sequence*>& step) {
  for (size_t s = 0; s < slot_adapter_.size(); ++s)
    if (slot_adapter_[s] == adapter) {
      slot_used_[s] = step_counter_;
      return int32_t(s);
    }
  // Not loaded: take an empty slot, else the least recently used one no sequence of this step
  // needs. The scheduler admits at most max_active_adapters adapters, one slot each, so one
  // is always free of this step.
  auto in_step = [&](size_t s) {
    return std::any_of(step.begin(), step.end(), [&](const Sequence* q) {
      return q->request.adapter == slot_adapter_[s];
    });
  };
  size_t best = slot_adapter_.size();
  for (size_t s = 0; s < slot_adapter_.size(); ++s) {
    if (slot_adapter_[s] && in_step(s)) continue;
    if (best == slot_adapter_.size() || !slot_adapter_[s] ||
        (slot_adapter_[best] && slot_used_[s] < slot_used_[best]))
      best = s;
    if (!slot_adapter_[best]) break;
  }
  LORAX_CHECK(best < slot_adapter_.size(), "no free adapter slot for ", adapter->name());
  model_.load_adapter(int64_t(best), adapter->weights());
  slot_adapter_[best] = adapter;
  slot_used_[best] = step_counter_;
  return int32_t(best);
}

void Engine::fill_adapters(ForwardBatch& batch, const std::vector<Sequence*>& seqs,
                           const std::vector<int64_t>& tokens_per_seq) {
  ++step_counter_;
  bool any = false;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const auto& adapter = seqs[i]->request.adapter;
    const int32_t slot = adapter ? adapter_slot(adapter, seqs) : -1;
    any = any || slot >= 0;
    batch.adapter_data.token_slot.insert(batch.adapter_data.token_slot.end(),
                                         size_t(tokens_per_seq[i]), slot);
  }
  if (!any) batch.adapter_data.token_slot.clear();  // a base-only step: no LoRA at all
}

void Engine::warm_adapters(const std::vector<std::shared_ptr<const LoraAdapter>>& adapters) {
  LORAX_CHECK(adapters.size() <= slot_adapter_.size(), "warm_adapters: ", adapters.size(),
              " adapters for ", slot_adapter_.size(), " slots");
  for (const auto& adapter : adapters) adapter_slot(adapter, {});
}

SampleRow Engine::next_token_row(const Sequence& seq) {
  SampleRow row;
  row.params = seq.request.sampling;
  row.draw_index = uint64_t(seq.generated());
  row.history = seq.tokens;
  row.prompt_len = size_t(seq.prompt_len);
  row.top_logprobs = seq.request.top_logprobs;
  return row;
}

std::vector<StepOutput> Engine::prefill_step(std::vector<SequencePtr> admitted) {
  ForwardBatch batch;
  batch.cu_seqlen_prefill.push_back(0);
  std::vector<Sequence*> seqs;
  for (auto& owned : admitted) seqs.push_back(owned.get());
  group_by_adapter(seqs);
  std::vector<int64_t> tokens_per_seq;
  for (Sequence* seq_ptr : seqs) {
    Sequence& seq = *seq_ptr;
    const int64_t begin = seq.num_cached;  // > 0 never happens today: recompute starts at 0
    const int32_t base = int32_t(batch.input_ids.size());
    for (int64_t p = begin; p < int64_t(seq.tokens.size()); ++p) {
      batch.input_ids.push_back(seq.tokens[size_t(p)]);
      batch.position_ids.push_back(int32_t(p));
      batch.slots.push_back(slot_of(seq, p));
    }
    const int32_t end = int32_t(batch.input_ids.size());
    tokens_per_seq.push_back(end - base);
    batch.cu_seqlen_prefill.push_back(end);
    // Head rows: every prompt position when prompt logprobs were asked, else the last token.
    const bool want_prompt = seq.request.prompt_logprobs && !seq.prompt_logprobs_done;
    for (int32_t r = want_prompt ? base : end - 1; r < end; ++r) batch.lm_head_indices.push_back(r);
  }
  fill_tables(batch, seqs);
  fill_adapters(batch, seqs, tokens_per_seq);
  ForwardOutput out = model_.forward(batch, cache_.layers());
  ++counters_.prefill_steps;
  counters_.last_batch_sequences = int64_t(seqs.size());
  counters_.last_batch_tokens = batch.num_tokens();
  counters_.prompt_tokens += batch.num_tokens();

  // One sampling call for the step: per sequence, its prompt rows (forced to the next prompt
  // token) when prompt logprobs were asked, then the row that chooses its first token.
  std::vector<SampleRow> sample_rows;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const Sequence& seq = *seqs[i];
    if (seq.request.prompt_logprobs && !seq.prompt_logprobs_done) {
      for (int64_t j = 1; j < seq.prompt_len; ++j) {
        SampleRow row;
        row.forced_id = seq.tokens[size_t(j)];
        row.top_logprobs = seq.request.top_logprobs;
        sample_rows.push_back(row);
      }
    }
    sample_rows.push_back(next_token_row(seq));
  }
  std::vector<TokenLogprob> sampled = model_.backend().sample(out.logits, sample_rows);

  std::vector<StepOutput> outputs;
  size_t next = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    Sequence& seq = *seqs[i];
    seq.num_cached = int64_t(seq.tokens.size());
    StepOutput o;
    std::optional<std::vector<std::optional<TokenLogprob>>> prompt;
    if (seq.request.prompt_logprobs && !seq.prompt_logprobs_done) {
      prompt.emplace(1);  // the first prompt token has no context
      for (int64_t j = 1; j < seq.prompt_len; ++j) prompt->push_back(std::move(sampled[next++]));
      seq.prompt_logprobs_done = true;
    }
    TokenLogprob first = std::move(sampled[next++]);
    if (seq.request.max_new_tokens > seq.generated()) o = advance(seq, std::move(first));
    o.prompt_logprobs = std::move(prompt);
    o.request_id = seq.id;
    if (!o.token) o.finish = FinishReason::Length;  // nothing to generate
    outputs.push_back(std::move(o));
  }
  for (auto& owned : admitted) running_.push_back(std::move(owned));
  retire_finished(outputs);
  return outputs;
}

bool Engine::reserve_decode_slots() {
  // Oldest first; when blocks run out, the newest running sequence gives its blocks back.
  for (size_t i = 0; i < running_.size(); ++i) {
    Sequence& seq = *running_[i];
    const int64_t need =
        cache_.blocks_for(int64_t(seq.tokens.size())) - int64_t(seq.block_table.size());
    while (need > 0 && !cache_.blocks().can_allocate(need)) {
      SequencePtr victim = std::move(running_.back());
      running_.pop_back();
      const bool self = victim.get() == &seq;
      preempt(std::move(victim));
      if (self) return !running_.empty();
    }
    if (need > 0) cache_.blocks().allocate(need, seq.block_table);
  }
  return !running_.empty();
}

void Engine::preempt(SequencePtr seq) {
  cache_.blocks().release(seq->block_table);
  seq->num_cached = 0;
  ++counters_.preemptions;
  waiting_.push_front(std::move(seq));
}

std::vector<StepOutput> Engine::decode_step() {
  if (!reserve_decode_slots()) return {};
  ForwardBatch batch;
  std::vector<Sequence*> seqs;
  for (auto& owned : running_) seqs.push_back(owned.get());
  group_by_adapter(seqs);
  for (Sequence* seq_ptr : seqs) {
    Sequence& seq = *seq_ptr;
    const int64_t p = int64_t(seq.tokens.size()) - 1;
    batch.input_ids.push_back(seq.tokens.back());
    batch.position_ids.push_back(int32_t(p));
    batch.slots.push_back(slot_of(seq, p));
  }
  fill_tables(batch, seqs);
  fill_adapters(batch, seqs, std::vector<int64_t>(seqs.size(), 1));
  ForwardOutput out = model_.forward(batch, cache_.layers());
  ++counters_.decode_steps;
  counters_.last_batch_sequences = int64_t(seqs.size());
  counters_.last_batch_tokens = batch.num_tokens();
  std::vector<SampleRow> sample_rows;
  for (const Sequence* seq : seqs) sample_rows.push_back(next_token_row(*seq));
  std::vector<TokenLogprob> sampled = model_.backend().sample(out.logits, sample_rows);
  std::vector<StepOutput> outputs;
  for (size_t b = 0; b < seqs.size(); ++b) {
    seqs[b]->num_cached = int64_t(seqs[b]->tokens.size());
    StepOutput o = advance(*seqs[b], std::move(sampled[b]));
    o.request_id = seqs[b]->id;
    outputs.push_back(std::move(o));
  }
  retire_finished(outputs);
  return outputs;
}

StepOutput Engine::advance(Sequence& seq, TokenLogprob token) {
  const int32_t id = token.id;
  StepOutput o;
  o.token = std::move(token);
  ++counters_.generated_tokens;
  seq.tokens.push_back(id);
  const bool eos =
      !seq.request.ignore_eos && std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end();
  if (eos) {
    o.finish = FinishReason::Eos;
  } else if (seq.generated() >= seq.request.max_new_tokens ||
             int64_t(seq.tokens.size()) >= model_.max_positions()) {
    o.finish = FinishReason::Length;
  }
  return o;
}

void Engine::retire_finished(std::vector<StepOutput>& outputs) {
  for (const StepOutput& o : outputs) {
    if (o.finish == FinishReason::None) continue;
    auto it = std::find_if(running_.begin(), running_.end(),
                           [&](const SequencePtr& s) { return s->id == o.request_id; });
    if (it == running_.end()) continue;
    cache_.blocks().release((*it)->block_table);
    running_.erase(it);
  }
}

}  // namespace lorax
