// Filters on lists and dicts: length, join, map, select, sort, unique, dictsort, items, ...
// Where Jinja returns a generator (map, select, unique, reverse) these return a list: it prints
// differently (a list instead of "<generator object>") but iterates the same.
#include <algorithm>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "tokenizer/jinja/filter_tables.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/python_str.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

Value ignore_case(Value v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(pystr::lower(v.as_string()));
  return v;
}

// Jinja's make_attrgetter: `attribute` may be dotted ("user.name") and, for sorting, a comma
// separated list of such paths, which gives a tuple key.
Value attribute_key(const Value& item, const Value& attribute, bool case_sensitive) {
  if (attribute.is_none()) return ignore_case(item, case_sensitive);
  if (attribute.is_string() && attribute.as_string().find(',') != std::string::npos) {
    std::vector<Value> parts;
    for (const std::string& path : pystr::split(attribute.as_string(), std::string(","), -1)) {
      parts.push_back(ignore_case(get_attribute_path(item, Value::string(path)), case_sensitive));
    }
    return Value::tuple(std::move(parts));
  }
  return ignore_case(get_attribute_path(item, attribute), case_sensitive);
}

void sort_by_key(std::vector<Value>& items, const std::vector<Value>& keys, bool reverse) {
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return reverse ? compare(keys[b], keys[a]) < 0 : compare(keys[a], keys[b]) < 0;
  });
  std::vector<Value> sorted;
  sorted.reserve(items.size());
  for (std::size_t i : order) sorted.push_back(std::move(items[i]));
  items = std::move(sorted);
}

Value filter_length(const Value& v, const CallArgs& args) {
  bind_args(args, "length", {});
  return Value::integer(length(v));
}

Value filter_first(const Value& v, const CallArgs& args) {
  bind_args(args, "first", {});
  const std::vector<Value> items = iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value filter_last(const Value& v, const CallArgs& args) {
  bind_args(args, "last", {});
  const std::vector<Value> items = iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value filter_list(const Value& v, const CallArgs& args) {
  bind_args(args, "list", {});
  return Value::list(iterate(v));
}

Value filter_join(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "join", {{"d", Value::string("")}, {"attribute", Value::none()}});
  const std::string separator = to_str(a[0]);
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += separator;
    out += to_str(a[1].is_none() ? item : get_attribute_path(item, a[1]));
    first = false;
  }
  return Value::string(std::move(out));
}

Value filter_items(const Value& v, const CallArgs& args) {
  bind_args(args, "items", {});
  if (v.is_undefined()) return Value::list({});
  LORAX_CHECK(v.is_dict(), "Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, item] : v.as_dict().entries()) out.push_back(Value::tuple({k, item}));
  return Value::list(std::move(out));
}

Value filter_dictsort(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "dictsort",
                           {{"case_sensitive", Value::boolean(false)},
                            {"by", Value::string("key")},
                            {"reverse", Value::boolean(false)}});
  const std::string by = to_str(a[1]);
  LORAX_CHECK(by == "key" || by == "value", "You can only sort by either \"key\" or \"value\"");
  LORAX_CHECK(v.is_dict(), "dictsort needs a mapping, not ", v.type_name());
  std::vector<Value> items;
  std::vector<Value> keys;
  for (const auto& [k, item] : v.as_dict().entries()) {
    items.push_back(Value::tuple({k, item}));
    keys.push_back(ignore_case(by == "key" ? k : item, a[0].truthy()));
  }
  sort_by_key(items, keys, a[2].truthy());
  return Value::list(std::move(items));
}

// select / reject / selectattr / rejectattr: keep the items whose (attribute's) test result is
// `keep`; without a test name the truth of the value is the test.
Value select_items(const Value& v, const CallArgs& args, bool by_attribute, bool keep) {
  std::size_t next = 0;
  Value attribute;
  if (by_attribute) {
    LORAX_CHECK(!args.positional.empty(), "Missing parameter for attribute name");
    attribute = args.positional[next++];
  }
  TestFn test = nullptr;
  CallArgs test_args;
  if (args.positional.size() > next) {
    const std::string name = to_str(args.positional[next++]);
    test = find_test(name);
    LORAX_CHECK(test != nullptr, "No test named '", name, "'");
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next),
                                args.positional.end());
    test_args.keyword = args.keyword;
  }
  std::vector<Value> out;
  if (!v.truthy()) return Value::list({});  // Jinja checks `if value:` before iterating
  for (const Value& item : iterate(v)) {
    const Value x = by_attribute ? get_attribute_path(item, attribute) : item;
    const bool passed = test ? test(x, test_args) : x.truthy();
    if (passed == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value filter_select(const Value& v, const CallArgs& args) {
  return select_items(v, args, false, true);
}
Value filter_reject(const Value& v, const CallArgs& args) {
  return select_items(v, args, false, false);
}
Value filter_selectattr(const Value& v, const CallArgs& args) {
  return select_items(v, args, true, true);
}
Value filter_rejectattr(const Value& v, const CallArgs& args) {
  return select_items(v, args, true, false);
}

// map(attribute='x', default=...) or map('filter', args...).
Value filter_map(const Value& v, const CallArgs& args) {
  std::vector<Value> out;
  if (!v.truthy()) return Value::list({});  // Jinja checks `if value:` before iterating
  if (args.positional.empty()) {
    Value attribute;
    Value fallback;
    for (const auto& [k, value] : args.keyword) {
      LORAX_CHECK(k == "attribute" || k == "default", "Unexpected keyword argument '", k, "'");
      (k == "attribute" ? attribute : fallback) = value;
    }
    LORAX_CHECK(!attribute.is_undefined(), "map requires a filter name or attribute=");
    for (const Value& item : iterate(v)) {
      Value x = get_attribute_path(item, attribute);
      out.push_back(x.is_undefined() && !fallback.is_undefined() ? fallback : x);
    }
    return Value::list(std::move(out));
  }
  const std::string name = to_str(args.positional[0]);
  const FilterFn filter = find_filter(name);
  LORAX_CHECK(filter != nullptr, "No filter named '", name, "'");
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const Value& item : iterate(v)) out.push_back(filter(item, rest));
  return Value::list(std::move(out));
}

Value filter_unique(const Value& v, const CallArgs& args) {
  const auto a = bind_args(
      args, "unique", {{"case_sensitive", Value::boolean(false)}, {"attribute", Value::none()}});
  std::vector<Value> out;
  std::unordered_set<std::string> seen_strings;  // most keys are strings: no quadratic scan
  std::vector<Value> seen_others;
  for (const Value& item : iterate(v)) {
    const Value key = attribute_key(item, a[1], a[0].truthy());
    if (key.is_string()) {
      if (!seen_strings.insert(key.as_string()).second) continue;
    } else {
      if (std::any_of(seen_others.begin(), seen_others.end(),
                      [&](const Value& s) { return equals(s, key); }))
        continue;
      seen_others.push_back(key);
    }
    out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value filter_reverse(const Value& v, const CallArgs& args) {
  bind_args(args, "reverse", {});
  if (v.is_string())
    return Value::string(pystr::slice(v.as_string(), std::nullopt, std::nullopt, -1));
  std::vector<Value> items = iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value filter_sort(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "sort",
                           {{"reverse", Value::boolean(false)},
                            {"case_sensitive", Value::boolean(false)},
                            {"attribute", Value::none()}});
  std::vector<Value> items = iterate(v);
  std::vector<Value> keys;
  for (const Value& item : items) keys.push_back(attribute_key(item, a[2], a[1].truthy()));
  sort_by_key(items, keys, a[0].truthy());
  return Value::list(std::move(items));
}

Value filter_sum(const Value& v, const CallArgs& args) {
  const auto a =
      bind_args(args, "sum", {{"attribute", Value::none()}, {"start", Value::integer(0)}});
  Value total = a[1];
  for (const Value& item : iterate(v)) {
    total = apply_binary(ast::BinaryOp::kAdd, total,
                         a[0].is_none() ? item : get_attribute_path(item, a[0]));
  }
  return total;
}

Value min_or_max(const Value& v, const CallArgs& args, bool want_max) {
  const auto a =
      bind_args(args, want_max ? "max" : "min",
                {{"case_sensitive", Value::boolean(false)}, {"attribute", Value::none()}});
  const std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  std::size_t best = 0;
  Value best_key = attribute_key(items[0], a[1], a[0].truthy());
  for (std::size_t i = 1; i < items.size(); ++i) {
    Value key = attribute_key(items[i], a[1], a[0].truthy());
    const int c = compare(key, best_key);
    if (want_max ? c > 0 : c < 0) best = i, best_key = std::move(key);
  }
  return items[best];
}

Value filter_min(const Value& v, const CallArgs& args) {
  return min_or_max(v, args, false);
}
Value filter_max(const Value& v, const CallArgs& args) {
  return min_or_max(v, args, true);
}

Value filter_batch(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "batch", {{"linecount", Value()}, {"fill_with", Value::none()}});
  LORAX_CHECK(a[0].is_integral() && a[0].as_int() > 0, "batch size must be a positive integer");
  const auto size = static_cast<std::size_t>(a[0].as_int());
  std::vector<Value> batches;
  std::vector<Value> current;
  for (const Value& item : iterate(v)) {
    if (current.size() == size) batches.push_back(Value::list(std::exchange(current, {})));
    current.push_back(item);
  }
  if (!current.empty()) {
    while (!a[1].is_none() && current.size() < size) current.push_back(a[1]);
    batches.push_back(Value::list(std::move(current)));
  }
  return Value::list(std::move(batches));
}

Value filter_slice(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "slice", {{"slices", Value()}, {"fill_with", Value::none()}});
  LORAX_CHECK(a[0].is_integral() && a[0].as_int() > 0 && a[0].as_int() <= (1 << 20),
              "slice count must be a positive integer");
  const std::vector<Value> seq = iterate(v);
  const auto slices = static_cast<std::size_t>(a[0].as_int());
  const std::size_t per_slice = seq.size() / slices;
  const std::size_t with_extra = seq.size() % slices;
  std::vector<Value> out;
  std::size_t offset = 0;
  for (std::size_t n = 0; n < slices; ++n) {
    const std::size_t start = offset + n * per_slice;
    if (n < with_extra) ++offset;
    const std::size_t end = offset + (n + 1) * per_slice;
    std::vector<Value> part(seq.begin() + static_cast<std::ptrdiff_t>(start),
                            seq.begin() + static_cast<std::ptrdiff_t>(end));
    if (!a[1].is_none() && n >= with_extra) part.push_back(a[1]);
    out.push_back(Value::list(std::move(part)));
  }
  return Value::list(std::move(out));
}

Value filter_attr(const Value& v, const CallArgs& args) {
  // Like `v.name`, except that dict items are not looked up: only real attributes.
  const auto a = bind_args(args, "attr", {{"name", Value()}});
  const std::string name = to_str(a[0]);
  if (v.is_dict() && v.as_dict().find(std::string_view(name)) != nullptr) {
    return get_attribute(Value::dict(Dict()), name);
  }
  return get_attribute(v, name);
}

constexpr std::pair<std::string_view, FilterFn> kSequenceFilters[] = {
    {"length", filter_length},
    {"count", filter_length},
    {"first", filter_first},
    {"last", filter_last},
    {"list", filter_list},
    {"join", filter_join},
    {"items", filter_items},
    {"dictsort", filter_dictsort},
    {"select", filter_select},
    {"reject", filter_reject},
    {"selectattr", filter_selectattr},
    {"rejectattr", filter_rejectattr},
    {"map", filter_map},
    {"unique", filter_unique},
    {"reverse", filter_reverse},
    {"sort", filter_sort},
    {"sum", filter_sum},
    {"min", filter_min},
    {"max", filter_max},
    {"batch", filter_batch},
    {"slice", filter_slice},
    {"attr", filter_attr},
};

}  // namespace

FilterFn find_sequence_filter(std::string_view name) {
  for (const auto& [filter_name, fn] : kSequenceFilters) {
    if (filter_name == name) return fn;
  }
  return nullptr;
}

}  // namespace lorax::jinja
