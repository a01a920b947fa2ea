#include "tokenizer/jinja/value.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "tokenizer/jinja/python_str.h"

namespace lorax::jinja {

Value Value::undefined(std::string hint) {
  return Value(Variant(Undefined{std::move(hint)}));
}
Value Value::none() {
  return Value(Variant(nullptr));
}
Value Value::boolean(bool b) {
  return Value(Variant(b));
}
Value Value::integer(std::int64_t i) {
  return Value(Variant(i));
}
Value Value::number(double d) {
  return Value(Variant(d));
}
Value Value::string(std::string s) {
  return Value(Variant(std::move(s)));
}

Value Value::list(std::vector<Value> items) {
  return Value(Variant(std::make_shared<const List>(List{std::move(items), false})));
}

Value Value::tuple(std::vector<Value> items) {
  return Value(Variant(std::make_shared<const List>(List{std::move(items), true})));
}

Value Value::dict(Dict d) {
  return Value(Variant(std::make_shared<const Dict>(std::move(d))));
}
Value Value::object(std::shared_ptr<Object> o) {
  return Value(Variant(std::move(o)));
}
Value Value::callable(std::shared_ptr<const Callable> c) {
  return Value(Variant(std::move(c)));
}

Value Value::from_json(const nlohmann::ordered_json& json) {
  using Type = nlohmann::ordered_json::value_t;
  switch (json.type()) {
    case Type::null:
      return none();
    case Type::boolean:
      return boolean(json.get<bool>());
    case Type::number_integer:
      return integer(json.get<std::int64_t>());
    case Type::number_unsigned: {
      const auto u = json.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return integer(static_cast<std::int64_t>(u));
      }
      return number(static_cast<double>(u));
    }
    case Type::number_float:
      return number(json.get<double>());
    case Type::string:
      return string(json.get<std::string>());
    case Type::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json(item));
      return list(std::move(items));
    }
    case Type::object: {
      Dict d;
      for (const auto& [key, item] : json.items()) d.set(key, from_json(item));
      return dict(std::move(d));
    }
    default:
      return Value();
  }
}

bool Value::is_tuple() const {
  return is_list() && std::get<std::shared_ptr<const List>>(v_)->is_tuple;
}

std::int64_t Value::as_int() const {
  return is_bool() ? (as_bool() ? 1 : 0) : std::get<std::int64_t>(v_);
}

double Value::as_double() const {
  return is_float() ? std::get<double>(v_) : static_cast<double>(as_int());
}

const std::vector<Value>& Value::items() const {
  return std::get<std::shared_ptr<const List>>(v_)->items;
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_double() != 0.0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
      return !items().empty();
    case Kind::kDict:
      return !as_dict().empty();
    default:
      return true;
  }
}

std::string Value::type_name() const {
  switch (kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return is_tuple() ? "tuple" : "list";
    case Kind::kDict:
      return "dict";
    case Kind::kObject:
      return as_object().type_name;
    case Kind::kCallable:
      return "function";
  }
  return "object";
}

bool Value::same_as(const Value& other) const {
  if (kind() != other.kind()) return false;
  switch (kind()) {
    case Kind::kList:
      return &items() == &other.items();
    case Kind::kDict:
      return &as_dict() == &other.as_dict();
    case Kind::kObject:
      return &as_object() == &other.as_object();
    case Kind::kCallable:
      return &as_callable() == &other.as_callable();
    default:
      return equals(*this, other);
  }
}

std::size_t Dict::index_of(const Value& key) const {
  if (key.is_string()) {
    const auto it = string_index_.find(key.as_string());
    return it == string_index_.end() ? kAbsent : it->second;
  }
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].first.is_string() && equals(entries_[i].first, key)) return i;
  }
  return kAbsent;
}

const Value* Dict::find(std::string_view key) const {
  const auto it = string_index_.find(std::string(key));
  return it == string_index_.end() ? nullptr : &entries_[it->second].second;
}

const Value* Dict::find(const Value& key) const {
  const std::size_t i = index_of(key);
  return i == kAbsent ? nullptr : &entries_[i].second;
}

void Dict::set(const Value& key, Value value) {
  const std::size_t i = index_of(key);
  if (i != kAbsent) {
    entries_[i].second = std::move(value);
    return;
  }
  if (key.is_string()) string_index_.emplace(key.as_string(), entries_.size());
  entries_.emplace_back(key, std::move(value));
}

void Dict::clear() {
  entries_.clear();
  string_index_.clear();
}

std::vector<Value> bind_args(const CallArgs& args, std::string_view function,
                             std::initializer_list<Param> params) {
  LORAX_CHECK(args.positional.size() <= params.size(), function, "() takes at most ", params.size(),
              " arguments (", args.positional.size(), " given)");
  std::vector<Value> bound;
  std::vector<bool> given(params.size(), false);
  for (const Param& p : params) bound.push_back(p.fallback);
  for (std::size_t i = 0; i < args.positional.size(); ++i) {
    bound[i] = args.positional[i];
    given[i] = true;
  }
  for (const auto& [name, value] : args.keyword) {
    std::size_t i = 0;
    for (const Param& p : params) {
      if (p.name == name) break;
      ++i;
    }
    LORAX_CHECK(i < params.size(), function, "() got an unexpected keyword argument '", name, "'");
    LORAX_CHECK(!given[i], function, "() got multiple values for argument '", name, "'");
    bound[i] = value;
    given[i] = true;
  }
  return bound;
}

void fail_undefined(const Value& undefined) {
  const std::string& hint = undefined.undefined_hint();
  fail(hint.empty() ? std::string("value is undefined") : hint);
}

namespace {

bool dicts_equal(const Dict& a, const Dict& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a.entries()) {
    const Value* other = b.find(k);
    if (other == nullptr || !equals(v, *other)) return false;
  }
  return true;
}

int compare_numbers(const Value& a, const Value& b) {
  if (a.is_integral() && b.is_integral()) {
    return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
  }
  const double x = a.as_double();
  const double y = b.as_double();
  return x < y ? -1 : x > y ? 1 : 0;
}

}  // namespace

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();  // NaN != NaN
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      if (a.is_tuple() != b.is_tuple() || a.items().size() != b.items().size()) return false;
      for (std::size_t i = 0; i < a.items().size(); ++i) {
        if (!equals(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case Value::Kind::kDict:
      return dicts_equal(a.as_dict(), b.as_dict());
    default:
      return a.same_as(b);
  }
}

int compare(const Value& a, const Value& b, std::string_view op) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) return compare_numbers(a, b);
  if (a.is_string() && b.is_string()) {
    // Byte order of UTF-8 is code point order, which is Python's string order.
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return compare(x[i], y[i], op);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  fail("'", op, "' not supported between instances of '", a.type_name(), "' and '", b.type_name(),
       "'");
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
      return v.items();
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.as_dict().size());
      for (const auto& entry : v.as_dict().entries()) keys.push_back(entry.first);
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      for (auto& c : pystr::characters(v.as_string())) chars.push_back(Value::string(std::move(c)));
      return chars;
    }
    default:
      fail("'", v.type_name(), "' object is not iterable");
  }
}

std::int64_t length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<std::int64_t>(pystr::length(v.as_string()));
    case Value::Kind::kList:
      return static_cast<std::int64_t>(v.items().size());
    case Value::Kind::kDict:
      return static_cast<std::int64_t>(v.as_dict().size());
    default:
      fail("object of type '", v.type_name(), "' has no len()");
  }
}

bool contains(const Value& haystack, const Value& needle) {
  switch (haystack.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      LORAX_CHECK(needle.is_string(), "'in <string>' requires string as left operand, not ",
                  needle.type_name());
      return haystack.as_string().find(needle.as_string()) != std::string::npos;
    case Value::Kind::kList:
      return std::any_of(haystack.items().begin(), haystack.items().end(),
                         [&](const Value& item) { return equals(item, needle); });
    case Value::Kind::kDict:
      return haystack.as_dict().find(needle) != nullptr;
    default:
      fail("argument of type '", haystack.type_name(), "' is not iterable");
  }
}

}  // namespace lorax::jinja
