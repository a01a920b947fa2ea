// The generation engine: owns the KV cache, admits requests, builds each step's flat batch,
// runs the model, samples, and reports what every sequence produced.
//
// Contract of step(): one forward pass per call, over a set of chunks. A chunk is a run of a
// sequence's tokens whose K/V are not cached yet: the first of them follows the sequence's
// cached tokens. A decode is a chunk of one token (the last sampled one); a prefill chunk covers
// some or all of a prompt (or, after preemption, of prompt + generated tokens). A chunk that
// reaches the end of its sequence's tokens yields the sequence's next token; a chunk that stops
// short of it yields nothing (but the log-probabilities of its prompt tokens, when asked).
//
// What a step holds (StepTokenBudget, step_budget.h, writes the budget rule down):
// - chunked_prefill (the default): every running sequence that has finished its prompt decodes
//   one token; sequences whose prompt is partly read get their next chunk, oldest first; then
//   waiting requests are admitted while the prefill budget (max_batch_prefill_tokens, decodes
//   not counted) has room, each with a first chunk of what is left of it. A prompt longer than
//   the budget is read over several steps while the running streams keep decoding. With
//   max_itl_factor set, the budget of a step that decodes is what keeps it within that factor
//   of a decode-only step, predicted from measured step times (DecodePace).
// - without it: if waiting requests can be admitted with their whole prompt within
//   max_batch_prefill_tokens, the step is a prefill of those; otherwise it is a decode of every
//   running sequence. A prompt over the budget is admitted only when nothing else runs.
// Admission needs, in both modes, free KV blocks for the request's whole prompt less what the
// prefix cache holds (allocated at once, so its later chunks never wait for memory), max_running,
// max_batch_total_tokens and max_active_adapters. Admission is fair across adapters: waiting
// requests are taken round-robin, one per adapter per turn, in arrival order within each adapter,
// and an adapter that has held an active slot past adapter_cycle_time while others wait for a slot
// stops admitting until it drains. When a decode needs a block and none is free, the newest
// running sequence is preempted: its blocks are freed and it goes back to the front of the
// queue, to be recomputed (prompt + what it generated) when room returns. Each sequence's tokens
// depend only on its own tokens and seed, never on its batch mates or on how its prompt was cut
// into chunks; its numbers do too on the CPU within float rounding (the chunk's attention sums in
// another order), while on CUDA a batch's composition may change the last bits of reduced-precision
// results (different kernel tilings), within the activation dtype's tolerance.
//
// Prefix caching (prefix_caching, on by default): every full block a sequence has computed is
// published in the KV block manager under the hash chain of its tokens and the identity of its
// adapter (paged_kv_cache.h). At admission a sequence takes the longest published chain that
// matches its tokens and its adapter, and its first chunk starts after it; at least its last
// token is always computed, so it never writes into a shared block. An adapter's identity is
// its object plus a load generation the engine hands out: a reloaded adapter is a new object and
// matches none of the old blocks, and once nobody holds the old object its blocks are retired
// (an adapter slot whose adapter nobody else holds lets it go first: no request can name it).
// Requests that ask for prompt logprobs compute their whole prompt (and still publish it).
//
// Speculative decoding (speculative_tokens > 0, while at most speculation_max_batch_size sequences
// decode): a decoding sequence appends up to N draft tokens to its decode chunk: its model's
// speculative (Medusa) heads' guesses from the step that chose its last token when the model has
// heads, else prompt lookup (speculation.h);
// the chunk's 1 + N logits rows are sampled as if each token had been generated alone (its
// history with the drafts before it, its own draw index, its constraint state after them), the
// drafts equal to the model's choices are kept, plus the model's token after the last of them,
// and each kept token is reported as its own output, in order. The rejected drafts' K/V slots
// are overwritten by later tokens and the blocks that held only them go back at once. Drafts
// take free blocks only (never preempting anybody) and stop at an end of sequence, at what the
// request may still generate, and at what its constraint refuses. A sequence's output is the
// same with speculation as without (on the CPU exactly, its numbers within float rounding).
//
// Adapters of a step are loaded into slots of the model's adapter pool (one slot per active
// adapter, --max-active-adapters of them); a slot keeps its adapter until another needs the
// room, least recently used first. Sampling runs on the model's backend: only token ids and
// log-probabilities come back.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "adapters/lora_adapter.h"
#include "backend/sampling.h"
#include "engine/paged_kv_cache.h"
#include "engine/step_budget.h"
#include "engine/step_masks.h"
#include "model/causal_lm.h"

namespace lorax {

struct GenerationRequest {
  std::vector<int32_t> prompt_ids;
  int64_t max_new_tokens = 16;
  SamplingParams sampling;
  std::vector<LogitBias> logit_bias;  // distinct token ids, finite biases
  int top_logprobs = 0;               // alternatives reported per token, 0..20
  bool prompt_logprobs = false;  // also report log-probabilities of the prompt tokens
  bool ignore_eos = false;
  std::shared_ptr<const LoraAdapter> adapter;  // null: the base model
  // Structured output: null, unconstrained; else every generated token is one the constraint
  // allows, and EOS comes exactly when it accepts (step_masks.h). Compiled by the caller.
  std::shared_ptr<structured::Constraint> constraint;
  // Speculative decoding (EngineOptions::speculative_tokens): false keeps this request to one
  // token per step. Its output is the same either way.
  bool speculate = true;
};

enum class FinishReason { None, Length, Eos, Cancelled };
const char* finish_reason_name(FinishReason reason);

// What one step produced for one request.
struct StepOutput {
  uint64_t request_id = 0;
  // Set on the step that finishes reading the prompt when prompt_logprobs was asked: entry j is
  // the log-probability of prompt token j given those before it (entry 0 has none).
  std::optional<std::vector<std::optional<TokenLogprob>>> prompt_logprobs;
  std::optional<TokenLogprob> token;  // the new token, absent when max_new_tokens == 0
  // The token was an accepted speculative draft: the step that chose the token before it chose
  // this one too (LoRAX's Token.skipped). A step may report several tokens of a request, in
  // order; only the first is not skipped.
  bool skipped = false;
  // On the first token of a step that verified drafts: how many it proposed and accepted.
  int64_t drafts_proposed = 0;
  int64_t drafts_accepted = 0;
  // Prompt tokens read from the prefix cache instead of computed; set with the first token.
  int64_t cached_tokens = 0;
  // When the step that first admitted the request began (its wait in the queue ends there and
  // its prefill starts); set on every output.
  std::chrono::steady_clock::time_point started_at;
  FinishReason finish = FinishReason::None;
};

struct EngineOptions {
  KvCacheOptions kv;
  int64_t max_batch_prefill_tokens = 4096;
  // Cut prompts into chunks that share steps with decodes (see the contract above).
  bool chunked_prefill = true;
  // Chunked prefill only: a step that reads prompt tokens beside running streams is kept within
  // this factor of a decode-only step (DecodePace, step_budget.h); 0: the budget alone bounds it.
  double max_itl_factor = 0.0;
  // Reuse the KV blocks of prompt prefixes computed before (see the contract above).
  bool prefix_caching = true;
  // Most tokens (prompt and generated) of all running sequences together; 0: only the KV cache
  // bounds it.
  int64_t max_batch_total_tokens = 0;
  int64_t max_running = 256;
  // Most distinct adapters with running sequences at once (the base model takes no slot).
  int64_t max_active_adapters = 128;
  // Adapter cycling (LoRAX): once an adapter has held its slot this long while requests for
  // adapters without a slot wait, it admits no new requests until it drains and frees the slot.
  std::chrono::milliseconds adapter_cycle_time{2000};
  // Speculative decoding: every decoding sequence proposes up to this many draft tokens a step
  // (prompt lookup, speculation.h) and the step verifies them (see the contract above); 0: off.
  int64_t speculative_tokens = 0;
  // Speculation pauses while more sequences than this decode at once (LoRAX's default): a large
  // batch is no longer bound by reading the weights, so verifying drafts would slow it down.
  int64_t speculation_max_batch_size = 32;
  // Where drafts come from: the request's id, its tokens so far and the most drafts wanted.
  // Empty: prompt lookup (speculation.h). Benchmarks plug in drafters of known accuracy.
  using DraftProposer = std::function<std::vector<int32_t>(
      uint64_t request_id, std::span<const int32_t> tokens, int64_t max_drafts)>;
  DraftProposer draft_proposer;

  // Most rows one step can hold, which the model's workspace is planned for: a chunked step
  // carries a full prefill budget beside a decode token of every running sequence, and the
  // drafts of the speculating ones.
  int64_t max_step_tokens() const {
    const int64_t drafts = speculative_tokens * std::min(max_running, speculation_max_batch_size);
    return (chunked_prefill ? max_batch_prefill_tokens + max_running
                            : std::max(max_batch_prefill_tokens, max_running)) +
           drafts;
  }
};

struct EngineStats {
  int64_t waiting = 0;
  int64_t running = 0;
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_free = 0;
  int64_t preemptions = 0;
  int64_t prefill_steps = 0;
  int64_t decode_steps = 0;
  int64_t last_batch_sequences = 0;  // sequences in the most recent step
  int64_t last_batch_tokens = 0;     // tokens in the most recent step
  int64_t prompt_tokens = 0;         // tokens prefilled (recomputation included, cache hits not)
  int64_t generated_tokens = 0;
  int64_t prefix_cache_hit_tokens = 0;  // prompt tokens read from the prefix cache
  int64_t prefix_cache_hit_blocks = 0;
  int64_t prefix_cache_blocks = 0;     // blocks published in the prefix cache now
  int64_t prefix_cache_evictions = 0;  // published blocks given to other sequences
  int64_t drafts_proposed = 0;         // speculative draft tokens verified
  int64_t drafts_accepted = 0;         // of those, the ones the model chose too
  int64_t verification_steps = 0;      // sequence-steps that verified at least one draft
};

// What the latest step() did, for step metrics (LoRAX's lorax_batch_* series).
struct StepInfo {
  bool prefill = false;      // the step read prompt tokens (a chunk longer than one token)
  int64_t admitted = 0;      // waiting requests it admitted: a new batch joining the running one
  int64_t was_running = 0;   // sequences running before it admitted them
  bool ran_forward = false;  // it ran the model (a step with nothing to do does not)
};

class Engine {
 public:
  Engine(CausalLM& model, const EngineOptions& options);

  // Throws lorax::Error saying what is wrong with a request. Reads only immutable state, so any
  // thread may call it.
  void validate(const GenerationRequest& request) const;
  // Validates and queues a request; throws lorax::Error saying what is wrong with it.
  uint64_t add(GenerationRequest request);
  void cancel(uint64_t request_id);  // frees its blocks at once; no further output
  bool has_work() const { return !waiting_.empty() || !running_.empty(); }
  std::vector<StepOutput> step();
  // Loads adapters into free slots of the model's pool ahead of their first step (benchmarks
  // and preloaded adapters); at most as many as the pool has slots.
  void warm_adapters(const std::vector<std::shared_ptr<const LoraAdapter>>& adapters);
  EngineStats stats() const;
  const StepInfo& last_step() const { return last_step_; }
  const CausalLM& model() const { return model_; }
  const PagedKvCache& kv_cache() const { return cache_; }

 private:
  struct Sequence {
    uint64_t id = 0;
    GenerationRequest request;
    std::vector<int32_t> tokens;  // prompt, then generated tokens
    int64_t prompt_len = 0;
    int64_t num_cached = 0;  // tokens whose K/V are in the cache
    std::vector<int32_t> block_table;
    uint64_t owner = 0;  // the adapter's identity in the prefix cache, 0: the base model
    std::vector<uint64_t> block_hashes;  // hash chain of its full blocks matched or published
    int64_t cached_tokens = -1;          // matched at first admission; -1: not admitted yet
    std::chrono::steady_clock::time_point started_at;  // the start of its first admitting step
    bool prefilling = true;  // reading its tokens since (re)admission: no token sampled yet
    bool prompt_logprobs_done = false;
    // Prompt log-probabilities gathered chunk by chunk, entry j for prompt token j.
    std::vector<std::optional<TokenLogprob>> prompt_logprobs;
    // Where the generated text is in the request's constraint; null when it has none.
    std::unique_ptr<structured::ConstraintState> constraint;
    // The model's speculative heads' guesses at the tokens after its last one (their drafts).
    std::vector<int32_t> head_drafts;
    bool wants_prompt_logprobs() const { return request.prompt_logprobs && !prompt_logprobs_done; }
    int64_t generated() const { return int64_t(tokens.size()) - prompt_len; }
  };
  using SequencePtr = std::unique_ptr<Sequence>;

  // Tokens [begin, begin + len) of a sequence, computed by one step.
  struct Chunk {
    Sequence* seq = nullptr;
    int64_t begin = 0;
    int64_t len = 0;
    int64_t drafts = 0;  // the chunk's last tokens are speculative drafts to verify
    int64_t end() const { return begin + len; }
    bool samples() const { return end() == int64_t(seq->tokens.size()); }
  };

  std::vector<StepOutput> unchunked_step();
  std::vector<StepOutput> chunked_step();
  // Moves admitted requests into running_ and gives each a first chunk from the budget.
  std::vector<Chunk> admit(StepTokenBudget& budget);
  // One forward pass over the chunks, sampling, and the outputs of the step.
  std::vector<StepOutput> run_chunks(std::vector<Chunk> chunks);
  // Speculation: whether a step with `decodes` decoding sequences speculates; the decode chunk
  // of a running sequence, with its drafts appended to its tokens when it speculates.
  bool speculates(int64_t decodes) const;
  Chunk decode_chunk(Sequence& seq, bool speculate);
  int64_t add_drafts(Sequence& seq);
  // The speculative heads' guesses at the tokens after the one sampled from logits row `row`.
  void keep_head_drafts(Sequence& seq, size_t row);
  // Keeps the drafts the model agreed with, plus its own token after them: one output each.
  void finish_verification(const Chunk& chunk, std::vector<TokenLogprob>& sampled, size_t& next,
                           std::vector<StepOutput>& outputs);
  // The flat batch of the chunks, the sampling row of every logits row it asks for, and which
  // of those rows choose a constrained sequence's next token.
  ForwardBatch build_batch(const std::vector<Chunk>& chunks, std::vector<SampleRow>& rows,
                           std::vector<StepMasks::Row>& constrained);
  // Takes the chunk's sampled rows from sampled[next...]: its prompt rows, then its next token.
  StepOutput finish_chunk(const Chunk& chunk, std::vector<TokenLogprob>& sampled, size_t& next);
  // Adds the chunk's prompt rows to the sequence's; true once its whole prompt is in.
  bool gather_prompt_logprobs(const Chunk& chunk, std::vector<TokenLogprob>& sampled, size_t& next);
  // Adapters with running sequences (the base, nullptr, is not counted), and since when.
  void refresh_active_adapters();
  bool may_admit_adapter(const LoraAdapter* adapter, bool someone_lacks_a_slot,
                         std::chrono::steady_clock::time_point now) const;
  int64_t running_tokens() const;
  // Matches a waiting sequence's cached prefix and takes the blocks and the budget for the
  // rest; the length of its first chunk, or 0 (holding nothing) when it does not fit now.
  int64_t take_room(Sequence& seq, StepTokenBudget& budget, int64_t total_tokens);
  // Prefix cache: an adapter's owner key, the keys of a sequence's first full blocks, taking a
  // waiting sequence's cached prefix, publishing what a step computed, and retiring adapters
  // nobody holds any more.
  uint64_t owner_key(const std::shared_ptr<const LoraAdapter>& adapter);
  KvBlockKey block_key(const Sequence& seq, int64_t block) const;
  void match_prefix(Sequence& seq);
  void publish_blocks(Sequence& seq);
  void retire_dropped_adapters();
  bool reserve_decode_slots();
  void preempt(SequencePtr seq);
  void fill_tables(ForwardBatch& batch, const std::vector<Chunk>& chunks) const;
  // Orders a step's chunks so each adapter's rows are contiguous (one segment per adapter).
  static void group_by_adapter(std::vector<Chunk>& chunks);
  // Adapter slot of every token of the batch, given how many tokens each sequence contributes;
  // loads the step's adapters into slots of the model's pool first.
  void fill_adapters(ForwardBatch& batch, const std::vector<Sequence*>& seqs,
                     const std::vector<int64_t>& tokens_per_seq);
  int32_t adapter_slot(const std::shared_ptr<const LoraAdapter>& adapter,
                       const std::vector<Sequence*>& step);
  int32_t slot_of(const Sequence& seq, int64_t position) const;
  // The sampling row that chooses the token after the first `length` of a sequence's tokens.
  static SampleRow token_row(const Sequence& seq, int64_t length);
  // Appends a chosen token, decides whether the sequence is finished.
  StepOutput advance(Sequence& seq, TokenLogprob token);
  void retire_finished(std::vector<StepOutput>& outputs);

  CausalLM& model_;
  EngineOptions options_;
  PagedKvCache cache_;
  std::vector<int32_t> eos_ids_;
  DecodePace pace_;  // sizes prompt chunks beside decodes from measured step times
  uint64_t next_id_ = 1;
  std::deque<SequencePtr> waiting_;
  std::vector<SequencePtr> running_;  // in admission order: the newest is last
  std::map<const LoraAdapter*, std::chrono::steady_clock::time_point> active_since_;
  // The model's adapter pool: which adapter each slot holds (kept alive while it does, so its
  // address cannot be reused by another) and when a step last used it.
  std::vector<std::shared_ptr<const LoraAdapter>> slot_adapter_;
  std::vector<uint64_t> slot_used_;
  uint64_t step_counter_ = 0;
  std::chrono::steady_clock::time_point step_started_;  // when the current step() began
  // Prefix-cache identity of every adapter seen: a weak reference tells a live object from a
  // new one at the same address.
  struct Owner {
    std::weak_ptr<const LoraAdapter> adapter;
    uint64_t key = 0;
  };
  std::map<const LoraAdapter*, Owner> owners_;
  uint64_t next_owner_key_ = 1;
  EngineStats counters_;
  StepInfo last_step_;
  // The step's speculative heads' argmax, [logits rows, heads] (empty without heads).
  std::vector<int32_t> head_guesses_;
  int64_t head_count_ = 0;
  // Constraint states after each verified draft of the step (their rows' masks read them).
  std::vector<std::unique_ptr<structured::ConstraintState>> draft_states_;
  StepMasks masks_;  // last: its worker thread reads sequences and eos_ids_ until it stops
};

}  // namespace lorax
