#include "structured/constraint.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "structured/grammar_compiler.h"
#include "structured/json_schema_compiler.h"
#include "structured/regex_compiler.h"

namespace lorax::structured {
namespace {

// A closure bigger than this is a grammar that recurses without consuming input (left
// recursion) or an ambiguity explosion: refused rather than looping.
constexpr size_t kMaxClosure = 200'000;

uint64_t config(int32_t node, uint32_t stack) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(node)) << 32) | stack;
}
int32_t config_node(uint64_t c) {
  return static_cast<int32_t>(c >> 32);
}
uint32_t config_stack(uint64_t c) {
  return static_cast<uint32_t>(c);
}

}  // namespace

std::shared_ptr<Constraint> Constraint::from_json_schema(const nlohmann::json& schema,
                                                         std::shared_ptr<const TokenTrie> trie,
                                                         const ConstraintOptions& options) {
  ByteGraph graph;
  JsonSchemaOptions o;
  o.max_whitespace = options.max_whitespace;
  o.compile_seconds = options.compile_seconds;
  o.max_graph_nodes = options.max_graph_nodes;
  int32_t root = compile_json_schema(graph, schema, o);
  auto c = std::make_shared<Constraint>(std::move(graph), root, std::move(trie), options);
  c->initial_state();  // a schema that recurses without consuming input fails here
  return c;
}

std::shared_ptr<Constraint> Constraint::from_regex(std::string_view pattern,
                                                   std::shared_ptr<const TokenTrie> trie,
                                                   const ConstraintOptions& options) {
  ByteGraph graph;
  RegexLimits limits;
  limits.max_graph_nodes = options.max_graph_nodes;
  int32_t root = graph.make_rule(compile_regex(graph, pattern, RegexMode::kRaw, limits));
  return std::make_shared<Constraint>(std::move(graph), root, std::move(trie), options);
}

std::shared_ptr<Constraint> Constraint::from_grammar(std::string_view grammar,
                                                     std::shared_ptr<const TokenTrie> trie,
                                                     const ConstraintOptions& options) {
  ByteGraph graph;
  int32_t root = compile_grammar(graph, grammar, options.max_graph_nodes);
  auto c = std::make_shared<Constraint>(std::move(graph), root, std::move(trie), options);
  c->initial_state();
  return c;
}

Constraint::Constraint(ByteGraph graph, int32_t root_rule, std::shared_ptr<const TokenTrie> trie,
                       const ConstraintOptions& options)
    : graph_(std::move(graph)), root_rule_(root_rule), trie_(std::move(trie)), options_(options) {
  stacks_.emplace_back(-1, 0);  // id 0: the empty stack
  walk_states_.resize(trie_->max_depth() + 1);
}

size_t Constraint::KernelHash::operator()(const std::vector<uint64_t>& k) const {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ k.size();
  for (uint64_t v : k) h = (h ^ v) * 0xBF58476D1CE4E5B9ull + (h >> 29);
  return static_cast<size_t>(h);
}

uint32_t Constraint::push_stack(int32_t return_to, uint32_t parent) {
  uint64_t key = config(return_to, parent);
  auto [it, inserted] = stack_ids_.emplace(key, static_cast<uint32_t>(stacks_.size()));
  if (inserted) stacks_.emplace_back(return_to, parent);
  return it->second;
}

// Follows epsilons, calls and returns from `seeds` to the configurations that read a byte (the
// kernel), then interns the kernel as a state.
int32_t Constraint::intern(std::vector<uint64_t>& work) {
  std::vector<uint64_t> kernel;
  std::unordered_set<uint64_t>& seen = closure_seen_;
  seen.clear();
  bool accepting = false;
  while (!work.empty()) {
    uint64_t c = work.back();
    work.pop_back();
    if (!seen.insert(c).second) continue;
    LORAX_CHECK(seen.size() < kMaxClosure,
                "constraint: the grammar recurses without consuming input (left recursion)");
    int32_t node = config_node(c);
    uint32_t stack = config_stack(c);
    graph_.ensure_expanded(node);
    const GraphNode& n = graph_.node(node);
    if (!n.bytes.empty()) kernel.push_back(c);
    for (int32_t e : n.epsilons) work.push_back(config(e, stack));
    for (const CallEdge& call : n.calls) {
      work.push_back(config(call.callee, push_stack(call.return_to, stack)));
    }
    if (n.ret && stack == 0) {
      accepting = true;
      kernel.push_back(c);
    } else if (n.ret) {
      work.push_back(config(stacks_[stack].first, stacks_[stack].second));
    }
  }
  if (kernel.empty()) return kDead;
  std::sort(kernel.begin(), kernel.end());
  auto it = state_ids_.find(kernel);
  if (it != state_ids_.end()) return it->second;
  auto id = static_cast<int32_t>(states_.size());
  state_ids_.emplace(kernel, id);
  states_.push_back({std::move(kernel), accepting});
  transitions_.resize(states_.size() * 256, kUnknown);
  return id;
}

int32_t Constraint::step(int32_t state, uint8_t byte) {
  size_t slot = static_cast<size_t>(state) * 256 + byte;
  int32_t next = transitions_[slot];
  if (next != kUnknown) return next;
  std::vector<uint64_t> seeds;
  for (uint64_t c : states_[static_cast<size_t>(state)].kernel) {
    for (const ByteEdge& e : graph_.node(config_node(c)).bytes) {
      if (e.lo <= byte && byte <= e.hi) seeds.push_back(config(e.target, config_stack(c)));
    }
  }
  next = seeds.empty() ? kDead : intern(seeds);
  transitions_[slot] = next;  // after intern: it may have grown transitions_
  return next;
}

int32_t Constraint::initial_state() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (initial_ == kUnknown) {
    std::vector<uint64_t> seeds{config(root_rule_, 0)};
    initial_ = intern(seeds);
  }
  return initial_;
}

int32_t Constraint::advance(int32_t state, std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (char b : bytes) {
    if (state == kDead) break;
    state = step(state, static_cast<uint8_t>(b));
  }
  return state;
}

bool Constraint::accepting(int32_t state) {
  std::lock_guard<std::mutex> lock(mutex_);
  return state != kDead && states_[static_cast<size_t>(state)].accepting;
}

size_t Constraint::state_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  return states_.size();
}

void Constraint::walk_trie(int32_t state, uint32_t* bits) {
  const auto& nodes = trie_->nodes();
  const auto& ids = trie_->token_ids();
  walk_states_[0] = state;
  for (size_t i = 1; i < nodes.size();) {
    const TokenTrie::Node& n = nodes[i];
    int32_t from = walk_states_[n.depth - 1u];
    int32_t next = transitions_[static_cast<size_t>(from) * 256 + n.byte];  // the common case
    if (next == kUnknown) next = step(from, n.byte);
    if (next == kDead) {
      i = n.subtree_end;  // no token with this prefix can be allowed
      continue;
    }
    walk_states_[n.depth] = next;
    for (uint32_t t = n.tokens_begin; t < n.tokens_end; ++t) {
      auto id = static_cast<uint32_t>(ids[t]);
      bits[id >> 5] |= 1u << (id & 31);
    }
    ++i;
  }
}

void Constraint::fill_mask(int32_t state, uint32_t* bits) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t words = trie_->mask_words();
  std::memset(bits, 0, words * sizeof(uint32_t));
  if (state == kDead) return;
  auto cached = mask_cache_.find(state);
  if (cached != mask_cache_.end()) {
    std::memcpy(bits, cached->second.data(), words * sizeof(uint32_t));
    return;
  }
  walk_trie(state, bits);
  if (states_[static_cast<size_t>(state)].accepting) {
    for (int32_t id : options_.stop_tokens) {
      if (id >= 0 && static_cast<size_t>(id) < trie_->vocab_size())
        bits[id >> 5] |= 1u << (id & 31);
    }
  }
  if (mask_cache_.size() < options_.mask_cache_entries) {
    mask_cache_.emplace(state, std::vector<uint32_t>(bits, bits + words));
  }
}

ConstraintState::ConstraintState(std::shared_ptr<Constraint> constraint)
    : constraint_(std::move(constraint)), state_(constraint_->initial_state()) {}

void ConstraintState::fill_mask(uint32_t* bits) {
  if (finished_) {
    std::memset(bits, 0, constraint_->mask_words() * sizeof(uint32_t));
    return;
  }
  constraint_->fill_mask(state_, bits);
}

bool ConstraintState::commit(int32_t token) {
  if (finished_ || token < 0 || static_cast<size_t>(token) >= constraint_->trie().vocab_size())
    return false;
  const auto& stops = constraint_->options().stop_tokens;
  if (std::find(stops.begin(), stops.end(), token) != stops.end()) {
    if (!constraint_->accepting(state_)) return false;
    finished_ = true;
    return true;
  }
  const std::string& bytes = constraint_->trie().bytes(token);
  if (bytes.empty()) return false;
  int32_t next = constraint_->advance(state_, bytes);
  if (next == Constraint::kDead) return false;
  state_ = next;
  return true;
}

bool ConstraintState::is_accepting() const {
  return finished_ || constraint_->accepting(state_);
}

}  // namespace lorax::structured
