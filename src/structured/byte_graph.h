// The one representation every constraint compiles to: a byte-level pushdown automaton (a
// recursive transition network). JSON Schema, regexes and grammars all become nodes joined by
// byte-range edges, epsilon edges and calls; a call pushes a return node and jumps to a rule's
// start, a node marked `ret` pops it.
//
// Why bytes rather than a lexer over lexemes plus a parser over them: the runtime determinizes
// this automaton lazily (constraint.h), so a byte step is one table lookup once a state has been
// seen, which is what a lexer DFA would give, without the lexeme/parser split. Nodes may be
// expanded on first use (`expand`), which keeps objects whose properties come in any order from
// needing one node per subset of properties up front.
//
// No JSON-Schema-to-automaton library is packaged for Debian, so this layer is written here.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace lorax::structured {

struct ByteEdge {
  uint8_t lo = 0;  // inclusive byte range
  uint8_t hi = 0;
  int32_t target = -1;
};

struct CallEdge {
  int32_t callee = -1;     // start node of the called rule
  int32_t return_to = -1;  // where the caller resumes after the rule's `ret` node
};

class ByteGraph;
using NodeExpander = std::function<void(ByteGraph&, int32_t self)>;

struct GraphNode {
  std::vector<ByteEdge> bytes;
  std::vector<int32_t> epsilons;
  std::vector<CallEdge> calls;
  bool ret = false;     // reaching it returns from the current rule (accepts at top level)
  NodeExpander expand;  // set on nodes whose edges are made on first use
};

// A piece of automaton with one entry and one exit (the exit has no edges yet).
struct Fragment {
  int32_t start = -1;
  int32_t end = -1;
};

class ByteGraph {
 public:
  int32_t add_node();
  void add_bytes(int32_t from, uint8_t lo, uint8_t hi, int32_t to);
  void add_epsilon(int32_t from, int32_t to);
  void add_call(int32_t from, int32_t callee, int32_t return_to);
  // Makes a fragment callable: its exit becomes a `ret` node; returns its start.
  int32_t make_rule(Fragment f);
  // Completes a rule whose start node was added before its body was built (so that the body can
  // call it recursively): start leads into the body, and the body's exit returns.
  void define_rule(int32_t start, Fragment body);

  Fragment literal(std::string_view bytes);
  Fragment sequence(const std::vector<Fragment>& parts);
  Fragment alternatives(const std::vector<Fragment>& parts);
  // A fragment that matches nothing (no path from start to end).
  Fragment never();
  Fragment call(int32_t rule_start);

  // Runs a lazy node's expander once; afterwards its edges are final.
  void ensure_expanded(int32_t node);
  const GraphNode& node(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
  GraphNode& node(int32_t id) { return nodes_[static_cast<size_t>(id)]; }
  size_t size() const { return nodes_.size(); }

 private:
  std::vector<GraphNode> nodes_;
};

// Whether `fragment`, which must be made of byte and epsilon edges only (a compiled regex),
// matches `bytes` from start to end.
bool fragment_matches(ByteGraph& graph, Fragment fragment, std::string_view bytes);

// A fragment matching exactly what both `a` and `b` match (the product automaton, with the
// states that cannot reach the end pruned so no prefix leads into a dead end). Both must be
// made of byte and epsilon edges only. Throws lorax::Error beyond `max_nodes` product states.
Fragment intersect(ByteGraph& graph, Fragment a, Fragment b, size_t max_nodes);

// A fragment matching every byte string `f` does not match (subset construction, then the
// accepting states flipped). `f` must be made of byte and epsilon edges only. Throws
// lorax::Error beyond `max_states` deterministic states.
Fragment complement(ByteGraph& graph, Fragment f, size_t max_states);

// Appends to `out` the byte-range sequences whose UTF-8 strings are exactly the code points in
// [lo, hi] (surrogates excluded by the caller); each sequence is one range per byte.
void utf8_sequences(uint32_t lo, uint32_t hi,
                    std::vector<std::vector<std::pair<uint8_t, uint8_t>>>& out);

}  // namespace lorax::structured
