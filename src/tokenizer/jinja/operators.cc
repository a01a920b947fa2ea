#include "tokenizer/jinja/operators.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

using ast::BinaryOp;

// `'x' * n` and `[..] * n` beyond this many elements fail instead of exhausting memory.
constexpr std::int64_t kMaxRepeat = std::int64_t{1} << 26;

const char* symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kFloorDiv:
      return "//";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "**";
    default:
      return "?";
  }
}

[[noreturn]] void unsupported(BinaryOp op, const Value& l, const Value& r) {
  if (op == BinaryOp::kAdd && l.is_string()) {
    fail("can only concatenate str (not \"", r.type_name(), "\") to str");
  }
  if (op == BinaryOp::kAdd && l.is_list()) {
    fail("can only concatenate ", l.type_name(), " (not \"", r.type_name(), "\") to ",
         l.type_name());
  }
  fail("unsupported operand type(s) for ", symbol(op), ": '", l.type_name(), "' and '",
       r.type_name(), "'");
}

// Python ints do not overflow; ours fail instead of wrapping.
template <typename Op>
std::int64_t checked(Op op, std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  LORAX_CHECK(!op(a, b, &r), "integer result out of range");
  return r;
}

bool add_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_add_overflow(a, b, r);
}
bool sub_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_sub_overflow(a, b, r);
}
bool mul_overflow(std::int64_t a, std::int64_t b, std::int64_t* r) {
  return __builtin_mul_overflow(a, b, r);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  LORAX_CHECK(b != 0, "integer division or modulo by zero");
  LORAX_CHECK(!(a == std::numeric_limits<std::int64_t>::min() && b == -1),
              "integer result out of range");
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::int64_t int_pow(std::int64_t base, std::int64_t exp) {
  std::int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) result = checked(mul_overflow, result, base);
    exp >>= 1;
    if (exp > 0) base = checked(mul_overflow, base, base);
  }
  return result;
}

Value int_arith(BinaryOp op, std::int64_t a, std::int64_t b) {
  switch (op) {
    case BinaryOp::kAdd:
      return Value::integer(checked(add_overflow, a, b));
    case BinaryOp::kSub:
      return Value::integer(checked(sub_overflow, a, b));
    case BinaryOp::kMul:
      return Value::integer(checked(mul_overflow, a, b));
    case BinaryOp::kDiv:
      LORAX_CHECK(b != 0, "division by zero");
      return Value::number(static_cast<double>(a) / static_cast<double>(b));
    case BinaryOp::kFloorDiv:
      return Value::integer(floor_div(a, b));
    case BinaryOp::kMod: {
      LORAX_CHECK(b != 0, "integer division or modulo by zero");
      if (b == -1) return Value::integer(0);
      const std::int64_t m = a % b;
      return Value::integer(m != 0 && ((m < 0) != (b < 0)) ? m + b : m);
    }
    case BinaryOp::kPow:
      if (b < 0) {
        LORAX_CHECK(a != 0, "0.0 cannot be raised to a negative power");
        return Value::number(std::pow(static_cast<double>(a), static_cast<double>(b)));
      }
      return Value::integer(int_pow(a, b));
    default:
      fail("bad integer operator");
  }
}

Value float_arith(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::kAdd:
      return Value::number(a + b);
    case BinaryOp::kSub:
      return Value::number(a - b);
    case BinaryOp::kMul:
      return Value::number(a * b);
    case BinaryOp::kDiv:
      LORAX_CHECK(b != 0, "float division by zero");
      return Value::number(a / b);
    case BinaryOp::kFloorDiv:
      LORAX_CHECK(b != 0, "float floor division by zero");
      return Value::number(std::floor(a / b));
    case BinaryOp::kMod: {
      LORAX_CHECK(b != 0, "float modulo");
      double m = std::fmod(a, b);
      if (m != 0 && ((m < 0) != (b < 0))) m += b;
      return Value::number(m);
    }
    case BinaryOp::kPow:
      LORAX_CHECK(!(a == 0 && b < 0), "0.0 cannot be raised to a negative power");
      return Value::number(std::pow(a, b));
    default:
      fail("bad float operator");
  }
}

Value repeat(const Value& seq, std::int64_t n) {
  n = std::max<std::int64_t>(n, 0);
  if (seq.is_string()) {
    LORAX_CHECK(seq.as_string().empty() ||
                    n <= kMaxRepeat / static_cast<std::int64_t>(seq.as_string().size()),
                "string repetition result too large");
    std::string out;
    for (std::int64_t i = 0; i < n; ++i) out += seq.as_string();
    return Value::string(std::move(out));
  }
  const auto& items = seq.items();
  LORAX_CHECK(items.empty() || n <= kMaxRepeat / static_cast<std::int64_t>(items.size()),
              "list repetition result too large");
  std::vector<Value> out;
  for (std::int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value concat_sequences(const Value& l, const Value& r) {
  std::vector<Value> out = l.items();
  out.insert(out.end(), r.items().begin(), r.items().end());
  return l.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

}  // namespace

Value apply_binary(BinaryOp op, const Value& l, const Value& r) {
  if (op == BinaryOp::kConcat) return Value::string(to_str(l) + to_str(r));
  // str % x runs str's formatting first, which prints an undefined argument as "".
  if (op == BinaryOp::kMod && l.is_string()) return Value::string(percent_format(l.as_string(), r));
  if (l.is_undefined()) fail_undefined(l);
  if (r.is_undefined()) fail_undefined(r);
  if (l.is_number() && r.is_number()) {
    if (l.is_integral() && r.is_integral()) return int_arith(op, l.as_int(), r.as_int());
    return float_arith(op, l.as_double(), r.as_double());
  }
  if (op == BinaryOp::kAdd && l.is_string() && r.is_string()) {
    return Value::string(l.as_string() + r.as_string());
  }
  if (op == BinaryOp::kAdd && l.is_list() && r.is_list() && l.is_tuple() == r.is_tuple()) {
    return concat_sequences(l, r);
  }
  if (op == BinaryOp::kMul && (l.is_string() || l.is_list()) && r.is_integral())
    return repeat(l, r.as_int());
  if (op == BinaryOp::kMul && (r.is_string() || r.is_list()) && l.is_integral())
    return repeat(r, l.as_int());
  unsupported(op, l, r);
}

Value apply_unary(ast::UnaryOp op, const Value& v) {
  if (op == ast::UnaryOp::kNot) return Value::boolean(!v.truthy());
  if (v.is_undefined()) fail_undefined(v);
  const char* name = op == ast::UnaryOp::kNeg ? "-" : "+";
  LORAX_CHECK(v.is_number(), "bad operand type for unary ", name, ": '", v.type_name(), "'");
  if (op == ast::UnaryOp::kPos) return v.is_bool() ? Value::integer(v.as_int()) : v;
  if (v.is_float()) return Value::number(-v.as_double());
  LORAX_CHECK(v.as_int() != std::numeric_limits<std::int64_t>::min(),
              "integer result out of range");
  return Value::integer(-v.as_int());
}

bool apply_compare(ast::CompareOp op, const Value& l, const Value& r) {
  if (l.is_number() && r.is_number() && (l.is_float() || r.is_float())) {
    // Direct float comparisons keep NaN unordered, as in Python.
    const double a = l.as_double();
    const double b = r.as_double();
    switch (op) {
      case ast::CompareOp::kLt:
        return a < b;
      case ast::CompareOp::kLe:
        return a <= b;
      case ast::CompareOp::kGt:
        return a > b;
      case ast::CompareOp::kGe:
        return a >= b;
      default:
        break;
    }
  }
  switch (op) {
    case ast::CompareOp::kEq:
      return equals(l, r);
    case ast::CompareOp::kNe:
      return !equals(l, r);
    case ast::CompareOp::kLt:
      return compare(l, r, "<") < 0;
    case ast::CompareOp::kLe:
      return compare(l, r, "<=") <= 0;
    case ast::CompareOp::kGt:
      return compare(l, r, ">") > 0;
    case ast::CompareOp::kGe:
      return compare(l, r, ">=") >= 0;
    case ast::CompareOp::kIn:
      return contains(r, l);
    case ast::CompareOp::kNotIn:
      return !contains(r, l);
  }
  return false;
}

}  // namespace lorax::jinja
