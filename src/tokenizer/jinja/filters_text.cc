// Filters on strings and numbers: trim, upper, replace, indent, tojson, int, round, default, ...
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

#include "core/error.h"
#include "tokenizer/jinja/filter_tables.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/python_str.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

using pystr::StripSide;

std::int64_t int_arg(const Value& v, std::string_view what) {
  LORAX_CHECK(v.is_integral(), what, " must be an integer, not ", v.type_name());
  return v.as_int();
}

Value text(std::string s) {
  return Value::string(std::move(s));
}

Value filter_trim(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "trim", {{"chars", Value::none()}});
  std::optional<std::string> chars;
  if (!a[0].is_none()) chars = to_str(a[0]);
  return text(pystr::strip(to_str(v), chars, StripSide::kBoth));
}

Value filter_upper(const Value& v, const CallArgs& args) {
  bind_args(args, "upper", {});
  return text(pystr::upper(to_str(v)));
}

Value filter_lower(const Value& v, const CallArgs& args) {
  bind_args(args, "lower", {});
  return text(pystr::lower(to_str(v)));
}

Value filter_capitalize(const Value& v, const CallArgs& args) {
  bind_args(args, "capitalize", {});
  return text(pystr::capitalize(to_str(v)));
}

// Jinja's title filter: a word starts after whitespace or one of "-({[<" (unlike str.title,
// an apostrophe does not start a word: "don't" -> "Don't").
Value filter_title(const Value& v, const CallArgs& args) {
  bind_args(args, "title", {});
  std::u32string cps = pystr::decode(to_str(v));
  bool word_start = true;
  for (char32_t& c : cps) {
    const bool separator =
        pystr::is_space(c) || c == U'-' || c == U'(' || c == U'{' || c == U'[' || c == U'<';
    if (separator) {
      word_start = true;
      continue;
    }
    c = word_start ? pystr::to_upper(c) : pystr::to_lower(c);
    word_start = false;
  }
  return text(pystr::encode(cps));
}

Value filter_replace(const Value& v, const CallArgs& args) {
  const auto a =
      bind_args(args, "replace", {{"old", Value()}, {"new", Value()}, {"count", Value::none()}});
  const std::int64_t count = a[2].is_none() ? -1 : int_arg(a[2], "count");
  return text(pystr::replace(to_str(v), to_str(a[0]), to_str(a[1]), count));
}

Value filter_indent(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "indent",
                           {{"width", Value::integer(4)},
                            {"first", Value::boolean(false)},
                            {"blank", Value::boolean(false)}});
  if (v.is_undefined()) fail_undefined(v);
  LORAX_CHECK(v.is_string(), "unsupported operand type(s) for +=: '", v.type_name(), "' and 'str'");
  const std::string indention = a[0].is_string()
                                    ? a[0].as_string()
                                    : std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(
                                                      int_arg(a[0], "width"), 0, 1 << 16)),
                                                  ' ');
  // Jinja appends a newline first so that splitlines() keeps a trailing empty line.
  std::vector<std::string> lines = pystr::splitlines(v.as_string() + "\n", false);
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\n";
    if (i > 0 && (a[2].truthy() || !lines[i].empty())) out += indention;
    out += lines[i];
  }
  if (a[1].truthy()) out = indention + out;
  return text(std::move(out));
}

Value filter_wordcount(const Value& v, const CallArgs& args) {
  bind_args(args, "wordcount", {});
  std::int64_t words = 0;
  bool in_word = false;
  for (char32_t c : pystr::decode(to_str(v))) {
    const bool word_char = pystr::is_alnum(c) || c == U'_';
    if (word_char && !in_word) ++words;
    in_word = word_char;
  }
  return Value::integer(words);
}

Value filter_center(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "center", {{"width", Value::integer(80)}});
  CallArgs call;
  call.positional.push_back(a[0]);
  return call_attribute(Value::string(to_str(v)), "center", call);
}

Value filter_escape(const Value& v, const CallArgs& args) {
  bind_args(args, "escape", {});
  std::string out;
  for (char c : to_str(v)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return text(std::move(out));
}

// No autoescaping here, so marking a string safe only makes it a string.
Value filter_string(const Value& v, const CallArgs& args) {
  bind_args(args, "string", {});
  return text(to_str(v));
}

Value filter_format(const Value& v, const CallArgs& args) {
  LORAX_CHECK(args.positional.empty() || args.keyword.empty(),
              "format filter can't handle positional and keyword arguments at the same time");
  if (!args.keyword.empty()) {
    Dict d;
    for (const auto& [k, value] : args.keyword) d.set(k, value);
    return text(percent_format(to_str(v), Value::dict(std::move(d))));
  }
  return text(percent_format(to_str(v), Value::tuple(args.positional)));
}

Value filter_truncate(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "truncate",
                           {{"length", Value::integer(255)},
                            {"killwords", Value::boolean(false)},
                            {"end", Value::string("...")},
                            {"leeway", Value::integer(5)}});
  const std::string s = to_str(v);
  const std::int64_t length = int_arg(a[0], "length");
  const std::string end = to_str(a[2]);
  const auto end_len = static_cast<std::int64_t>(pystr::length(end));
  LORAX_CHECK(length >= end_len, "expected length >= ", end_len, ", got ", length);
  if (static_cast<std::int64_t>(pystr::length(s)) <= length + int_arg(a[3], "leeway"))
    return text(s);
  const std::string head = pystr::slice(s, std::nullopt, length - end_len, std::nullopt);
  if (a[1].truthy()) return text(head + end);
  return text(pystr::rsplit(head, std::string(" "), 1).front() + end);
}

// HF's tojson: json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
// sort_keys=sort_keys), with insertion order kept.
Value filter_tojson(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "tojson",
                           {{"ensure_ascii", Value::boolean(false)},
                            {"indent", Value::none()},
                            {"separators", Value::none()},
                            {"sort_keys", Value::boolean(false)}});
  LORAX_CHECK(!a[0].truthy(), "tojson(ensure_ascii=True) is not supported");
  JsonOptions options;
  if (a[1].is_string()) {
    options.indent = a[1].as_string();
  } else if (!a[1].is_none()) {
    options.indent = std::string(
        static_cast<std::size_t>(std::clamp<std::int64_t>(int_arg(a[1], "indent"), 0, 1 << 10)),
        ' ');
  }
  if (!a[2].is_none()) {
    LORAX_CHECK(a[2].is_list() && a[2].items().size() == 2 && a[2].items()[0].is_string() &&
                    a[2].items()[1].is_string(),
                "tojson separators must be a pair of strings");
    options.item_separator = a[2].items()[0].as_string();
    options.key_separator = a[2].items()[1].as_string();
  }
  options.sort_keys = a[3].truthy();
  return text(to_json(v, options));
}

// Python's int(str, base): whitespace around, a sign, underscores between digits.
std::optional<std::int64_t> parse_int(const std::string& raw, int base) {
  std::string s = pystr::strip(raw, std::nullopt, StripSide::kBoth);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) negative = s[0] == '-', s.erase(0, 1);
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == 'x') s.erase(0, 2);
  std::string digits(negative ? 1 : 0, '-');
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && s[i - 1] != '_') continue;
    digits.push_back(s[i]);
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.size() == (negative ? 1u : 0u) || ec != std::errc() ||
      end != digits.data() + digits.size())
    return std::nullopt;
  return value;
}

// Python's float(str): also "inf", "nan", "1_000.5".
std::optional<double> parse_float(const std::string& raw) {
  std::string s = pystr::strip(raw, std::nullopt, StripSide::kBoth);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) negative = s[0] == '-', s.erase(0, 1);
  std::erase(s, '_');
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -value : value;
}

Value float_to_int(double d) {
  LORAX_CHECK(std::isfinite(d), "cannot convert float ", float_repr(d), " to integer");
  LORAX_CHECK(std::fabs(d) < 9.2e18, "integer out of range");
  return Value::integer(static_cast<std::int64_t>(d));
}

Value filter_int(const Value& v, const CallArgs& args) {
  const auto a =
      bind_args(args, "int", {{"default", Value::integer(0)}, {"base", Value::integer(10)}});
  if (v.is_undefined()) fail_undefined(v);  // Jinja's Undefined refuses int() and float()
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) return float_to_int(v.as_double());
  if (!v.is_string()) return a[0];
  const std::int64_t base = int_arg(a[1], "base");
  LORAX_CHECK(base >= 2 && base <= 36, "int() base must be >= 2 and <= 36");
  if (const auto i = parse_int(v.as_string(), static_cast<int>(base))) return Value::integer(*i);
  if (const auto d = parse_float(v.as_string())) return float_to_int(*d);  // "42.23"|int is 42
  return a[0];
}

Value filter_float(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "float", {{"default", Value::number(0.0)}});
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_number()) return Value::number(v.as_double());
  if (!v.is_string()) return a[0];
  if (const auto d = parse_float(v.as_string())) return Value::number(*d);
  return a[0];
}

Value filter_abs(const Value& v, const CallArgs& args) {
  bind_args(args, "abs", {});
  LORAX_CHECK(v.is_number(), "bad operand type for abs(): '", v.type_name(), "'");
  if (v.is_float()) return Value::number(std::fabs(v.as_double()));
  return v.as_int() < 0 ? apply_unary(ast::UnaryOp::kNeg, v) : Value::integer(v.as_int());
}

// Python's round(x, n): the exactly rounded decimal, ties to even; printf rounds the same way.
double round_float(double x, std::int64_t n) {
  if (!std::isfinite(x) || n > 330 || std::fabs(x) >= 1e17) return x;  // already whole
  if (n < 0) {
    const double scale = std::pow(10.0, static_cast<double>(-n));
    return std::nearbyint(x / scale) * scale;
  }
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(n), x);
  double out = 0;
  std::from_chars(buf, buf + std::char_traits<char>::length(buf), out);
  return out;
}

std::int64_t round_int(std::int64_t v, std::int64_t n) {
  if (n >= 0) return v;
  if (n < -18) return 0;
  std::int64_t m = 1;
  for (std::int64_t i = 0; i < -n; ++i) m *= 10;
  std::int64_t q = v / m;
  std::int64_t r = v % m;
  if (r < 0) r += m, --q;
  if (2 * r > m || (2 * r == m && (q & 1))) ++q;
  return q * m;
}

Value filter_round(const Value& v, const CallArgs& args) {
  const auto a = bind_args(args, "round",
                           {{"precision", Value::integer(0)}, {"method", Value::string("common")}});
  const std::int64_t precision = int_arg(a[0], "precision");
  const std::string method = to_str(a[1]);
  LORAX_CHECK(method == "common" || method == "ceil" || method == "floor",
              "method must be common, ceil or floor");
  LORAX_CHECK(v.is_number(), "round() needs a number, not ", v.type_name());
  if (method == "common") {
    if (v.is_integral()) return Value::integer(round_int(v.as_int(), precision));
    return Value::number(round_float(v.as_double(), precision));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = v.as_double() * scale;
  return Value::number((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

Value filter_default(const Value& v, const CallArgs& args) {
  const auto a = bind_args(
      args, "default", {{"default_value", Value::string("")}, {"boolean", Value::boolean(false)}});
  if (v.is_undefined() || (a[1].truthy() && !v.truthy())) return a[0];
  return v;
}

constexpr std::pair<std::string_view, FilterFn> kTextFilters[] = {
    {"trim", filter_trim},
    {"upper", filter_upper},
    {"lower", filter_lower},
    {"title", filter_title},
    {"capitalize", filter_capitalize},
    {"replace", filter_replace},
    {"indent", filter_indent},
    {"wordcount", filter_wordcount},
    {"center", filter_center},
    {"escape", filter_escape},
    {"e", filter_escape},
    {"forceescape", filter_escape},
    {"safe", filter_string},
    {"string", filter_string},
    {"format", filter_format},
    {"truncate", filter_truncate},
    {"tojson", filter_tojson},
    {"int", filter_int},
    {"float", filter_float},
    {"abs", filter_abs},
    {"round", filter_round},
    {"default", filter_default},
    {"d", filter_default},
};

}  // namespace

FilterFn find_text_filter(std::string_view name) {
  for (const auto& [filter_name, fn] : kTextFilters) {
    if (filter_name == name) return fn;
  }
  return nullptr;
}

FilterFn find_filter(std::string_view name) {
  if (FilterFn fn = find_text_filter(name)) return fn;
  return find_sequence_filter(name);
}

}  // namespace lorax::jinja
