#include "structured/byte_graph.h"

#include "core/error.h"

#include <algorithm>
#include <map>
#include <utility>

namespace lorax::structured {

int32_t ByteGraph::add_node() {
  nodes_.emplace_back();
  return static_cast<int32_t>(nodes_.size() - 1);
}

void ByteGraph::add_bytes(int32_t from, uint8_t lo, uint8_t hi, int32_t to) {
  node(from).bytes.push_back({lo, hi, to});
}

void ByteGraph::add_epsilon(int32_t from, int32_t to) {
  node(from).epsilons.push_back(to);
}

void ByteGraph::add_call(int32_t from, int32_t callee, int32_t return_to) {
  node(from).calls.push_back({callee, return_to});
}

int32_t ByteGraph::make_rule(Fragment f) {
  node(f.end).ret = true;
  return f.start;
}

void ByteGraph::define_rule(int32_t start, Fragment body) {
  const int32_t end = add_node();
  add_epsilon(start, body.start);
  add_epsilon(body.end, end);
  node(end).ret = true;
}

Fragment ByteGraph::literal(std::string_view bytes) {
  int32_t start = add_node();
  int32_t at = start;
  for (char c : bytes) {
    int32_t next = add_node();
    auto b = static_cast<uint8_t>(c);
    add_bytes(at, b, b, next);
    at = next;
  }
  return {start, at};
}

Fragment ByteGraph::sequence(const std::vector<Fragment>& parts) {
  if (parts.empty()) {
    int32_t n = add_node();
    return {n, n};
  }
  for (size_t i = 1; i < parts.size(); ++i) add_epsilon(parts[i - 1].end, parts[i].start);
  return {parts.front().start, parts.back().end};
}

Fragment ByteGraph::alternatives(const std::vector<Fragment>& parts) {
  Fragment f{add_node(), add_node()};
  for (const Fragment& p : parts) {
    add_epsilon(f.start, p.start);
    add_epsilon(p.end, f.end);
  }
  return f;
}

Fragment ByteGraph::never() {
  return {add_node(), add_node()};
}

Fragment ByteGraph::call(int32_t rule_start) {
  Fragment f{add_node(), add_node()};
  add_call(f.start, rule_start, f.end);
  return f;
}

void ByteGraph::ensure_expanded(int32_t id) {
  if (!node(id).expand) return;
  NodeExpander expand = std::move(node(id).expand);
  node(id).expand = nullptr;
  expand(*this, id);  // may add nodes: no references into nodes_ are held across it
}

namespace {

void epsilon_closure(ByteGraph& g, std::vector<int32_t>& set) {
  std::vector<int32_t> work = set;
  std::vector<bool> seen(g.size(), false);
  for (int32_t n : set) seen[static_cast<size_t>(n)] = true;
  while (!work.empty()) {
    int32_t n = work.back();
    work.pop_back();
    for (int32_t e : g.node(n).epsilons) {
      if (seen[static_cast<size_t>(e)]) continue;
      seen[static_cast<size_t>(e)] = true;
      set.push_back(e);
      work.push_back(e);
    }
  }
}

}  // namespace

bool fragment_matches(ByteGraph& g, Fragment f, std::string_view bytes) {
  std::vector<int32_t> set{f.start};
  epsilon_closure(g, set);
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    std::vector<int32_t> next;
    for (int32_t n : set) {
      for (const ByteEdge& e : g.node(n).bytes) {
        if (e.lo <= b && b <= e.hi) next.push_back(e.target);
      }
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    set = std::move(next);
    epsilon_closure(g, set);
  }
  return std::find(set.begin(), set.end(), f.end) != set.end();
}

namespace {

// Drops the edges of product nodes [first, graph.size()) that lead to nodes from which `end`
// cannot be reached.
void prune_dead_ends(ByteGraph& g, int32_t first, int32_t end) {
  auto count = static_cast<size_t>(static_cast<int32_t>(g.size()) - first);
  std::vector<std::vector<int32_t>> reverse(count);
  auto local = [&](int32_t n) { return static_cast<size_t>(n - first); };
  for (int32_t n = first; n < static_cast<int32_t>(g.size()); ++n) {
    for (int32_t e : g.node(n).epsilons) reverse[local(e)].push_back(n);
    for (const ByteEdge& e : g.node(n).bytes) reverse[local(e.target)].push_back(n);
  }
  std::vector<bool> live(count, false);
  std::vector<int32_t> work{end};
  live[local(end)] = true;
  while (!work.empty()) {
    int32_t n = work.back();
    work.pop_back();
    for (int32_t p : reverse[local(n)]) {
      if (!live[local(p)]) live[local(p)] = true, work.push_back(p);
    }
  }
  for (int32_t n = first; n < static_cast<int32_t>(g.size()); ++n) {
    auto& node = g.node(n);
    std::erase_if(node.epsilons, [&](int32_t t) { return !live[local(t)]; });
    std::erase_if(node.bytes, [&](const ByteEdge& e) { return !live[local(e.target)]; });
  }
}

}  // namespace

Fragment intersect(ByteGraph& g, Fragment a, Fragment b, size_t max_nodes) {
  const auto first = static_cast<int32_t>(g.size());
  std::map<std::pair<int32_t, int32_t>, int32_t> ids;
  std::vector<std::pair<int32_t, int32_t>> work;
  auto product = [&](int32_t x, int32_t y) {
    auto [it, inserted] = ids.emplace(std::make_pair(x, y), -1);
    if (inserted) {
      it->second = g.add_node();
      work.emplace_back(x, y);
    }
    return it->second;
  };
  int32_t start = product(a.start, b.start);
  while (!work.empty()) {
    auto [x, y] = work.back();
    work.pop_back();
    if (ids.size() > max_nodes) fail("the intersection of two constraints is too large");
    int32_t self = ids[{x, y}];
    std::vector<int32_t> ex = g.node(x).epsilons, ey = g.node(y).epsilons;
    std::vector<ByteEdge> bx = g.node(x).bytes, by = g.node(y).bytes;  // g grows below
    for (int32_t e : ex) g.add_epsilon(self, product(e, y));
    for (int32_t e : ey) g.add_epsilon(self, product(x, e));
    for (const ByteEdge& p : bx) {
      for (const ByteEdge& q : by) {
        uint8_t lo = std::max(p.lo, q.lo), hi = std::min(p.hi, q.hi);
        if (lo <= hi) g.add_bytes(self, lo, hi, product(p.target, q.target));
      }
    }
  }
  int32_t end = g.add_node();
  auto both_end = ids.find({a.end, b.end});
  if (both_end != ids.end()) g.add_epsilon(both_end->second, end);
  prune_dead_ends(g, first, end);
  return {start, end};
}

Fragment complement(ByteGraph& g, Fragment f, size_t max_states) {
  int32_t end = g.add_node();
  int32_t sink = g.add_node();  // nothing of `f` can follow: anything goes
  g.add_bytes(sink, 0, 255, sink);
  g.add_epsilon(sink, end);
  std::map<std::vector<int32_t>, int32_t> ids;
  std::vector<std::vector<int32_t>> work;
  auto state = [&](std::vector<int32_t> set) {
    epsilon_closure(g, set);
    std::sort(set.begin(), set.end());
    auto [it, inserted] = ids.emplace(set, -1);
    if (inserted) {
      it->second = g.add_node();
      work.push_back(std::move(set));
      LORAX_CHECK(ids.size() <= max_states, "the complement of a pattern is too large");
    }
    return it->second;
  };
  int32_t start = state({f.start});
  while (!work.empty()) {
    std::vector<int32_t> set = std::move(work.back());
    work.pop_back();
    int32_t self = ids[set];
    if (std::find(set.begin(), set.end(), f.end) == set.end()) g.add_epsilon(self, end);
    std::vector<int32_t> targets(256, sink);
    for (int b = 0; b < 256; ++b) {
      std::vector<int32_t> next;
      for (int32_t n : set) {
        for (const ByteEdge& e : g.node(n).bytes) {
          if (e.lo <= b && b <= e.hi) next.push_back(e.target);
        }
      }
      if (!next.empty()) targets[static_cast<size_t>(b)] = state(std::move(next));
    }
    for (int b = 0; b < 256;) {  // runs of bytes with one target become one edge
      int e = b;
      while (e + 1 < 256 && targets[static_cast<size_t>(e + 1)] == targets[static_cast<size_t>(b)])
        ++e;
      g.add_bytes(self, static_cast<uint8_t>(b), static_cast<uint8_t>(e),
                  targets[static_cast<size_t>(b)]);
      b = e + 1;
    }
  }
  return {start, end};
}

namespace {

int utf8_length(uint32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

void encode_utf8(uint32_t cp, uint8_t* out) {
  int n = utf8_length(cp);
  if (n == 1) {
    out[0] = static_cast<uint8_t>(cp);
    return;
  }
  static constexpr uint8_t kLead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
  for (int i = n - 1; i > 0; --i) {
    out[i] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    cp >>= 6;
  }
  out[0] = static_cast<uint8_t>(kLead[n] | cp);
}

}  // namespace

// The split of Rust's regex-syntax Utf8Sequences: cut the range at encoding-length boundaries,
// then wherever the continuation bytes of lo and hi do not span their full 0x80..0xBF range,
// until each piece is a product of byte ranges.
void utf8_sequences(uint32_t lo, uint32_t hi,
                    std::vector<std::vector<std::pair<uint8_t, uint8_t>>>& out) {
  if (lo > hi) return;
  static constexpr uint32_t kMax[3] = {0x7F, 0x7FF, 0xFFFF};
  for (uint32_t m : kMax) {
    if (lo <= m && hi > m) {
      utf8_sequences(lo, m, out);
      utf8_sequences(m + 1, hi, out);
      return;
    }
  }
  int n = utf8_length(lo);
  for (int i = 1; i < n; ++i) {
    uint32_t mask = (1u << (6 * i)) - 1;
    if ((lo & ~mask) != (hi & ~mask)) {
      if ((lo & mask) != 0) {
        utf8_sequences(lo, lo | mask, out);
        utf8_sequences((lo | mask) + 1, hi, out);
        return;
      }
      if ((hi & mask) != mask) {
        utf8_sequences(lo, (hi & ~mask) - 1, out);
        utf8_sequences(hi & ~mask, hi, out);
        return;
      }
    }
  }
  uint8_t a[4], b[4];
  encode_utf8(lo, a);
  encode_utf8(hi, b);
  std::vector<std::pair<uint8_t, uint8_t>> seq;
  for (int i = 0; i < n; ++i) seq.emplace_back(a[i], b[i]);
  out.push_back(std::move(seq));
}

}  // namespace lorax::structured
