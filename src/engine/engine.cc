#include "engine/engine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "engine/speculation.h"

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
      eos_ids_(model.config().eos_token_ids),
      pace_(options.chunked_prefill ? options.max_itl_factor : 0.0) {
  LORAX_CHECK(options.max_batch_prefill_tokens > 0 && options.max_running > 0 &&
                  options.max_active_adapters > 0,
              "engine limits must be positive");
  LORAX_CHECK(options.max_itl_factor == 0.0 || options.max_itl_factor > 1.0, "max_itl_factor ",
              options.max_itl_factor, " must be 0 (off) or above 1");
  LORAX_CHECK(options.speculative_tokens >= 0 && options.speculation_max_batch_size >= 0,
              "speculative_tokens and speculation_max_batch_size must be >= 0");
  model_.plan(options.max_step_tokens(), options.max_running);
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
  seq->owner = owner_key(request.adapter);
  if (request.constraint)
    seq->constraint = std::make_unique<structured::ConstraintState>(request.constraint);
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
  std::set<int32_t> biased;
  for (const LogitBias& b : request.logit_bias) {
    LORAX_CHECK(b.id >= 0 && b.id < vocab, "logit_bias token id ", b.id,
                " is outside the vocabulary (0..", vocab - 1, ")");
    LORAX_CHECK(std::isfinite(b.bias), "logit_bias of token ", b.id, " is not finite");
    LORAX_CHECK(biased.insert(b.id).second, "logit_bias names token ", b.id, " twice");
  }
  LORAX_CHECK(len < model_.max_positions(), "prompt has ", len, " tokens; the model's context is ",
              model_.max_positions());
  const int64_t needed = std::min(len + request.max_new_tokens, model_.max_positions());
  const int64_t capacity = cache_.blocks().num_blocks() * cache_.block_size();
  LORAX_CHECK(needed <= capacity, "request needs ", needed,
              " tokens of KV cache but the cache holds ", capacity);
  if (request.adapter && request.adapter->medusa()) {
    const std::string refusal = model_.adapter_heads_refusal(*request.adapter->medusa());
    LORAX_CHECK(refusal.empty(), "adapter '", request.adapter->name(), "': ", refusal);
  }
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
  s.prefix_cache_blocks = cache_.blocks().num_cached();
  s.prefix_cache_evictions = cache_.blocks().evictions();
  return s;
}

std::vector<StepOutput> Engine::step() {
  step_started_ = std::chrono::steady_clock::now();
  last_step_ = {};
  retire_dropped_adapters();
  return options_.chunked_prefill ? chunked_step() : unchunked_step();
}

std::vector<StepOutput> Engine::unchunked_step() {
  StepTokenBudget budget(options_.max_batch_prefill_tokens, /*chunked=*/false);
  std::vector<Chunk> chunks = admit(budget);
  if (!chunks.empty()) return run_chunks(std::move(chunks));
  if (running_.empty() || !reserve_decode_slots()) return {};
  const bool speculate = speculates(int64_t(running_.size()));
  for (auto& seq : running_) chunks.push_back(decode_chunk(*seq, speculate));
  return run_chunks(std::move(chunks));
}

std::vector<StepOutput> Engine::chunked_step() {
  // Decodes first claim their blocks (preempting the newest sequences if they must), so the
  // chunks planned below all have their memory.
  if (!running_.empty()) reserve_decode_slots();
  int64_t decodes = 0;
  for (const auto& seq : running_) decodes += seq->prefilling ? 0 : 1;
  StepTokenBudget budget(pace_.allowance(decodes, options_.max_batch_prefill_tokens),
                         /*chunked=*/true);
  std::vector<Chunk> chunks;
  const bool speculate = speculates(decodes);
  for (auto& seq : running_) {
    if (!seq->prefilling) {
      chunks.push_back(decode_chunk(*seq, speculate));
      continue;
    }
    const int64_t len = budget.take(int64_t(seq->tokens.size()) - seq->num_cached, false);
    if (len > 0) chunks.push_back({seq.get(), seq->num_cached, len});
  }
  std::vector<Chunk> admitted = admit(budget);
  chunks.insert(chunks.end(), admitted.begin(), admitted.end());
  if (chunks.empty()) return {};
  return run_chunks(std::move(chunks));
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
  if (it == active_since_.end())
    return int64_t(active_since_.size()) < options_.max_active_adapters;
  // Active: keeps admitting unless its turn is over and another adapter waits for a slot.
  return !(someone_lacks_a_slot && now - it->second > options_.adapter_cycle_time);
}

int64_t Engine::running_tokens() const {
  int64_t total = 0;
  for (const auto& seq : running_) total += int64_t(seq->tokens.size());
  return total;
}

std::vector<Engine::Chunk> Engine::admit(StepTokenBudget& budget) {
  std::vector<Chunk> admitted;
  if (waiting_.empty()) return admitted;
  last_step_.was_running = int64_t(running_.size());
  refresh_active_adapters();
  const auto now = std::chrono::steady_clock::now();
  bool someone_lacks_a_slot = false;
  for (const auto& seq : waiting_) {
    const LoraAdapter* a = seq->request.adapter.get();
    if (a != nullptr && !active_since_.count(a) &&
        int64_t(active_since_.size()) >= options_.max_active_adapters)
      someone_lacks_a_slot = true;
  }
  int64_t total_tokens = running_tokens();
  bool blocked = false;  // the KV cache or a token budget is full: stop admitting
  // Round-robin over adapters: each pass admits at most one request per adapter, the oldest.
  while (!blocked && !waiting_.empty() && !budget.exhausted()) {
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
      const int64_t len = take_room(seq, budget, total_tokens);
      if (len == 0) {
        blocked = true;  // later requests wait their turn rather than overtake this one
        break;
      }
      total_tokens += int64_t(seq.tokens.size());
      if (adapter != nullptr && !active_since_.count(adapter)) active_since_[adapter] = now;
      seq.prefilling = true;
      admitted.push_back({&seq, seq.num_cached, len});
      running_.push_back(std::move(waiting_[i]));
      waiting_.erase(waiting_.begin() + int64_t(i));
      progress = true;
    }
    if (!progress) break;
  }
  last_step_.admitted = int64_t(admitted.size());
  return admitted;
}

int64_t Engine::take_room(Sequence& seq, StepTokenBudget& budget, int64_t total_tokens) {
  if (options_.prefix_caching && !seq.request.prompt_logprobs) match_prefix(seq);
  const int64_t tokens = int64_t(seq.tokens.size());
  const int64_t fresh = tokens - seq.num_cached;
  const int64_t need = cache_.blocks_for(tokens) - int64_t(seq.block_table.size());
  // A request alone in the engine always runs, whatever the budgets say.
  const bool alone = running_.empty();
  const bool over_total = !alone && options_.max_batch_total_tokens > 0 &&
                          total_tokens + tokens > options_.max_batch_total_tokens;
  const bool fits = int64_t(running_.size()) < options_.max_running && !over_total &&
                    cache_.blocks().can_allocate(need);
  const int64_t len = fits ? budget.take(fresh, alone) : 0;
  if (len == 0) {
    // It waits: the prefix it matched goes back (still published) for others meanwhile.
    cache_.blocks().release(seq.block_table);
    seq.block_hashes.clear();
    seq.num_cached = 0;
    return 0;
  }
  cache_.blocks().allocate(need, seq.block_table);
  if (seq.cached_tokens < 0) {
    seq.cached_tokens = seq.num_cached;
    seq.started_at = step_started_;
  }
  counters_.prefix_cache_hit_tokens += seq.num_cached;
  counters_.prefix_cache_hit_blocks += int64_t(seq.block_hashes.size());
  return len;
}

uint64_t Engine::owner_key(const std::shared_ptr<const LoraAdapter>& adapter) {
  if (!adapter) return 0;
  auto it = owners_.find(adapter.get());
  // A live entry is this very object: two live objects never share an address.
  if (it != owners_.end() && !it->second.adapter.expired()) return it->second.key;
  if (it != owners_.end()) cache_.blocks().retire_owner(it->second.key);  // a new object
  const uint64_t key = next_owner_key_++;
  owners_[adapter.get()] = {adapter, key};
  return key;
}

KvBlockKey Engine::block_key(const Sequence& seq, int64_t block) const {
  const int64_t bs = cache_.block_size();
  KvBlockKey key;
  key.parent = block == 0 ? 0 : seq.block_hashes[size_t(block - 1)];
  key.owner = seq.owner;
  key.tokens.assign(seq.tokens.begin() + block * bs, seq.tokens.begin() + (block + 1) * bs);
  return key;
}

void Engine::match_prefix(Sequence& seq) {
  // Blocks before the one holding the last token: that token is always computed (its logits
  // choose the next one), so the sequence never writes into a block it shares.
  const int64_t matchable = (int64_t(seq.tokens.size()) - 1) / cache_.block_size();
  std::vector<KvBlockKey> keys;
  for (int64_t b = 0; b < matchable; ++b) {
    keys.push_back(block_key(seq, b));
    seq.block_hashes.push_back(keys.back().hash());
  }
  const int64_t matched = cache_.blocks().match(keys, seq.block_table);
  seq.block_hashes.resize(size_t(matched));
  seq.num_cached = matched * cache_.block_size();
}

void Engine::publish_blocks(Sequence& seq) {
  const int64_t full = seq.num_cached / cache_.block_size();
  for (int64_t b = int64_t(seq.block_hashes.size()); b < full; ++b) {
    KvBlockKey key = block_key(seq, b);
    seq.block_hashes.push_back(key.hash());
    cache_.blocks().publish(seq.block_table[size_t(b)], std::move(key));
  }
}

void Engine::retire_dropped_adapters() {
  // A slot whose adapter nobody else holds can never be asked for again: let the object go.
  for (auto& adapter : slot_adapter_)
    if (adapter && adapter.use_count() == 1) adapter.reset();
  for (auto it = owners_.begin(); it != owners_.end();) {
    if (!it->second.adapter.expired()) {
      ++it;
      continue;
    }
    cache_.blocks().retire_owner(it->second.key);  // unloaded: its blocks match nothing now
    it = owners_.erase(it);
  }
}

int32_t Engine::slot_of(const Sequence& seq, int64_t position) const {
  const int64_t bs = cache_.block_size();
  return int32_t(seq.block_table[size_t(position / bs)] * bs + position % bs);
}

void Engine::fill_tables(ForwardBatch& batch, const std::vector<Chunk>& chunks) const {
  size_t max_blocks = 1;
  for (const Chunk& c : chunks) max_blocks = std::max(max_blocks, c.seq->block_table.size());
  batch.max_blocks = int64_t(max_blocks);
  batch.block_tables.assign(chunks.size() * max_blocks, -1);
  for (size_t b = 0; b < chunks.size(); ++b) {
    const auto& table = chunks[b].seq->block_table;
    std::copy(table.begin(), table.end(), batch.block_tables.begin() + int64_t(b * max_blocks));
    batch.seqlen.push_back(int32_t(chunks[b].end()));  // the chunk is the last of its seqlen
    batch.max_s = std::max(batch.max_s, chunks[b].end());
  }
}

void Engine::group_by_adapter(std::vector<Chunk>& chunks) {
  std::stable_sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) {
    return a.seq->request.adapter.get() < b.seq->request.adapter.get();
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
    return std::any_of(step.begin(), step.end(),
                       [&](const Sequence* q) { return q->request.adapter == slot_adapter_[s]; });
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
  // Heads alone take a slot for their heads; the LoRA kernels never see it (token_slot -1).
  model_.load_adapter(int64_t(best), adapter->max_rank() > 0 ? adapter->weights() : nullptr,
                      adapter->medusa());
  slot_adapter_[best] = adapter;
  slot_used_[best] = step_counter_;
  return int32_t(best);
}

void Engine::fill_adapters(ForwardBatch& batch, const std::vector<Sequence*>& seqs,
                           const std::vector<int64_t>& tokens_per_seq) {
  ++step_counter_;
  bool any_lora = false, any_heads = false;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const auto& adapter = seqs[i]->request.adapter;
    const int32_t slot = adapter ? adapter_slot(adapter, seqs) : -1;
    const int32_t lora = adapter && adapter->max_rank() > 0 ? slot : -1;
    const int32_t heads = adapter && adapter->medusa() ? slot : -1;
    any_lora = any_lora || lora >= 0;
    any_heads = any_heads || heads >= 0;
    auto& data = batch.adapter_data;
    data.token_slot.insert(data.token_slot.end(), size_t(tokens_per_seq[i]), lora);
    data.head_slot.insert(data.head_slot.end(), size_t(tokens_per_seq[i]), heads);
  }
  if (!any_lora) batch.adapter_data.token_slot.clear();  // a base-only step: no LoRA at all
  if (!any_heads) batch.adapter_data.head_slot.clear();
}

void Engine::warm_adapters(const std::vector<std::shared_ptr<const LoraAdapter>>& adapters) {
  LORAX_CHECK(adapters.size() <= slot_adapter_.size(), "warm_adapters: ", adapters.size(),
              " adapters for ", slot_adapter_.size(), " slots");
  for (const auto& adapter : adapters) adapter_slot(adapter, {});
}

SampleRow Engine::token_row(const Sequence& seq, int64_t length) {
  // Draws are keyed by the token's index among the generated ones, so a draft's row draws what
  // the step after it would have drawn without speculation.
  SampleRow row;
  row.params = seq.request.sampling;
  row.draw_index = uint64_t(length - seq.prompt_len);
  row.history = std::span<const int32_t>(seq.tokens.data(), size_t(length));
  row.prompt_len = size_t(seq.prompt_len);
  row.top_logprobs = seq.request.top_logprobs;
  row.logit_bias = seq.request.logit_bias;
  return row;
}

ForwardBatch Engine::build_batch(const std::vector<Chunk>& chunks, std::vector<SampleRow>& rows,
                                 std::vector<StepMasks::Row>& constrained) {
  ForwardBatch batch;
  const bool any_long =
      std::any_of(chunks.begin(), chunks.end(), [](const Chunk& c) { return c.len > 1; });
  if (any_long) batch.cu_seqlen_prefill.push_back(0);  // else a decode: one row per sequence
  std::vector<Sequence*> seqs;
  std::vector<int64_t> tokens_per_seq;
  for (const Chunk& c : chunks) {
    const Sequence& seq = *c.seq;
    const int32_t base = int32_t(batch.input_ids.size());
    for (int64_t p = c.begin; p < c.end(); ++p) {
      batch.input_ids.push_back(seq.tokens[size_t(p)]);
      batch.position_ids.push_back(int32_t(p));
      batch.slots.push_back(slot_of(seq, p));
      // Head rows: a prompt row (forced to the next prompt token) when prompt logprobs are
      // asked, and the last token of the sequence, which chooses the next one.
      if (seq.wants_prompt_logprobs() && p + 1 < seq.prompt_len) {
        SampleRow row;
        row.forced_id = seq.tokens[size_t(p + 1)];
        row.top_logprobs = seq.request.top_logprobs;
        rows.push_back(row);
        batch.lm_head_indices.push_back(base + int32_t(p - c.begin));
      }
    }
    if (c.samples()) {
      // One row for the token after the last cached one, then one after each draft.
      const int64_t first = c.end() - c.drafts;
      for (int64_t j = 0; j <= c.drafts; ++j) {
        if (seq.constraint) {
          structured::ConstraintState* state = seq.constraint.get();
          if (j > 0) {  // the state after drafts 0..j-1 (add_drafts checked they are allowed)
            draft_states_.push_back(std::make_unique<structured::ConstraintState>(*state));
            state = draft_states_.back().get();
            for (int64_t d = first; d < first + j; ++d) state->commit(seq.tokens[size_t(d)]);
          }
          constrained.push_back({rows.size(), state, seq.request.ignore_eos});
        }
        rows.push_back(token_row(seq, first + j));
        batch.lm_head_indices.push_back(base + int32_t(first - 1 + j - c.begin));
      }
    }
    if (any_long) batch.cu_seqlen_prefill.push_back(int32_t(batch.input_ids.size()));
    seqs.push_back(c.seq);
    tokens_per_seq.push_back(c.len);
  }
  if (batch.lm_head_indices.empty()) {
    // Only chunks that end mid-prompt: nobody needs logits. The model wants a row; take one
    // and skip the head.
    batch.lm_head_indices.push_back(0);
    batch.skip_lm_head = true;
  }
  fill_tables(batch, chunks);
  fill_adapters(batch, seqs, tokens_per_seq);
  return batch;
}

std::vector<StepOutput> Engine::run_chunks(std::vector<Chunk> chunks) {
  group_by_adapter(chunks);
  draft_states_.clear();  // the previous step's masks are filled
  std::vector<SampleRow> rows;
  std::vector<StepMasks::Row> constrained;
  ForwardBatch batch = build_batch(chunks, rows, constrained);
  const bool reads_prompt =
      std::any_of(chunks.begin(), chunks.end(), [](const Chunk& c) { return c.seq->prefilling; });
  last_step_.prefill = reads_prompt;  // a verification chunk is longer than one token too
  last_step_.ran_forward = true;
  // Constrained rows' masks are filled on the mask thread while the forward pass runs.
  if (!constrained.empty())
    masks_.begin(rows, std::move(constrained), model_.config().vocab_size, eos_ids_);
  ForwardOutput out = model_.forward(batch, cache_.layers());
  masks_.wait();
  ++(reads_prompt ? counters_.prefill_steps : counters_.decode_steps);
  counters_.last_batch_sequences = int64_t(chunks.size());
  counters_.last_batch_tokens = batch.num_tokens();
  int64_t prompt_tokens = 0, decode_tokens = 0;
  for (const Chunk& c : chunks) (c.seq->prefilling ? prompt_tokens : decode_tokens) += c.len;
  counters_.prompt_tokens += prompt_tokens;
  // One sampling call for the step, rows in the order build_batch laid them out.
  std::vector<TokenLogprob> sampled;
  if (!rows.empty()) sampled = model_.backend().sample(out.logits, rows);
  head_guesses_.clear();
  head_count_ = 0;
  if (out.speculative_logits.ndim() == 3 && !rows.empty()) {
    // Each head's draft is its argmax (as LoRAX's Medusa drafts), whatever the request samples.
    head_count_ = out.speculative_logits.dim(1);
    const int64_t n = out.speculative_logits.dim(0) * head_count_;
    const std::vector<SampleRow> greedy(static_cast<size_t>(n));
    for (const TokenLogprob& t : model_.backend().sample(
             out.speculative_logits.reshape({n, out.speculative_logits.dim(2)}), greedy))
      head_guesses_.push_back(t.id);
  }
  std::vector<StepOutput> outputs;
  size_t next = 0;
  for (const Chunk& c : chunks) {
    if (c.drafts > 0) {
      finish_verification(c, sampled, next, outputs);
      continue;
    }
    StepOutput o = finish_chunk(c, sampled, next);
    if (o.request_id != 0) outputs.push_back(std::move(o));
  }
  pace_.observe(
      prompt_tokens, decode_tokens,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - step_started_).count());
  retire_finished(outputs);
  return outputs;
}

bool Engine::gather_prompt_logprobs(const Chunk& c, std::vector<TokenLogprob>& sampled,
                                    size_t& next) {
  Sequence& seq = *c.seq;
  if (!seq.wants_prompt_logprobs()) return false;
  if (seq.prompt_logprobs.empty()) seq.prompt_logprobs.emplace_back();  // token 0: no context
  const int64_t last = std::min(c.end(), seq.prompt_len - 1);
  for (int64_t p = c.begin; p < last; ++p) seq.prompt_logprobs.push_back(sampled[next++]);
  seq.prompt_logprobs_done = c.end() >= seq.prompt_len;
  return seq.prompt_logprobs_done;
}

StepOutput Engine::finish_chunk(const Chunk& c, std::vector<TokenLogprob>& sampled, size_t& next) {
  Sequence& seq = *c.seq;
  const bool samples = c.samples();  // before the sampled token is appended
  seq.num_cached = c.end();
  if (options_.prefix_caching) publish_blocks(seq);
  const bool prompt_done = gather_prompt_logprobs(c, sampled, next);
  StepOutput o;
  if (samples) {
    seq.prefilling = false;
    keep_head_drafts(seq, next);
    TokenLogprob token = std::move(sampled[next++]);
    if (seq.request.max_new_tokens > seq.generated()) o = advance(seq, std::move(token));
    if (!o.token) o.finish = FinishReason::Length;  // nothing to generate
  }
  if (prompt_done) {
    o.prompt_logprobs.emplace(std::move(seq.prompt_logprobs));
    seq.prompt_logprobs.clear();
  }
  // request_id 0: a chunk that ended mid-prompt has nothing to report yet.
  if (samples || prompt_done) o.request_id = seq.id;
  o.started_at = seq.started_at;
  if (samples && seq.generated() <= 1) o.cached_tokens = std::max<int64_t>(seq.cached_tokens, 0);
  return o;
}

bool Engine::speculates(int64_t decodes) const {
  return options_.speculative_tokens > 0 && decodes <= options_.speculation_max_batch_size;
}

Engine::Chunk Engine::decode_chunk(Sequence& seq, bool speculate) {
  const int64_t drafts = speculate ? add_drafts(seq) : 0;
  return {&seq, int64_t(seq.tokens.size()) - 1 - drafts, 1 + drafts, drafts};
}

int64_t Engine::add_drafts(Sequence& seq) {
  if (!seq.request.speculate) return 0;
  const int64_t len = int64_t(seq.tokens.size());
  // No draft past what the sequence may still generate: the row after its last token is waste.
  const int64_t room =
      std::min({options_.speculative_tokens, seq.request.max_new_tokens - seq.generated() - 1,
                model_.max_positions() - len - 1});
  if (room <= 0) return 0;
  std::vector<int32_t> drafts =
      options_.draft_proposer      ? options_.draft_proposer(seq.id, seq.tokens, room)
      : model_.speculative_heads() ? seq.head_drafts
                                   : prompt_lookup_drafts(seq.tokens, room);
  if (int64_t(drafts.size()) > room) drafts.resize(size_t(room));
  const int64_t vocab = model_.config().vocab_size;
  for (size_t i = 0; i < drafts.size(); ++i)
    if (drafts[i] < 0 || drafts[i] >= vocab) {
      drafts.resize(i);  // a proposer's bad id: never fed to the model
      break;
    }
  // Nothing follows an end of sequence; a constrained sequence only drafts what it allows.
  for (size_t i = 0; i < drafts.size(); ++i)
    if (std::find(eos_ids_.begin(), eos_ids_.end(), drafts[i]) != eos_ids_.end()) {
      drafts.resize(i + 1);
      break;
    }
  if (seq.constraint) {
    structured::ConstraintState state(*seq.constraint);
    size_t allowed = 0;
    while (allowed < drafts.size() && !state.is_finished() && state.commit(drafts[allowed]))
      ++allowed;
    drafts.resize(allowed);
  }
  // KV slots for the drafts come from free blocks only: drafts never preempt anybody.
  const int64_t bs = cache_.block_size();
  const int64_t have = int64_t(seq.block_table.size()) * bs - len;
  const int64_t want = int64_t(drafts.size()) - have;
  if (want > 0) {
    const int64_t blocks = std::min(cache_.blocks_for(want), cache_.blocks().num_free());
    cache_.blocks().allocate(blocks, seq.block_table);
    drafts.resize(size_t(std::min<int64_t>(int64_t(drafts.size()), have + blocks * bs)));
  }
  seq.tokens.insert(seq.tokens.end(), drafts.begin(), drafts.end());
  return int64_t(drafts.size());
}

void Engine::keep_head_drafts(Sequence& seq, size_t row) {
  if (head_count_ == 0) return;
  const auto first = head_guesses_.begin() + int64_t(row) * head_count_;
  seq.head_drafts.assign(first, first + head_count_);
}

void Engine::finish_verification(const Chunk& c, std::vector<TokenLogprob>& sampled, size_t& next,
                                 std::vector<StepOutput>& outputs) {
  Sequence& seq = *c.seq;
  const int64_t len = c.end() - c.drafts;  // the sequence's tokens before the drafts
  const std::vector<int32_t> drafts(seq.tokens.begin() + len, seq.tokens.end());
  seq.tokens.resize(size_t(len));
  const size_t first_output = outputs.size();
  int64_t accepted = 0;
  for (int64_t j = 0; j <= c.drafts; ++j) {
    TokenLogprob& token = sampled[next + size_t(j)];
    const bool agrees = j < c.drafts && token.id == drafts[size_t(j)];
    StepOutput o = advance(seq, std::move(token));
    o.request_id = seq.id;
    o.started_at = seq.started_at;
    o.skipped = j > 0;
    const bool last = o.finish != FinishReason::None || !agrees;
    outputs.push_back(std::move(o));
    if (last) {
      keep_head_drafts(seq, next + size_t(j));
      break;
    }
    ++accepted;
  }
  next += size_t(c.drafts) + 1;
  outputs[first_output].drafts_proposed = c.drafts;
  outputs[first_output].drafts_accepted = accepted;
  counters_.drafts_proposed += c.drafts;
  counters_.drafts_accepted += accepted;
  ++counters_.verification_steps;
  // The K/V of the last token and of the accepted drafts are the sequence's; the rejected
  // drafts' slots are overwritten later, and blocks holding nothing else go back now.
  seq.num_cached = int64_t(seq.tokens.size()) - 1;
  const size_t keep = size_t(cache_.blocks_for(int64_t(seq.tokens.size())));
  if (seq.block_table.size() > keep) {
    std::vector<int32_t> surplus(seq.block_table.begin() + int64_t(keep), seq.block_table.end());
    seq.block_table.resize(keep);
    cache_.blocks().release(surplus);
  }
  if (options_.prefix_caching) publish_blocks(seq);
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
  seq->block_hashes.clear();
  seq->prompt_logprobs.clear();  // gathered again when its prompt is read again
  ++counters_.preemptions;
  waiting_.push_front(std::move(seq));
}

StepOutput Engine::advance(Sequence& seq, TokenLogprob token) {
  const int32_t id = token.id;
  StepOutput o;
  o.token = std::move(token);
  ++counters_.generated_tokens;
  seq.tokens.push_back(id);
  const bool is_eos = std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end();
  // A constrained sequence samples EOS only when its constraint lets it end (step_masks.h), even
  // with ignore_eos; a token its constraint refuses (a vocabulary without EOS ids left it no
  // choice) ends it too.
  const bool constrained_end = seq.constraint && (is_eos || !seq.constraint->commit(id));
  if ((is_eos && !seq.request.ignore_eos) || constrained_end) {
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
