// Internal: the str methods, looked up by name (see builtins.h for how attributes resolve).
#pragma once

#include <string>
#include <string_view>

#include "tokenizer/jinja/value.h"

namespace lorax::jinja {

// `name` is passed along so that one function can serve a family (strip, lstrip, rstrip).
using StrMethod = Value (*)(const std::string& self, std::string_view name, const CallArgs& args);

// nullptr when str has no such method.
StrMethod find_str_method(std::string_view name);

}  // namespace lorax::jinja
