// The JSON containers as automata: arrays with a prefix, a rest and bounds on the count;
// objects whose properties may come in any order, each at most once, with the required ones
// present and the count bounded. An object's states (which properties were seen, how many
// there were) are made on first use, so an object with n properties costs nodes only for the
// subsets generation actually visits, not 2^n.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "structured/byte_graph.h"

namespace lorax::structured {

// Up to `max` of space, tab, newline, carriage return.
Fragment whitespace_fragment(ByteGraph& g, int max);

struct ArrayShape {
  std::vector<int32_t> prefix;  // rules of the first items, in order
  std::optional<int32_t> rest;  // rule of every later item; nullopt: no more items
  int64_t min_items = 0;
  int64_t max_items = -1;  // -1: unbounded
};
Fragment array_fragment(ByteGraph& g, const ArrayShape& shape, int max_whitespace);

struct ObjectShape {
  std::vector<std::string> keys;        // declared properties
  std::vector<bool> required;           // [keys.size()]
  std::vector<int32_t> property_rules;  // [keys.size()]: `"key" ws : ws value`
  std::vector<int32_t> extra_rules;     // undeclared keys and their values (disjoint key sets)
  int64_t min_properties = 0;
  int64_t max_properties = -1;  // -1: unbounded
  int max_whitespace = 0;
  int32_t end = -1;  // node after the closing brace
  // Nodes made so far: (after a property?, properties seen, count seen) -> node.
  std::map<std::tuple<bool, std::vector<bool>, int64_t>, int32_t> nodes;
};
Fragment object_fragment(ByteGraph& g, std::shared_ptr<ObjectShape> shape);

// A JSON string (quotes included) that is none of `declared` (each the text between the quotes
// as written canonically). Keys must be printable ASCII without quote or backslash.
Fragment undeclared_key_fragment(ByteGraph& g, const std::vector<std::string>& declared);

}  // namespace lorax::structured
