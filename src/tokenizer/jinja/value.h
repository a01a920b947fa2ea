// The runtime values of the template engine.
//
// Templates are Python code in disguise, so a value behaves like the Python object Jinja would
// hold: `none` is not `undefined`, `1 == 1.0 == true`, tuples print with parentheses, dicts keep
// insertion order. JSON is not enough: templates also hold macros and other callables, mutable
// `namespace()` objects, `loop` objects and undefined values that remember why they are undefined
// (so that using one can say "'foo' is undefined").
//
// Lists and dicts are immutable once built (the sandbox HF uses forbids mutating them), so they
// are shared by pointer; copying a Value is cheap except for the inline string.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorax::jinja {

class Value;
struct List;
class Dict;
struct Object;
struct Callable;

// Why a value is undefined; using it in a way Python would reject raises this message.
struct Undefined {
  std::string hint;
};

class Value {
 public:
  // In the order of Variant's alternatives below: kind() is the variant's index.
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kObject,
    kCallable
  };

  Value() = default;  // undefined, with no hint
  static Value undefined(std::string hint);
  static Value none();
  static Value boolean(bool b);
  static Value integer(std::int64_t i);
  static Value number(double d);
  static Value string(std::string s);
  static Value list(std::vector<Value> items);
  static Value tuple(std::vector<Value> items);
  static Value dict(Dict d);
  static Value object(std::shared_ptr<Object> o);
  static Value callable(std::shared_ptr<const Callable> c);
  static Value from_json(const nlohmann::ordered_json& json);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  // Python's numbers.Number: bool, int and float.
  bool is_number() const { return is_bool() || is_int() || is_float(); }
  // Python's int, where bool is an int too.
  bool is_integral() const { return is_bool() || is_int(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }  // list or tuple
  bool is_tuple() const;
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_object() const { return kind() == Kind::kObject; }
  bool is_callable() const { return kind() == Kind::kCallable; }

  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_int() const;  // bool or int
  double as_double() const;     // bool, int or float
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const std::vector<Value>& items() const;  // list or tuple
  const Dict& as_dict() const { return *std::get<std::shared_ptr<const Dict>>(v_); }
  Object& as_object() const { return *std::get<std::shared_ptr<Object>>(v_); }
  const Callable& as_callable() const { return *std::get<std::shared_ptr<const Callable>>(v_); }
  const std::shared_ptr<Object>& object_ptr() const {
    return std::get<std::shared_ptr<Object>>(v_);
  }
  const std::string& undefined_hint() const { return std::get<Undefined>(v_).hint; }

  // Python's bool(x).
  bool truthy() const;
  // Python's type(x).__name__, for error messages.
  std::string type_name() const;
  // Same object (Python `is`) for shared values, same value otherwise.
  bool same_as(const Value& other) const;

 private:
  using Variant = std::variant<Undefined, std::nullptr_t, bool, std::int64_t, double, std::string,
                               std::shared_ptr<const List>, std::shared_ptr<const Dict>,
                               std::shared_ptr<Object>, std::shared_ptr<const Callable>>;
  explicit Value(Variant v) : v_(std::move(v)) {}
  static_assert(std::variant_size_v<Variant> == static_cast<std::size_t>(Kind::kCallable) + 1);
  static_assert(
      std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(Kind::kString), Variant>,
                     std::string>);
  Variant v_;
};

struct List {
  std::vector<Value> items;
  bool is_tuple = false;
};

// Python dict: insertion-ordered, keys compared with Python equality. String keys (nearly all
// of them) are indexed; other keys are few and found by a scan.
class Dict {
 public:
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  // Inserts, or overwrites in place keeping the key's first position (as Python does).
  void set(const Value& key, Value value);
  void set(std::string_view key, Value value) {
    set(Value::string(std::string(key)), std::move(value));
  }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear();

 private:
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);
  std::size_t index_of(const Value& key) const;

  std::vector<std::pair<Value, Value>> entries_;
  std::unordered_map<std::string, std::size_t> string_index_;
};

// An object with attributes: `namespace()` (attributes assignable with `set ns.x = ...`) and the
// `loop` variable. Shared by pointer, like the Python object.
struct Object {
  std::string type_name;  // "Namespace", "LoopContext"
  Dict attrs;
  bool assignable = false;
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

struct Callable {
  std::string name;
  std::function<Value(const CallArgs&)> call;
};

// One parameter of a builtin: its name and the value used when the caller leaves it out.
struct Param {
  std::string_view name;
  Value fallback;
};

// Binds call arguments to parameters the way Python does (by position, then by name), failing on
// too many positional arguments, unknown names or duplicates. Returns one value per parameter.
std::vector<Value> bind_args(const CallArgs& args, std::string_view function,
                             std::initializer_list<Param> params);

// Raises the error an undefined value carries (Jinja's UndefinedError).
[[noreturn]] void fail_undefined(const Value& undefined);

// Python `==`.
bool equals(const Value& a, const Value& b);
// Python ordering for `<` and friends and sorting: negative, zero or positive. Fails the way
// Python does on unorderable types; `op` names the operator in that message.
int compare(const Value& a, const Value& b, std::string_view op = "<");
// Python `iter(x)` materialized: items of a list, keys of a dict, characters of a string,
// nothing for undefined. Fails for values that are not iterable.
std::vector<Value> iterate(const Value& v);
// Python `len(x)`; undefined has length 0.
std::int64_t length(const Value& v);
// Python `needle in haystack`.
bool contains(const Value& haystack, const Value& needle);

}  // namespace lorax::jinja
