// Attribute and item access, and the Python methods of dict and list that templates call.
#include <algorithm>
#include <array>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/python_str.h"
#include "tokenizer/jinja/string_methods.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

// The sandbox refuses these (they would mutate a value the template did not create).
constexpr std::array<std::string_view, 8> kListMutators = {"append", "extend",  "insert", "pop",
                                                           "remove", "reverse", "sort",   "clear"};
constexpr std::array<std::string_view, 5> kDictMutators = {"clear", "pop", "popitem", "setdefault",
                                                           "update"};
constexpr std::array<std::string_view, 5> kDictMethods = {"items", "keys", "values", "get", "copy"};
constexpr std::array<std::string_view, 3> kListMethods = {"index", "count", "copy"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool has_method(const Value& obj, std::string_view name) {
  if (obj.is_string()) return find_str_method(name) != nullptr;
  if (obj.is_dict()) return listed(kDictMethods, name);
  if (obj.is_list()) return listed(kListMethods, name);
  return false;
}

bool is_unsafe(const Value& obj, std::string_view name) {
  if (!name.empty() && name[0] == '_') return true;
  if (obj.is_list() && !obj.is_tuple()) return listed(kListMutators, name);
  if (obj.is_dict()) return listed(kDictMutators, name);
  return false;
}

// Jinja's object_type_repr, used in "has no attribute" messages.
std::string object_type(const Value& v) {
  if (v.is_none()) return "None";
  return v.type_name() + " object";
}

Value missing_attribute(const Value& obj, std::string_view name) {
  std::string hint = "'";  // built by appending: GCC 12 misreports "'" + std::string as overlap
  hint.append(object_type(obj)).append("' has no attribute '").append(name).append("'");
  return Value::undefined(std::move(hint));
}

Value missing_element(const Value& obj, const Value& key) {
  if (key.is_string()) return missing_attribute(obj, key.as_string());
  return Value::undefined(object_type(obj) + " has no element " + to_repr(key));
}

Value call_dict_method(const Value& obj, std::string_view name, const CallArgs& args) {
  const Dict& d = obj.as_dict();
  if (name == "get") {
    const auto a = bind_args(args, name, {{"key", Value()}, {"default", Value::none()}});
    const Value* v = d.find(a[0]);
    return v ? *v : a[1];
  }
  bind_args(args, name, {});
  if (name == "copy") return obj;
  std::vector<Value> out;
  out.reserve(d.size());
  for (const auto& [k, v] : d.entries()) {
    if (name == "items") {
      out.push_back(Value::tuple({k, v}));
    } else {
      out.push_back(name == "keys" ? k : v);
    }
  }
  return Value::list(std::move(out));
}

Value call_list_method(const Value& obj, std::string_view name, const CallArgs& args) {
  if (name == "copy") {
    bind_args(args, name, {});
    return obj;
  }
  const auto a = bind_args(args, name, {{"value", Value()}});
  const auto& items = obj.items();
  if (name == "count") {
    return Value::integer(
        std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, a[0]); }));
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (equals(items[i], a[0])) return Value::integer(static_cast<std::int64_t>(i));
  }
  fail(to_repr(a[0]), " is not in list");
}

Value call_method(const Value& obj, std::string_view name, const CallArgs& args) {
  if (obj.is_string()) return find_str_method(name)(obj.as_string(), name, args);
  if (obj.is_dict()) return call_dict_method(obj, name, args);
  return call_list_method(obj, name, args);
}

Value bound_method(const Value& obj, std::string_view name) {
  auto callable = std::make_shared<Callable>();
  callable->name = std::string(name);
  callable->call = [obj, method = std::string(name)](const CallArgs& args) {
    return call_method(obj, method, args);
  };
  return Value::callable(std::move(callable));
}

}  // namespace

Value get_attribute(const Value& obj, std::string_view name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (is_unsafe(obj, name)) {
    return Value::undefined("access to attribute '" + std::string(name) + "' of '" +
                            obj.type_name() + "' object is unsafe.");
  }
  if (has_method(obj, name)) return bound_method(obj, name);
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict().find(name)) return *v;
  } else if (obj.is_object()) {
    if (const Value* v = obj.as_object().attrs.find(name)) return *v;
  }
  return missing_attribute(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict().find(key)) return *v;
  } else if ((obj.is_list() || obj.is_string()) && key.is_integral()) {
    const std::int64_t size =
        obj.is_list() ? static_cast<std::int64_t>(obj.items().size()) : length(obj);
    std::int64_t i = key.as_int();
    if (i < 0) i += size;
    if (i >= 0 && i < size) {
      if (obj.is_list()) return obj.items()[static_cast<std::size_t>(i)];
      return Value::string(pystr::slice(obj.as_string(), i, i + 1, std::nullopt));
    }
    return missing_element(obj, key);
  }
  if (key.is_string()) {
    const Value attr = get_attribute(obj, key.as_string());
    if (!attr.is_undefined() || !obj.is_dict()) return attr;
  }
  return missing_element(obj, key);
}

Value call_attribute(const Value& obj, std::string_view name, const CallArgs& args) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (has_method(obj, name) && !is_unsafe(obj, name)) return call_method(obj, name, args);
  const Value attr = get_attribute(obj, name);
  if (attr.is_undefined()) fail_undefined(attr);
  LORAX_CHECK(attr.is_callable(), "'", attr.type_name(), "' object is not callable");
  return attr.as_callable().call(args);
}

Value get_attribute_path(const Value& obj, const Value& path) {
  if (!path.is_string()) return get_item(obj, path);
  Value current = obj;
  std::size_t start = 0;
  const std::string& p = path.as_string();
  while (true) {
    const std::size_t dot = p.find('.', start);
    const std::string part =
        p.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool numeric =
        !part.empty() && part.size() < 19 &&
        std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (current.is_undefined()) return current;
    current = numeric ? get_item(current, Value::integer(std::stoll(part)))
                      : get_item(current, Value::string(part));
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

}  // namespace lorax::jinja
