#include "structured/json_object_shape.h"

#include <algorithm>
#include <memory>
#include <set>

#include "core/error.h"
#include "structured/regex_compiler.h"

namespace lorax::structured {

Fragment whitespace_fragment(ByteGraph& g, int max) {
  int32_t end = g.add_node();
  int32_t at = g.add_node();
  int32_t start = at;
  for (int i = 0; i < max; ++i) {
    int32_t next = g.add_node();
    g.add_epsilon(at, end);
    g.add_bytes(at, '\t', '\n', next);
    g.add_bytes(at, '\r', '\r', next);
    g.add_bytes(at, ' ', ' ', next);
    at = next;
  }
  g.add_epsilon(at, end);
  return {start, end};
}

Fragment array_fragment(ByteGraph& g, const ArrayShape& shape, int max_whitespace) {
  int32_t start = g.add_node(), end = g.add_node();
  Fragment w = whitespace_fragment(g, max_whitespace);
  g.add_bytes(start, '[', '[', w.start);
  int32_t open = w.end;
  if (shape.min_items == 0) g.add_bytes(open, ']', ']', end);
  bool unbounded = shape.max_items < 0;
  int64_t first_repeat =
      std::max<int64_t>(shape.min_items, static_cast<int64_t>(shape.prefix.size()));
  // after[k]: k items read. Past first_repeat every count behaves alike, so an unbounded array
  // loops on its last node.
  int64_t last = unbounded ? std::max<int64_t>(first_repeat, 1) : shape.max_items;
  std::vector<int32_t> after(static_cast<size_t>(last) + 1, -1);
  for (int64_t k = 1; k <= last; ++k) after[static_cast<size_t>(k)] = g.add_node();
  auto item_rule = [&](int64_t i) -> std::optional<int32_t> {
    if (!unbounded && i >= shape.max_items) return std::nullopt;
    if (i < static_cast<int64_t>(shape.prefix.size())) return shape.prefix[static_cast<size_t>(i)];
    return shape.rest;
  };
  auto returns_to = [&](int64_t i) { return after[static_cast<size_t>(std::min(i + 1, last))]; };
  if (auto r = item_rule(0)) g.add_call(open, *r, returns_to(0));
  for (int64_t k = 1; k <= last; ++k) {
    Fragment ws = whitespace_fragment(g, max_whitespace);
    g.add_epsilon(after[static_cast<size_t>(k)], ws.start);
    if (k >= shape.min_items) g.add_bytes(ws.end, ']', ']', end);
    if (auto r = item_rule(k)) {
      Fragment ws2 = whitespace_fragment(g, max_whitespace);
      g.add_bytes(ws.end, ',', ',', ws2.start);
      g.add_call(ws2.end, *r, returns_to(k));
    }
  }
  return {start, end};
}

namespace {

int64_t clamp_count(const ObjectShape& s, int64_t count) {
  int64_t cap = s.max_properties >= 0 ? s.max_properties : s.min_properties;
  return std::min(count, cap);
}

bool can_add(const ObjectShape& s, const std::vector<bool>& seen, int64_t count) {
  if (s.max_properties >= 0 && count >= s.max_properties) return false;
  return !s.extra_rules.empty() || std::find(seen.begin(), seen.end(), false) != seen.end();
}

bool can_close(const ObjectShape& s, const std::vector<bool>& seen, int64_t count) {
  if (count < s.min_properties) return false;
  for (size_t p = 0; p < seen.size(); ++p) {
    if (s.required[p] && !seen[p]) return false;
  }
  return true;
}

int32_t object_node(ByteGraph& g, const std::shared_ptr<ObjectShape>& shape, bool after,
                    std::vector<bool> seen, int64_t count);

// Before a property: call any property not seen yet, or an undeclared one.
void expand_before(ByteGraph& g, const std::shared_ptr<ObjectShape>& shape,
                   const std::vector<bool>& seen, int64_t count, int32_t self) {
  int64_t next = clamp_count(*shape, count + 1);
  for (size_t p = 0; p < seen.size(); ++p) {
    if (seen[p]) continue;
    std::vector<bool> with = seen;
    with[p] = true;
    int32_t ret = object_node(g, shape, true, std::move(with), next);
    g.add_call(self, shape->property_rules[p], ret);
  }
  for (int32_t extra : shape->extra_rules) {
    g.add_call(self, extra, object_node(g, shape, true, seen, next));
  }
}

// After a property: a comma and another, or the closing brace once the object may end.
void expand_after(ByteGraph& g, const std::shared_ptr<ObjectShape>& shape,
                  const std::vector<bool>& seen, int64_t count, int32_t self) {
  Fragment ws = whitespace_fragment(g, shape->max_whitespace);
  g.add_epsilon(self, ws.start);
  if (can_close(*shape, seen, count)) g.add_bytes(ws.end, '}', '}', shape->end);
  if (can_add(*shape, seen, count)) {
    Fragment ws2 = whitespace_fragment(g, shape->max_whitespace);
    g.add_bytes(ws.end, ',', ',', ws2.start);
    g.add_epsilon(ws2.end, object_node(g, shape, false, seen, count));
  }
}

int32_t object_node(ByteGraph& g, const std::shared_ptr<ObjectShape>& shape, bool after,
                    std::vector<bool> seen, int64_t count) {
  auto key = std::make_tuple(after, seen, count);
  auto it = shape->nodes.find(key);
  if (it != shape->nodes.end()) return it->second;
  int32_t id = g.add_node();
  shape->nodes.emplace(std::move(key), id);
  g.node(id).expand = [shape, after, seen = std::move(seen), count](ByteGraph& graph,
                                                                    int32_t self) {
    if (after)
      expand_after(graph, shape, seen, count, self);
    else
      expand_before(graph, shape, seen, count, self);
  };
  return id;
}

// A string character other than printable ASCII, as serializers write it: non-ASCII UTF-8, or
// an escape that cannot spell printable ASCII (so no declared key can be spelt another way).
constexpr const char* kOtherKeyChar =
    R"(([^\x00-\x7f]|\\(["\\bfnrt]|u(00[01][0-9a-fA-F]|00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3}))))";

}  // namespace

Fragment object_fragment(ByteGraph& g, std::shared_ptr<ObjectShape> shape) {
  int32_t start = g.add_node();
  shape->end = g.add_node();
  Fragment ws = whitespace_fragment(g, shape->max_whitespace);
  g.add_bytes(start, '{', '{', ws.start);
  std::vector<bool> none(shape->keys.size(), false);
  if (can_close(*shape, none, 0)) g.add_bytes(ws.end, '}', '}', shape->end);
  if (can_add(*shape, none, 0)) g.add_epsilon(ws.end, object_node(g, shape, false, none, 0));
  return {start, shape->end};
}

Fragment undeclared_key_fragment(ByteGraph& g, const std::vector<std::string>& declared) {
  for (const std::string& k : declared) {
    for (char c : k) {
      auto b = static_cast<uint8_t>(c);
      if (b < 0x20 || b >= 0x7F || c == '"' || c == '\\')
        fail("additionalProperties next to property names with escaped or non-ASCII characters",
             " is not supported");
    }
  }
  int32_t start = g.add_node(), end = g.add_node(), root = g.add_node();
  g.add_bytes(start, '"', '"', root);
  // Once the key has left every declared one: any characters, then the closing quote.
  std::string free_pattern =
      std::string("([\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]|") + kOtherKeyChar + ")*\"";
  Fragment free = compile_regex(g, free_pattern, RegexMode::kRaw);
  g.add_epsilon(free.end, end);
  Fragment other = compile_regex(g, kOtherKeyChar, RegexMode::kRaw);
  g.add_epsilon(other.end, free.start);
  std::map<std::pair<int32_t, uint8_t>, int32_t> child;
  std::set<int32_t> complete;  // trie nodes where a declared key ends
  std::vector<int32_t> trie{root};
  for (const std::string& k : declared) {
    int32_t at = root;
    for (char c : k) {
      auto [it, inserted] = child.emplace(std::make_pair(at, static_cast<uint8_t>(c)), -1);
      if (inserted) {
        it->second = g.add_node();
        g.add_bytes(at, static_cast<uint8_t>(c), static_cast<uint8_t>(c), it->second);
        trie.push_back(it->second);
      }
      at = it->second;
    }
    complete.insert(at);
  }
  for (int32_t t : trie) {
    for (int b = 0x20; b < 0x7F; ++b) {
      if (b == '"' || b == '\\' || child.count({t, static_cast<uint8_t>(b)})) continue;
      g.add_bytes(t, static_cast<uint8_t>(b), static_cast<uint8_t>(b), free.start);
    }
    g.add_epsilon(t, other.start);
    if (!complete.count(t)) g.add_bytes(t, '"', '"', end);
  }
  return {start, end};
}

}  // namespace lorax::structured
