// Jinja's tests: the names after `is` (`x is defined`, `n is divisibleby 3`).
#include <algorithm>
#include <array>
#include <utility>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/python_str.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

const Value& arg(const CallArgs& args, std::string_view test) {
  LORAX_CHECK(args.positional.size() == 1 && args.keyword.empty(), "test '", test,
              "' takes exactly one argument");
  return args.positional[0];
}

void no_args(const CallArgs& args, std::string_view test) {
  LORAX_CHECK(args.positional.empty() && args.keyword.empty(), "test '", test,
              "' takes no arguments");
}

bool remainder_is(const Value& v, const Value& divisor, std::int64_t expected) {
  return equals(apply_binary(ast::BinaryOp::kMod, v, divisor), Value::integer(expected));
}

#define LORAX_JINJA_TEST(name, expr)                       \
  bool test_##name(const Value& v, const CallArgs& args) { \
    no_args(args, #name);                                  \
    return (expr);                                         \
  }

LORAX_JINJA_TEST(defined, !v.is_undefined())
LORAX_JINJA_TEST(undefined, v.is_undefined())
LORAX_JINJA_TEST(none, v.is_none())
LORAX_JINJA_TEST(boolean, v.is_bool())
LORAX_JINJA_TEST(true, v.is_bool() && v.as_bool())
LORAX_JINJA_TEST(false, v.is_bool() && !v.as_bool())
LORAX_JINJA_TEST(integer, v.is_int())
LORAX_JINJA_TEST(float, v.is_float())
LORAX_JINJA_TEST(number, v.is_number())
LORAX_JINJA_TEST(string, v.is_string())
LORAX_JINJA_TEST(mapping, v.is_dict())
// Python iterables; Jinja's Undefined iterates as empty, so it counts.
LORAX_JINJA_TEST(iterable, v.is_string() || v.is_list() || v.is_dict() || v.is_undefined())
LORAX_JINJA_TEST(sequence, v.is_string() || v.is_list() || v.is_dict() || v.is_undefined())
LORAX_JINJA_TEST(callable, v.is_callable())
LORAX_JINJA_TEST(odd, remainder_is(v, Value::integer(2), 1))
LORAX_JINJA_TEST(even, remainder_is(v, Value::integer(2), 0))
LORAX_JINJA_TEST(lower, [&] {
  const std::string s = to_str(v);
  return pystr::lower(s) == s && pystr::upper(s) != s;
}())
LORAX_JINJA_TEST(upper, [&] {
  const std::string s = to_str(v);
  return pystr::upper(s) == s && pystr::lower(s) != s;
}())

#undef LORAX_JINJA_TEST

// Nothing is markup here: there is no autoescaping.
bool test_escaped(const Value&, const CallArgs& args) {
  no_args(args, "escaped");
  return false;
}

bool test_divisibleby(const Value& v, const CallArgs& args) {
  return remainder_is(v, arg(args, "divisibleby"), 0);
}
bool test_eq(const Value& v, const CallArgs& args) {
  return equals(v, arg(args, "eq"));
}
bool test_ne(const Value& v, const CallArgs& args) {
  return !equals(v, arg(args, "ne"));
}
bool test_lt(const Value& v, const CallArgs& args) {
  return apply_compare(ast::CompareOp::kLt, v, arg(args, "lt"));
}
bool test_le(const Value& v, const CallArgs& args) {
  return apply_compare(ast::CompareOp::kLe, v, arg(args, "le"));
}
bool test_gt(const Value& v, const CallArgs& args) {
  return apply_compare(ast::CompareOp::kGt, v, arg(args, "gt"));
}
bool test_ge(const Value& v, const CallArgs& args) {
  return apply_compare(ast::CompareOp::kGe, v, arg(args, "ge"));
}
bool test_in(const Value& v, const CallArgs& args) {
  return contains(arg(args, "in"), v);
}
bool test_sameas(const Value& v, const CallArgs& args) {
  return v.same_as(arg(args, "sameas"));
}

bool test_filter(const Value& v, const CallArgs& args) {
  no_args(args, "filter");
  return v.is_string() && find_filter(v.as_string()) != nullptr;
}

bool test_test(const Value& v, const CallArgs& args) {
  no_args(args, "test");
  return v.is_string() && find_test(v.as_string()) != nullptr;
}

constexpr std::pair<std::string_view, TestFn> kTests[] = {
    {"defined", test_defined},
    {"undefined", test_undefined},
    {"none", test_none},
    {"boolean", test_boolean},
    {"true", test_true},
    {"false", test_false},
    {"integer", test_integer},
    {"float", test_float},
    {"number", test_number},
    {"string", test_string},
    {"mapping", test_mapping},
    {"iterable", test_iterable},
    {"sequence", test_sequence},
    {"callable", test_callable},
    {"odd", test_odd},
    {"even", test_even},
    {"lower", test_lower},
    {"upper", test_upper},
    {"escaped", test_escaped},
    {"divisibleby", test_divisibleby},
    {"eq", test_eq},
    {"equalto", test_eq},
    {"ne", test_ne},
    {"lt", test_lt},
    {"lessthan", test_lt},
    {"le", test_le},
    {"gt", test_gt},
    {"greaterthan", test_gt},
    {"ge", test_ge},
    {"in", test_in},
    {"sameas", test_sameas},
    {"filter", test_filter},
    {"test", test_test},
};

}  // namespace

TestFn find_test(std::string_view name) {
  for (const auto& [test_name, fn] : kTests) {
    if (test_name == name) return fn;
  }
  return nullptr;
}

}  // namespace lorax::jinja
