#include "tokenizer/jinja/value_format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "tokenizer/jinja/python_str.h"

namespace lorax::jinja {
namespace {

// Containers can only nest without end through namespace objects that hold themselves;
// Python prints those with "..." but a bound keeps this simple and the stack safe.
constexpr int kMaxDepth = 256;

void check_depth(int depth) {
  LORAX_CHECK(depth <= kMaxDepth, "value nested more than ", kMaxDepth, " levels deep");
}

bool needs_escape_in_repr(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
         (c >= 0x205F && c <= 0x206F) || c == 0x3000 || (c >= 0xD800 && c <= 0xF8FF) || c == 0xFEFF;
}

void append_hex_escape(std::string& out, char32_t c) {
  char buf[16];
  if (c < 0x100) {
    std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
  } else if (c < 0x10000) {
    std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
  } else {
    std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
  }
  out += buf;
}

std::string string_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : pystr::decode(s)) {
    if (c == U'\\' || c == static_cast<char32_t>(quote)) {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == U'\n') {
      out += "\\n";
    } else if (c == U'\r') {
      out += "\\r";
    } else if (c == U'\t') {
      out += "\\t";
    } else if (needs_escape_in_repr(c)) {
      append_hex_escape(out, c);
    } else {
      pystr::append_code_point(out, c);
    }
  }
  out.push_back(quote);
  return out;
}

std::string repr_at(const Value& v, int depth);

std::string sequence_repr(const Value& v, int depth) {
  const bool tuple = v.is_tuple();
  std::string out = tuple ? "(" : "[";
  const auto& items = v.items();
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += repr_at(items[i], depth + 1);
  }
  if (tuple && items.size() == 1) out += ",";
  out += tuple ? ")" : "]";
  return out;
}

std::string dict_repr(const Dict& d, int depth) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, item] : d.entries()) {
    if (!first) out += ", ";
    first = false;
    out += repr_at(k, depth + 1) + ": " + repr_at(item, depth + 1);
  }
  return out + "}";
}

std::string str_at(const Value& v, int depth) {
  check_depth(depth);
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return v.as_bool() ? "True" : "False";
    case Value::Kind::kInt:
      return std::to_string(v.as_int());
    case Value::Kind::kFloat:
      return float_repr(v.as_double());
    case Value::Kind::kString:
      return v.as_string();
    case Value::Kind::kList:
      return sequence_repr(v, depth);
    case Value::Kind::kDict:
      return dict_repr(v.as_dict(), depth);
    case Value::Kind::kObject:
      return "<" + v.as_object().type_name + " " + dict_repr(v.as_object().attrs, depth) + ">";
    case Value::Kind::kCallable:
      return "<function " + v.as_callable().name + ">";
  }
  return "";
}

std::string repr_at(const Value& v, int depth) {
  if (v.is_string()) return string_repr(v.as_string());
  if (v.is_undefined()) return "Undefined";
  return str_at(v, depth);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string json_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return float_repr(d);
}

// json.dumps turns non-string keys into strings.
std::string json_key(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::kString:
      return k.as_string();
    case Value::Kind::kNone:
      return "null";
    case Value::Kind::kBool:
      return k.as_bool() ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(k.as_int());
    case Value::Kind::kFloat:
      return json_float(k.as_double());
    default:
      fail("keys must be str, int, float, bool or None, not ", k.type_name());
  }
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonOptions& o)
      : indent_(o.indent),
        item_sep_(o.item_separator.value_or(o.indent ? "," : ", ")),
        key_sep_(o.key_separator.value_or(": ")),
        sort_keys_(o.sort_keys) {}

  void write(const Value& v, int depth) {
    check_depth(depth);
    switch (v.kind()) {
      case Value::Kind::kNone:
        out_ += "null";
        return;
      case Value::Kind::kBool:
        out_ += v.as_bool() ? "true" : "false";
        return;
      case Value::Kind::kInt:
        out_ += std::to_string(v.as_int());
        return;
      case Value::Kind::kFloat:
        out_ += json_float(v.as_double());
        return;
      case Value::Kind::kString:
        out_ += json_string(v.as_string());
        return;
      case Value::Kind::kList:
        write_list(v.items(), depth);
        return;
      case Value::Kind::kDict:
        write_dict(v.as_dict(), depth);
        return;
      default:
        fail("Object of type ", v.type_name(), " is not JSON serializable");
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void newline(int depth) {
    if (!indent_) return;
    out_ += "\n";
    for (int i = 0; i < depth; ++i) out_ += *indent_;
  }

  void write_list(const std::vector<Value>& items, int depth) {
    if (items.empty()) {
      out_ += "[]";
      return;
    }
    out_ += "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_ += item_sep_;
      newline(depth + 1);
      write(items[i], depth + 1);
    }
    newline(depth);
    out_ += "]";
  }

  void write_dict(const Dict& d, int depth) {
    if (d.empty()) {
      out_ += "{}";
      return;
    }
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& e : d.entries()) entries.push_back(&e);
    if (sort_keys_) {
      std::stable_sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
        return compare(a->first, b->first) < 0;
      });
    }
    out_ += "{";
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out_ += item_sep_;
      newline(depth + 1);
      out_ += json_string(json_key(entries[i]->first)) + key_sep_;
      write(entries[i]->second, depth + 1);
    }
    newline(depth);
    out_ += "}";
  }

  std::optional<std::string> indent_;
  std::string item_sep_;
  std::string key_sep_;
  bool sort_keys_;
  std::string out_;
};

struct PercentSpec {
  std::string flags;
  std::string width;
  std::string precision;  // with its leading '.'
  char conversion = 's';
};

std::string pad(std::string text, const PercentSpec& spec) {
  const std::size_t width = spec.width.empty() ? 0 : std::stoul(spec.width);
  const std::size_t len = pystr::length(text);
  if (len >= width) return text;
  const std::string fill(width - len, ' ');
  return spec.flags.find('-') != std::string::npos ? text + fill : fill + text;
}

std::string format_one(const PercentSpec& spec, const Value& v) {
  const char c = spec.conversion;
  if (c == 's' || c == 'r') {
    std::string text = c == 's' ? to_str(v) : to_repr(v);
    if (!spec.precision.empty()) {
      text = pystr::slice(text, std::nullopt, std::stoll(spec.precision.substr(1)), std::nullopt);
    }
    return pad(std::move(text), spec);
  }
  if (c == 'c') {
    if (v.is_string()) return pad(v.as_string(), spec);
    std::string out;
    pystr::append_code_point(out, static_cast<char32_t>(v.as_int()));
    return pad(out, spec);
  }
  LORAX_CHECK(v.is_number(), "%", c, " format: a real number is required, not ", v.type_name());
  const std::string head = "%" + spec.flags + spec.width + spec.precision;
  char buf[512];
  if (c == 'd' || c == 'i' || c == 'x' || c == 'X' || c == 'o') {
    const auto i =
        v.is_float() ? static_cast<long long>(v.as_double()) : static_cast<long long>(v.as_int());
    std::snprintf(buf, sizeof(buf), (head + "ll" + (c == 'i' ? 'd' : c)).c_str(), i);
  } else {
    std::snprintf(buf, sizeof(buf), (head + c).c_str(), v.as_double());
  }
  return buf;
}

// Reads one "%(key)flags width .precision conversion" spec starting after the '%'.
PercentSpec read_spec(const std::string& f, std::size_t& i, std::string& key) {
  PercentSpec spec;
  if (f[i] == '(') {
    const std::size_t close = f.find(')', i);
    LORAX_CHECK(close != std::string::npos, "incomplete format key");
    key = f.substr(i + 1, close - i - 1);
    i = close + 1;
  }
  while (i < f.size() && std::string("-+ #0").find(f[i]) != std::string::npos) spec.flags += f[i++];
  while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) spec.width += f[i++];
  if (i < f.size() && f[i] == '.') {
    spec.precision = ".";
    ++i;
    while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) spec.precision += f[i++];
  }
  LORAX_CHECK(spec.width.size() < 4 && spec.precision.size() < 4,
              "format width or precision too large");
  LORAX_CHECK(i < f.size(), "incomplete format");
  spec.conversion = f[i++];
  LORAX_CHECK(std::string("srdifFeEgGxXoc").find(spec.conversion) != std::string::npos,
              "unsupported format character '", spec.conversion, "'");
  return spec;
}

}  // namespace

std::string percent_format(const std::string& f, const Value& args) {
  std::vector<Value> positional;
  if (args.is_tuple()) {
    positional = args.items();
  } else if (!args.is_dict()) {
    positional.push_back(args);
  }
  std::size_t next = 0;
  std::string out;
  for (std::size_t i = 0; i < f.size();) {
    if (f[i] != '%') {
      out.push_back(f[i++]);
      continue;
    }
    ++i;
    LORAX_CHECK(i < f.size(), "incomplete format");
    if (f[i] == '%') {
      out.push_back('%');
      ++i;
      continue;
    }
    std::string key;
    const PercentSpec spec = read_spec(f, i, key);
    if (!key.empty()) {
      LORAX_CHECK(args.is_dict(), "format requires a mapping");
      const Value* v = args.as_dict().find(std::string_view(key));
      LORAX_CHECK(v != nullptr, "format key '", key, "' not found");
      out += format_one(spec, *v);
      continue;
    }
    LORAX_CHECK(next < positional.size(), "not enough arguments for format string");
    out += format_one(spec, positional[next++]);
  }
  // Python skips this check when the argument could be a mapping (it has __getitem__).
  const bool mapping_like =
      args.is_dict() || (args.is_list() && !args.is_tuple()) || args.is_undefined();
  LORAX_CHECK(mapping_like || next == positional.size(),
              "not all arguments converted during string formatting");
  return out;
}

std::string to_str(const Value& v) {
  return str_at(v, 0);
}
std::string to_repr(const Value& v) {
  return repr_at(v, 0);
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form, then laid out by Python's repr rules.
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, result.ptr);
  std::string sign;
  if (sci[0] == '-') sign = "-", sci.erase(0, 1);
  const std::size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(sci.substr(e + 1));
  const int decpt = exponent + 1;  // digits are 0.d1d2... * 10^decpt
  const int ndigits = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    std::string out = sign + digits.substr(0, 1);
    if (ndigits > 1) out += "." + digits.substr(1);
    char exp[16];
    std::snprintf(exp, sizeof(exp), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp;
  }
  if (decpt <= 0) return sign + "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
  if (decpt >= ndigits) {
    return sign + digits + std::string(static_cast<std::size_t>(decpt - ndigits), '0') + ".0";
  }
  return sign + digits.substr(0, static_cast<std::size_t>(decpt)) + "." +
         digits.substr(static_cast<std::size_t>(decpt));
}

std::string to_json(const Value& v, const JsonOptions& options) {
  JsonWriter writer(options);
  writer.write(v, 0);
  return writer.take();
}

}  // namespace lorax::jinja
