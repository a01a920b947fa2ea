// The engine's standard library: filters (`x | trim`), tests (`x is defined`), attribute and item
// access with the methods of str, dict and list (`s.strip()`, `d.items()`), and the globals
// (`range`, `dict`, `raise_exception`, `strftime_now`, ...). Behaviour follows Jinja 2/3 inside
// the ImmutableSandboxedEnvironment that transformers renders chat templates with: mutating
// methods such as `list.append` are refused.
//
// Builtins fail with plain lorax::Error; the renderer adds the template line.
#pragma once

#include <string_view>

#include "tokenizer/jinja/value.h"

namespace lorax::jinja {

using FilterFn = Value (*)(const Value& input, const CallArgs& args);
using TestFn = bool (*)(const Value& input, const CallArgs& args);

// nullptr when there is no filter / test of that name.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

// `obj.name` (Jinja's getattr): a method or object attribute first, then the dict item; an
// undefined value (carrying the reason) when neither exists. Fails when `obj` is undefined.
Value get_attribute(const Value& obj, std::string_view name);
// `obj[key]` (Jinja's getitem): the item first, then for string keys the attribute.
Value get_item(const Value& obj, const Value& key);
// `obj.name(args)` without building a bound method first; same lookup as get_attribute.
Value call_attribute(const Value& obj, std::string_view name, const CallArgs& args);
// Attribute lookup with dots ("user.name") as the `attribute=` argument of filters uses it.
Value get_attribute_path(const Value& obj, const Value& path);

// The globals every template sees, apart from `namespace`, which the renderer provides because
// it tracks the objects it makes.
Dict make_globals();

}  // namespace lorax::jinja
