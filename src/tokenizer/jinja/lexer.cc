#include "tokenizer/jinja/lexer.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "tokenizer/jinja/python_str.h"

namespace lorax::jinja {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Operators, longest first so that "**" wins over "*".
constexpr std::array<std::string_view, 26> kOperators = {
    "**", "//", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[",
    "]",  "(",  ")",  "{",  "}",  ">",  "<", "=", ".", ":", "|", ",", ";"};

// Python source text: "\r\n" and "\r" become "\n", and one final newline goes.
std::string normalize_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool only_whitespace(std::string_view s) {
  const std::u32string cps = pystr::decode(s);
  return !cps.empty() && std::all_of(cps.begin(), cps.end(), pystr::is_space);
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize_source(source)) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) lex_text_and_tag();
    tokens_.push_back({TokenType::kEnd, "", line_});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void error(const std::string& message) const {
    throw TemplateSyntaxError(message, line_);
  }

  bool at(std::string_view s, std::size_t p) const { return src_.compare(p, s.size(), s) == 0; }
  bool at(std::string_view s) const { return at(s, pos_); }

  void advance_to(std::size_t p) {
    line_ += static_cast<int>(std::count(src_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                         src_.begin() + static_cast<std::ptrdiff_t>(p), '\n'));
    pos_ = p;
  }

  // Python's `\s`, which Jinja's patterns use, includes Unicode spaces such as U+00A0.
  std::size_t spaces_end(std::size_t p) const {
    while (p < src_.size()) {
      const auto byte = static_cast<unsigned char>(src_[p]);
      if (byte < 0x80) {
        if (!pystr::is_space(byte)) break;
        ++p;
        continue;
      }
      std::size_t n = 1;
      while (n < 4 && p + n < src_.size() &&
             (static_cast<unsigned char>(src_[p + n]) & 0xC0) == 0x80)
        ++n;
      const std::u32string cp = pystr::decode(std::string_view(src_).substr(p, n));
      if (cp.size() != 1 || !pystr::is_space(cp[0])) break;
      p += n;
    }
    return p;
  }

  void skip_spaces() { advance_to(spaces_end(pos_)); }

  // Where the next "{{", "{%" or "{#" starts, or npos.
  std::size_t find_tag(std::size_t from) const {
    for (std::size_t p = src_.find('{', from); p != std::string::npos; p = src_.find('{', p + 1)) {
      if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) {
        return p;
      }
    }
    return std::string::npos;
  }

  // Jinja's handling of the text before a tag: "-" strips all whitespace; otherwise, for blocks
  // and comments, lstrip_blocks drops the indentation of a tag that starts its line.
  std::string strip_before_tag(std::string text, char sign, bool is_variable) const {
    if (sign == '-') return pystr::strip(text, std::nullopt, pystr::StripSide::kRight);
    if (sign == '+' || is_variable) return text;
    const std::size_t line_start = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
    if ((line_start > 0 || line_starting_) &&
        only_whitespace(std::string_view(text).substr(line_start))) {
      text.resize(line_start);
    }
    return text;
  }

  void emit_text(std::string text, int line) {
    if (!text.empty()) tokens_.push_back({TokenType::kText, std::move(text), line});
  }

  void lex_text_and_tag() {
    const std::size_t tag = find_tag(pos_);
    const int text_line = line_;
    if (tag == std::string::npos) {
      emit_text(src_.substr(pos_), text_line);
      advance_to(src_.size());
      return;
    }
    const char kind = src_[tag + 1];
    const char sign =
        tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
    std::string text = src_.substr(pos_, tag - pos_);
    emit_text(strip_before_tag(std::move(text), sign, kind == '{'), text_line);
    advance_to(tag + 2 + (sign ? 1 : 0));
    line_starting_ = false;
    if (kind == '#') {
      lex_comment();
    } else if (kind == '%' && try_lex_raw()) {
      return;
    } else {
      lex_tag(kind == '%');
    }
  }

  // After an end tag: "-" strips all following whitespace, trim_blocks drops one newline.
  void finish_tag(std::size_t after, char sign, bool trim_newline) {
    advance_to(after);
    if (sign == '-') {
      skip_spaces();
    } else if (sign != '+' && trim_newline && pos_ < src_.size() && src_[pos_] == '\n') {
      advance_to(pos_ + 1);
    }
    line_starting_ = pos_ > 0 && src_[pos_ - 1] == '\n';
  }

  void lex_comment() {
    const std::size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) error("missing end of comment tag");
    const char sign =
        end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : 0;
    finish_tag(end + 2, sign, true);
  }

  // "{% raw %}...{% endraw %}": the text between is not parsed.
  bool try_lex_raw() {
    std::size_t p = pos_;
    p = spaces_end(p);
    if (!at("raw", p)) return false;
    p += 3;
    p = spaces_end(p);
    const bool strip_after = at("-%}", p);
    if (!strip_after && !at("%}", p)) return false;
    advance_to(p + (strip_after ? 3 : 2));
    if (strip_after) skip_spaces();
    line_starting_ = pos_ > 0 && src_[pos_ - 1] == '\n';
    const int text_line = line_;
    for (std::size_t q = src_.find("{%", pos_); q != std::string::npos;
         q = src_.find("{%", q + 1)) {
      std::size_t r = q + 2;
      const char sign = r < src_.size() && (src_[r] == '-' || src_[r] == '+') ? src_[r] : 0;
      if (sign) ++r;
      r = spaces_end(r);
      if (!at("endraw", r)) continue;
      r += 6;
      r = spaces_end(r);
      const char end_sign = r < src_.size() && (src_[r] == '-' || src_[r] == '+') ? src_[r] : 0;
      if (!at("%}", r + (end_sign ? 1 : 0))) continue;
      emit_text(strip_before_tag(src_.substr(pos_, q - pos_), sign, false), text_line);
      finish_tag(r + (end_sign ? 3 : 2), end_sign, true);
      return true;
    }
    error("missing end of raw directive");
  }

  bool try_end_tag(bool block) {
    if (!balance_.empty()) return false;
    const std::string_view close = block ? "%}" : "}}";
    char sign = 0;
    if (pos_ < src_.size() && (src_[pos_] == '-' || (block && src_[pos_] == '+')))
      sign = src_[pos_];
    if (!at(close, pos_ + (sign ? 1 : 0))) return false;
    tokens_.push_back({block ? TokenType::kBlockEnd : TokenType::kVariableEnd, "", line_});
    finish_tag(pos_ + close.size() + (sign ? 1 : 0), sign, block);
    return true;
  }

  void lex_tag(bool block) {
    tokens_.push_back({block ? TokenType::kBlockBegin : TokenType::kVariableBegin, "", line_});
    while (true) {
      skip_spaces();
      if (pos_ >= src_.size())
        error(block ? "unexpected end of template, expected '%}'"
                    : "unexpected end of template, expected '}}'");
      if (try_end_tag(block)) return;
      lex_expression_token();
    }
  }

  void lex_expression_token() {
    const char c = src_[pos_];
    if (is_digit(c) && !(pos_ > 0 && src_[pos_ - 1] == '.'))
      return lex_number();  // no float after '.'
    if (is_digit(c)) return lex_integer();
    if (is_name_start(c)) {
      std::size_t p = pos_;
      while (p < src_.size() && is_name_char(src_[p])) ++p;
      tokens_.push_back({TokenType::kName, src_.substr(pos_, p - pos_), line_});
      advance_to(p);
      return;
    }
    if (c == '\'' || c == '"') return lex_string();
    for (std::string_view op : kOperators) {
      if (!at(op)) continue;
      track_balance(op);
      tokens_.push_back({TokenType::kOperator, std::string(op), line_});
      advance_to(pos_ + op.size());
      return;
    }
    error(std::string("unexpected char '") + c + "'");
  }

  void track_balance(std::string_view op) {
    if (op == "(" || op == "[" || op == "{") {
      balance_.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
    } else if (op == ")" || op == "]" || op == "}") {
      if (balance_.empty()) error("unexpected '" + std::string(op) + "'");
      if (balance_.back() != op[0]) {
        error("unexpected '" + std::string(op) + "', expected '" + std::string(1, balance_.back()) +
              "'");
      }
      balance_.pop_back();
    }
  }

  // Digits with single underscores between them ("1_000"); returns the end position.
  std::size_t scan_digits(std::size_t p, std::string& out, bool (*digit)(char)) const {
    while (p < src_.size() && digit(src_[p])) {
      out.push_back(src_[p++]);
      if (p + 1 < src_.size() && src_[p] == '_' && digit(src_[p + 1])) ++p;
    }
    return p;
  }

  // A float needs a fraction or an exponent; anything else is an integer.
  void lex_number() {
    std::string text;
    std::size_t p = scan_digits(pos_, text, is_digit);
    bool is_float = false;
    if (p + 1 < src_.size() && src_[p] == '.' && is_digit(src_[p + 1])) {
      text.push_back('.');
      p = scan_digits(p + 1, text, is_digit);
      is_float = true;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      std::size_t q = p + 1;
      std::string exp = "e";
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) exp.push_back(src_[q++]);
      if (q < src_.size() && is_digit(src_[q])) {
        p = scan_digits(q, exp, is_digit);
        text += exp;
        is_float = true;
      }
    }
    if (!is_float) return lex_integer();
    tokens_.push_back({TokenType::kFloat, text, line_});
    advance_to(p);
  }

  void lex_integer() {
    std::string text;
    std::size_t p = pos_;
    const char base =
        p + 1 < src_.size() && src_[p] == '0' ? static_cast<char>(src_[p + 1] | 0x20) : 0;
    if (base == 'x' || base == 'o' || base == 'b') {
      text = std::string("0") + base;
      p += 2;
      if (p < src_.size() && src_[p] == '_') ++p;
      p = scan_digits(p, text, is_hex);
      if (text.size() == 2) error("invalid integer literal");
    } else {
      p = scan_digits(p, text, is_digit);
    }
    tokens_.push_back({TokenType::kInteger, text, line_});
    advance_to(p);
  }

  void lex_string() {
    const char quote = src_[pos_];
    std::size_t p = pos_ + 1;
    while (p < src_.size() && src_[p] != quote) p += src_[p] == '\\' ? 2 : 1;
    if (p >= src_.size()) error("unexpected end of string");
    tokens_.push_back({TokenType::kString,
                       unescape(std::string_view(src_).substr(pos_ + 1, p - pos_ - 1)), line_});
    advance_to(p + 1);
  }

  // Python's "unicode-escape" decoding, which Jinja applies to string literals.
  std::string unescape(std::string_view s) const {
    // Single-character escapes and what they stand for.
    static constexpr std::string_view kFrom = "\\'\"abfnrtv";
    static constexpr std::string_view kTo = "\\'\"\a\b\f\n\r\t\v";
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\' || i + 1 == s.size()) {
        out.push_back(s[i]);
        continue;
      }
      const char e = s[++i];
      if (const std::size_t k = kFrom.find(e); k != std::string_view::npos) {
        out.push_back(kTo[k]);
      } else if (e == '\n') {
        // a backslash-newline continues the line
      } else if (e == 'x' || e == 'u' || e == 'U') {
        i = append_hex(s, i, e == 'x' ? 2 : e == 'u' ? 4 : 8, out);
      } else if (e >= '0' && e <= '7') {
        i = append_octal(s, i, out);
      } else {
        out.push_back('\\');  // unknown escapes stay as written
        out.push_back(e);
      }
    }
    return out;
  }

  // `\ooo`: up to three octal digits starting at s[i]; returns the last index used.
  std::size_t append_octal(std::string_view s, std::size_t i, std::string& out) const {
    char32_t v = 0;
    std::size_t n = 0;
    for (; n < 3 && i + n < s.size() && s[i + n] >= '0' && s[i + n] <= '7'; ++n) {
      v = v * 8 + static_cast<char32_t>(s[i + n] - '0');
    }
    pystr::append_code_point(out, v);
    return i + n - 1;
  }

  // `\x`, `\u`, `\U` with exactly `digits` hex digits after s[i]; returns the last index used.
  std::size_t append_hex(std::string_view s, std::size_t i, std::size_t digits,
                         std::string& out) const {
    char32_t v = 0;
    for (std::size_t k = 1; k <= digits; ++k) {
      if (i + k >= s.size() || !is_hex(s[i + k])) error("truncated escape sequence in string");
      const char h = s[i + k];
      v = v * 16 + static_cast<char32_t>(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    if (v > 0x10FFFF) error("illegal Unicode character in string");
    pystr::append_code_point(out, v);
    return i + digits;
  }

  std::string src_;
  std::size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;  // the previous token ended a line (or nothing came before)
  std::vector<char> balance_;  // closers expected for open brackets inside a tag
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  return Lexer(source).run();
}

}  // namespace lorax::jinja
