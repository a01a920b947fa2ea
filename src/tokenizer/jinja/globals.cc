// The global functions: Jinja's (range, dict, joiner) and those transformers adds for chat
// templates (raise_exception, strftime_now).
#include <ctime>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/errors.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

// Jinja's sandbox refuses longer ranges (MAX_RANGE).
constexpr std::int64_t kMaxRange = 100000;

std::int64_t int_arg(const Value& v) {
  LORAX_CHECK(v.is_integral(), "'", v.type_name(), "' object cannot be interpreted as an integer");
  return v.as_int();
}

Value range(const CallArgs& args) {
  LORAX_CHECK(args.keyword.empty(), "range() takes no keyword arguments");
  const auto& p = args.positional;
  LORAX_CHECK(!p.empty() && p.size() <= 3, "range expected 1 to 3 arguments, got ", p.size());
  const std::int64_t start = p.size() == 1 ? 0 : int_arg(p[0]);
  const std::int64_t stop = p.size() == 1 ? int_arg(p[0]) : int_arg(p[1]);
  const std::int64_t step = p.size() == 3 ? int_arg(p[2]) : 1;
  LORAX_CHECK(step != 0, "range() arg 3 must not be zero");
  std::vector<Value> items;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop;) {
    LORAX_CHECK(static_cast<std::int64_t>(items.size()) < kMaxRange,
                "Range too big. The sandbox blocks ranges larger than MAX_RANGE (", kMaxRange,
                ").");
    items.push_back(Value::integer(i));
    if (__builtin_add_overflow(i, step, &i)) break;  // past the end of int64, so past `stop`
  }
  return Value::list(std::move(items));
}

Value dict(const CallArgs& args) {
  LORAX_CHECK(args.positional.size() <= 1, "dict expected at most 1 argument");
  Dict d;
  if (!args.positional.empty()) {
    const Value& init = args.positional[0];
    if (init.is_dict()) {
      for (const auto& [k, v] : init.as_dict().entries()) d.set(k, v);
    } else {
      for (const Value& pair : iterate(init)) {
        const std::vector<Value> kv = iterate(pair);
        LORAX_CHECK(kv.size() == 2, "dictionary update sequence element has length ", kv.size(),
                    "; 2 is required");
        d.set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.keyword) d.set(k, v);
  return Value::dict(std::move(d));
}

Value raise_exception(const CallArgs& args) {
  const auto a = bind_args(args, "raise_exception", {{"message", Value()}});
  throw TemplateError(to_str(a[0]));
}

Value strftime_now(const CallArgs& args) {
  const auto a = bind_args(args, "strftime_now", {{"format", Value()}});
  LORAX_CHECK(a[0].is_string(), "strftime_now() format must be a string");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[512];
  const std::size_t n = a[0].as_string().empty()
                            ? 0
                            : std::strftime(buf, sizeof(buf), a[0].as_string().c_str(), &local);
  return Value::string(std::string(buf, n));
}

// joiner(sep): a callable that returns "" the first time and `sep` after that.
Value joiner(const CallArgs& args) {
  const auto a = bind_args(args, "joiner", {{"sep", Value::string(", ")}});
  auto callable = std::make_shared<Callable>();
  callable->name = "joiner";
  callable->call = [sep = a[0], used = std::make_shared<bool>(false)](const CallArgs&) {
    if (!*used) {
      *used = true;
      return Value::string("");
    }
    return sep;
  };
  return Value::callable(std::move(callable));
}

Value function(std::string name, Value (*fn)(const CallArgs&)) {
  auto callable = std::make_shared<Callable>();
  callable->name = std::move(name);
  callable->call = fn;
  return Value::callable(std::move(callable));
}

}  // namespace

Dict make_globals() {
  Dict globals;
  globals.set("range", function("range", range));
  globals.set("dict", function("dict", dict));
  globals.set("joiner", function("joiner", joiner));
  globals.set("raise_exception", function("raise_exception", raise_exception));
  globals.set("strftime_now", function("strftime_now", strftime_now));
  return globals;
}

}  // namespace lorax::jinja
