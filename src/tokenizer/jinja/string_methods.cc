// Python's str methods as templates call them: `s.strip()`, `s.split(',')`, `'{}'.format(x)`.
#include "tokenizer/jinja/string_methods.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "tokenizer/jinja/python_str.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

std::optional<std::string> optional_string(const Value& v, std::string_view what) {
  if (v.is_none() || v.is_undefined()) return std::nullopt;
  LORAX_CHECK(v.is_string(), what, " must be a string or None, not ", v.type_name());
  return v.as_string();
}

const std::string& string_arg(const Value& v, std::string_view what) {
  LORAX_CHECK(v.is_string(), what, " must be a string, not ", v.type_name());
  return v.as_string();
}

std::int64_t int_arg(const Value& v, std::string_view what) {
  LORAX_CHECK(v.is_integral(), what, " must be an integer, not ", v.type_name());
  return v.as_int();
}

Value string_list(std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (auto& p : parts) items.push_back(Value::string(std::move(p)));
  return Value::list(std::move(items));
}

// startswith/endswith take one prefix or a tuple of them.
bool affix_matches(const std::string& s, const Value& affix, bool prefix) {
  if (affix.is_list()) {
    return std::any_of(affix.items().begin(), affix.items().end(),
                       [&](const Value& a) { return affix_matches(s, a, prefix); });
  }
  const std::string& a = string_arg(affix, prefix ? "startswith argument" : "endswith argument");
  if (a.size() > s.size()) return false;
  return prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
}

template <typename Pred>
bool all_chars(const std::string& s, Pred pred) {
  const std::u32string cps = pystr::decode(s);
  return !cps.empty() && std::all_of(cps.begin(), cps.end(), pred);
}

std::string justify(const std::string& s, const CallArgs& args, std::string_view method) {
  const auto a = bind_args(args, method, {{"width", Value()}, {"fillchar", Value::string(" ")}});
  const std::int64_t width = int_arg(a[0], "width");
  const std::string& fill = string_arg(a[1], "fillchar");
  const auto len = static_cast<std::int64_t>(pystr::length(s));
  if (width <= len) return s;
  LORAX_CHECK(width <= (std::int64_t{1} << 24), "width too large");
  const std::int64_t total = width - len;
  std::int64_t left = method == "ljust"   ? 0
                      : method == "rjust" ? total
                                          : total / 2 + (total & width & 1);
  std::string out;
  for (std::int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (std::int64_t i = left; i < total; ++i) out += fill;
  return out;
}

Value str_predicate(const std::string& s, std::string_view name) {
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
    return Value::boolean(all_chars(s, [](char32_t c) { return c >= U'0' && c <= U'9'; }));
  }
  if (name == "isalpha") {
    return Value::boolean(
        all_chars(s, [](char32_t c) { return pystr::is_alnum(c) && !(c >= U'0' && c <= U'9'); }));
  }
  if (name == "isalnum") return Value::boolean(all_chars(s, pystr::is_alnum));
  if (name == "isspace") return Value::boolean(all_chars(s, pystr::is_space));
  const std::u32string cps = pystr::decode(s);
  const bool any_upper = std::any_of(cps.begin(), cps.end(), pystr::is_cased_upper);
  const bool any_lower = std::any_of(cps.begin(), cps.end(), pystr::is_cased_lower);
  if (name == "isupper") return Value::boolean(any_upper && !any_lower);
  return Value::boolean(any_lower && !any_upper);  // islower
}

Value str_search(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"sub", Value()}});
  const std::string& sub = string_arg(a[0], "substring");
  if (name == "count") return Value::integer(pystr::count(s, sub));
  const bool reverse = name == "rfind" || name == "rindex";
  const std::int64_t at = reverse ? pystr::rfind(s, sub) : pystr::find(s, sub);
  LORAX_CHECK(at >= 0 || name == "find" || name == "rfind", "substring not found");
  return Value::integer(at);
}

// ---- str.format ---------------------------------------------------------------------------

// A small part of Python's format-spec mini-language: [[fill]align][0][width][.precision][type]
// with types s, d, f, e, g, x, o and b left to printf-like formatting.
std::string format_field(const Value& v, std::string_view spec, char conversion) {
  std::string text;
  char fill = ' ';
  char align = v.is_number() ? '>' : '<';
  std::size_t i = 0;
  if (spec.size() >= 2 && std::string_view("<>^").find(spec[1]) != std::string_view::npos) {
    fill = spec[0], align = spec[1], i = 2;
  } else if (!spec.empty() && std::string_view("<>^").find(spec[0]) != std::string_view::npos) {
    align = spec[0], i = 1;
  }
  if (i < spec.size() && spec[i] == '0') fill = '0', align = '>', ++i;
  std::size_t width = 0;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9')
    width = std::min<std::size_t>(width * 10 + static_cast<std::size_t>(spec[i++] - '0'), 1 << 20);
  std::string precision;
  if (i < spec.size() && spec[i] == '.') {
    precision = ".";
    for (++i; i < spec.size() && spec[i] >= '0' && spec[i] <= '9' && precision.size() < 4; ++i)
      precision += spec[i];
    LORAX_CHECK(precision.size() > 1, "format specifier missing precision");
  }
  const char type = i < spec.size() ? spec[i++] : 0;
  LORAX_CHECK(i == spec.size(), "unsupported format spec '", spec, "'");
  if (type == 0 || type == 's') {
    text = conversion == 'r' ? to_repr(v) : to_str(v);
    if (!precision.empty())
      text = pystr::slice(text, std::nullopt, std::stoll(precision.substr(1)), std::nullopt);
  } else {
    const std::string printf_type = type == 'd' ? "d" : std::string(1, type);
    text = percent_format("%" + precision + printf_type, v);
  }
  const std::size_t len = pystr::length(text);
  if (len >= width) return text;
  const std::size_t pad = width - len;
  const std::size_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0;
  return std::string(left, fill) + text + std::string(pad - left, fill);
}

std::string str_format(const std::string& f, const CallArgs& args) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if ((c == '{' || c == '}') && i + 1 < f.size() && f[i + 1] == c) {
      out.push_back(c);
      ++i;
      continue;
    }
    LORAX_CHECK(c != '}', "single '}' encountered in format string");
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    const std::size_t close = f.find('}', i);
    LORAX_CHECK(close != std::string::npos, "single '{' encountered in format string");
    std::string field = f.substr(i + 1, close - i - 1);
    i = close;
    std::string spec;
    char conversion = 's';
    if (const auto colon = field.find(':'); colon != std::string::npos)
      spec = field.substr(colon + 1), field.resize(colon);
    if (const auto bang = field.find('!'); bang != std::string::npos) {
      conversion = bang + 1 < field.size() ? field[bang + 1] : 's';
      field.resize(bang);
    }
    const Value* v = nullptr;
    if (field.empty() || (field.size() < 10 && std::all_of(field.begin(), field.end(), [](char d) {
                            return d >= '0' && d <= '9';
                          }))) {
      const std::size_t index = field.empty() ? auto_index++ : std::stoul(field);
      LORAX_CHECK(index < args.positional.size(), "Replacement index ", index,
                  " out of range for positional args tuple");
      v = &args.positional[index];
    } else {
      for (const auto& [k, value] : args.keyword) {
        if (k == field) v = &value;
      }
      LORAX_CHECK(v != nullptr, "KeyError: '", field, "'");
    }
    out += format_field(*v, spec, conversion);
  }
  return out;
}

using pystr::StripSide;

Value str_strip(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"chars", Value::none()}});
  const StripSide side = name == "strip"    ? StripSide::kBoth
                         : name == "lstrip" ? StripSide::kLeft
                                            : StripSide::kRight;
  return Value::string(pystr::strip(s, optional_string(a[0], "chars"), side));
}

Value str_split(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"sep", Value::none()}, {"maxsplit", Value::integer(-1)}});
  const auto sep = optional_string(a[0], "sep");
  const std::int64_t max = int_arg(a[1], "maxsplit");
  return string_list(name == "split" ? pystr::split(s, sep, max) : pystr::rsplit(s, sep, max));
}

Value str_splitlines(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"keepends", Value::boolean(false)}});
  return string_list(pystr::splitlines(s, a[0].truthy()));
}

Value str_affix_test(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"affix", Value()}});
  return Value::boolean(affix_matches(s, a[0], name == "startswith"));
}

Value str_case(const std::string& s, std::string_view name, const CallArgs& args) {
  bind_args(args, name, {});
  if (name == "upper") return Value::string(pystr::upper(s));
  if (name == "lower") return Value::string(pystr::lower(s));
  if (name == "title") return Value::string(pystr::title(s));
  if (name == "capitalize") return Value::string(pystr::capitalize(s));
  return Value::string(pystr::swapcase(s));
}

Value str_replace(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a =
      bind_args(args, name, {{"old", Value()}, {"new", Value()}, {"count", Value::integer(-1)}});
  return Value::string(
      pystr::replace(s, string_arg(a[0], "old"), string_arg(a[1], "new"), int_arg(a[2], "count")));
}

Value str_join(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"iterable", Value()}});
  std::string out;
  bool first = true;
  for (const Value& item : iterate(a[0])) {
    LORAX_CHECK(item.is_string(), "sequence item: expected str instance, ", item.type_name(),
                " found");
    if (!first) out += s;
    out += item.as_string();
    first = false;
  }
  return Value::string(std::move(out));
}

Value str_format_method(const std::string& s, std::string_view, const CallArgs& args) {
  return Value::string(str_format(s, args));
}

Value str_predicate_method(const std::string& s, std::string_view name, const CallArgs& args) {
  bind_args(args, name, {});
  return str_predicate(s, name);
}

Value str_remove_affix(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"affix", Value()}});
  const std::string& affix = string_arg(a[0], name);
  if (!affix_matches(s, a[0], name == "removeprefix")) return Value::string(s);
  return Value::string(name == "removeprefix" ? s.substr(affix.size())
                                              : s.substr(0, s.size() - affix.size()));
}

Value str_justify(const std::string& s, std::string_view name, const CallArgs& args) {
  return Value::string(justify(s, args, name));
}

Value str_zfill(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"width", Value()}});
  const auto len = static_cast<std::int64_t>(pystr::length(s));
  const std::int64_t pad = std::min<std::int64_t>(int_arg(a[0], "width"), 1 << 24) - len;
  if (pad <= 0) return Value::string(s);
  const bool sign = !s.empty() && (s[0] == '-' || s[0] == '+');
  return Value::string(s.substr(0, sign ? 1 : 0) + std::string(static_cast<std::size_t>(pad), '0') +
                       s.substr(sign ? 1 : 0));
}

Value str_partition(const std::string& s, std::string_view name, const CallArgs& args) {
  const auto a = bind_args(args, name, {{"sep", Value()}});
  const std::string& sep = string_arg(a[0], "sep");
  const std::size_t at = s.find(sep);
  if (at == std::string::npos) {
    return Value::tuple({Value::string(s), Value::string(""), Value::string("")});
  }
  return Value::tuple({Value::string(s.substr(0, at)), Value::string(sep),
                       Value::string(s.substr(at + sep.size()))});
}

constexpr std::pair<std::string_view, StrMethod> kStrMethods[] = {
    {"strip", str_strip},
    {"lstrip", str_strip},
    {"rstrip", str_strip},
    {"split", str_split},
    {"rsplit", str_split},
    {"splitlines", str_splitlines},
    {"startswith", str_affix_test},
    {"endswith", str_affix_test},
    {"upper", str_case},
    {"lower", str_case},
    {"title", str_case},
    {"capitalize", str_case},
    {"swapcase", str_case},
    {"replace", str_replace},
    {"find", str_search},
    {"rfind", str_search},
    {"index", str_search},
    {"rindex", str_search},
    {"count", str_search},
    {"join", str_join},
    {"format", str_format_method},
    {"isdigit", str_predicate_method},
    {"isalpha", str_predicate_method},
    {"isalnum", str_predicate_method},
    {"isspace", str_predicate_method},
    {"isupper", str_predicate_method},
    {"islower", str_predicate_method},
    {"isnumeric", str_predicate_method},
    {"isdecimal", str_predicate_method},
    {"removeprefix", str_remove_affix},
    {"removesuffix", str_remove_affix},
    {"center", str_justify},
    {"ljust", str_justify},
    {"rjust", str_justify},
    {"zfill", str_zfill},
    {"partition", str_partition},
};

}  // namespace

StrMethod find_str_method(std::string_view name) {
  for (const auto& [method_name, fn] : kStrMethods) {
    if (method_name == name) return fn;
  }
  return nullptr;
}

}  // namespace lorax::jinja
