// Constraints on generated text as token masks: compile a JSON Schema, a regex or a grammar
// against a tokenizer's vocabulary once (Constraint), then give each sequence its own
// ConstraintState that says which tokens may come next and advances as tokens are chosen.
//
//   auto trie = TokenTrie::from_tokenizer(tokenizer);            // once per tokenizer
//   auto c = Constraint::from_json_schema(schema, trie, opts);   // once per schema
//   ConstraintState s(c);                                        // once per sequence
//   s.fill_mask(bits);   // bit id of bits[id / 32] set: token id allowed
//   s.commit(token);     // after sampling
//   s.is_accepting();    // EOS allowed (the text so far is complete)
//
// How: every source compiles to one ByteGraph (byte_graph.h), a pushdown automaton over bytes.
// The Constraint determinizes it lazily: a state is the set of (node, call stack) pairs the
// bytes so far can be in, interned, with a 256-entry transition row filled on first use. A mask
// walks the token trie taking one cached transition per trie node, and masks are cached per
// state, so a state seen before costs a copy.
//
// Thread safety: a Constraint is shared by its sequences; its caches grow under a mutex, so
// states of one Constraint may be used from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "structured/byte_graph.h"
#include "structured/token_trie.h"

namespace lorax::structured {

struct ConstraintOptions {
  // Whitespace characters allowed between JSON tokens (after `{`, around `:` and `,`, ...).
  // Bounded so a model cannot stall in whitespace; 0 gives compact JSON only.
  int max_whitespace = 8;
  // Tokens allowed (and accepted by commit) when the text is complete, e.g. the EOS ids.
  std::vector<int32_t> stop_tokens;
  // Compilation gives up beyond these (the error names the limit).
  double compile_seconds = 10.0;
  size_t max_graph_nodes = 4'000'000;
  // Masks kept per Constraint for states seen again (each is vocab/8 bytes).
  size_t mask_cache_entries = 1024;
};

class Constraint {
 public:
  // Throws lorax::Error naming the keyword (or construct) that cannot be honoured.
  static std::shared_ptr<Constraint> from_json_schema(const nlohmann::json& schema,
                                                      std::shared_ptr<const TokenTrie> trie,
                                                      const ConstraintOptions& options = {});
  // Full match of an ECMAScript-style regex over the generated text.
  static std::shared_ptr<Constraint> from_regex(std::string_view pattern,
                                                std::shared_ptr<const TokenTrie> trie,
                                                const ConstraintOptions& options = {});
  // A GBNF-like grammar (grammar_compiler.h); generation starts at `root`.
  static std::shared_ptr<Constraint> from_grammar(std::string_view grammar,
                                                  std::shared_ptr<const TokenTrie> trie,
                                                  const ConstraintOptions& options = {});

  Constraint(ByteGraph graph, int32_t root_rule, std::shared_ptr<const TokenTrie> trie,
             const ConstraintOptions& options);

  static constexpr int32_t kDead = -1;
  int32_t initial_state();
  // The state after `bytes` from `state`, or kDead.
  int32_t advance(int32_t state, std::string_view bytes);
  bool accepting(int32_t state);
  // Sets bit id of bits[id / 32] for every token allowed in `state`; mask_words() words.
  void fill_mask(int32_t state, uint32_t* bits);
  size_t mask_words() const { return trie_->mask_words(); }
  const TokenTrie& trie() const { return *trie_; }
  const ConstraintOptions& options() const { return options_; }
  // Determinized states made so far (for tests and benchmarks).
  size_t state_count();

 private:
  struct State {
    std::vector<uint64_t>
        kernel;  // sorted (node << 32 | stack) pairs with byte edges or at the end
    bool accepting = false;
  };
  struct KernelHash {
    size_t operator()(const std::vector<uint64_t>& k) const;
  };
  static constexpr int32_t kUnknown = -2;

  int32_t step(int32_t state, uint8_t byte);
  int32_t intern(std::vector<uint64_t>& seeds);
  uint32_t push_stack(int32_t return_to, uint32_t parent);
  void walk_trie(int32_t state, uint32_t* bits);

  std::mutex mutex_;
  ByteGraph graph_;
  int32_t root_rule_;
  std::shared_ptr<const TokenTrie> trie_;
  ConstraintOptions options_;
  int32_t initial_ = kUnknown;
  std::vector<State> states_;
  std::vector<int32_t> transitions_;  // [states_.size() * 256]
  std::unordered_map<std::vector<uint64_t>, int32_t, KernelHash> state_ids_;
  std::vector<std::pair<int32_t, uint32_t>> stacks_;  // [id] = (return node, parent id); 0 empty
  std::unordered_map<uint64_t, uint32_t> stack_ids_;
  std::unordered_map<int32_t, std::vector<uint32_t>> mask_cache_;
  std::vector<int32_t> walk_states_;           // scratch: state per trie depth
  std::unordered_set<uint64_t> closure_seen_;  // scratch of intern()
};

// One sequence's position in a Constraint. Not thread-safe; one per sequence.
class ConstraintState {
 public:
  explicit ConstraintState(std::shared_ptr<Constraint> constraint);

  // Fills mask_words() uint32 words: bit id set when token id may come next.
  void fill_mask(uint32_t* bits);
  // Advances by `token`; false (state unchanged) when the token is not allowed.
  bool commit(int32_t token);
  // Whether the text so far is complete (a stop token may come now).
  bool is_accepting() const;
  // True after a stop token was committed: nothing may follow.
  bool is_finished() const { return finished_; }
  size_t mask_words() const { return constraint_->mask_words(); }

 private:
  std::shared_ptr<Constraint> constraint_;
  int32_t state_;
  bool finished_ = false;
};

}  // namespace lorax::structured
