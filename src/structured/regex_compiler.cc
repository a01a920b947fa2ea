#include "structured/regex_compiler.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace lorax::structured {
namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;  // code point ranges, inclusive
constexpr uint32_t kMaxCodePoint = 0x10FFFF;

Ranges normalized(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (auto& [lo, hi] : r) {
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

Ranges complement(const Ranges& r) {
  Ranges n = normalized(r), out;
  uint32_t next = 0;
  for (auto& [lo, hi] : n) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return out;
}

struct Ast {
  enum Kind { kSet, kConcat, kAlt, kRepeat, kStart, kEnd } kind = kConcat;
  Ranges set;
  std::vector<Ast> kids;
  int min = 0, max = 0;  // kRepeat; max -1: unbounded
};

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view pattern) : text_(pattern), cps_(decode_utf8(pattern)) {}

  Ast parse() {
    Ast a = alternation();
    if (pos_ < cps_.size()) fail("regex /", text_, "/: unbalanced ')'");
    return a;
  }

 private:
  bool more() const { return pos_ < cps_.size(); }
  uint32_t peek() const { return cps_[pos_]; }
  [[noreturn]] void refuse(const std::string& what) const {
    fail("regex /", text_, "/: ", what, " is not supported");
  }

  Ast alternation() {
    Ast alt{Ast::kAlt};
    alt.kids.push_back(concatenation());
    while (more() && peek() == '|') {
      ++pos_;
      alt.kids.push_back(concatenation());
    }
    return alt.kids.size() == 1 ? std::move(alt.kids[0]) : alt;
  }

  Ast concatenation() {
    Ast cat{Ast::kConcat};
    while (more() && peek() != '|' && peek() != ')') cat.kids.push_back(quantified(atom()));
    return cat;
  }

  bool read_int(int& value) {
    size_t start = pos_;
    value = 0;
    while (more() && peek() >= '0' && peek() <= '9') {
      value = std::min(value * 10 + static_cast<int>(peek() - '0'), 1'000'000);
      ++pos_;
    }
    return pos_ > start;
  }

  // {n}, {n,}, {n,m}; false (position restored) when the brace is a literal.
  bool bounds(int& lo, int& hi) {
    size_t save = pos_;
    ++pos_;
    if (!read_int(lo)) return pos_ = save, false;
    hi = lo;
    if (more() && peek() == ',') {
      ++pos_;
      if (!read_int(hi)) hi = -1;
    }
    if (!more() || peek() != '}') return pos_ = save, false;
    ++pos_;
    if (hi != -1 && hi < lo) fail("regex /", text_, "/: repetition {", lo, ",", hi, "}");
    return true;
  }

  Ast quantified(Ast a) {
    while (more()) {
      int lo = 0, hi = 0;
      uint32_t c = peek();
      if (c == '*')
        lo = 0, hi = -1, ++pos_;
      else if (c == '+')
        lo = 1, hi = -1, ++pos_;
      else if (c == '?')
        lo = 0, hi = 1, ++pos_;
      else if (c == '{' && bounds(lo, hi)) {
      } else
        break;
      if (more() && (peek() == '?' || peek() == '+')) ++pos_;  // lazy/possessive: same language
      Ast r{Ast::kRepeat};
      r.min = lo;
      r.max = hi;
      r.kids.push_back(std::move(a));
      a = std::move(r);
    }
    return a;
  }

  static Ast set(Ranges r) {
    Ast a{Ast::kSet};
    a.set = normalized(std::move(r));
    return a;
  }

  Ast atom() {
    uint32_t c = cps_[pos_++];
    switch (c) {
      case '(':
        return group();
      case '[':
        return set(char_class());
      case '.':
        return set(complement({{'\n', '\n'}, {'\r', '\r'}}));
      case '^':
        return Ast{Ast::kStart};
      case '$':
        return Ast{Ast::kEnd};
      case '\\':
        return set(escape(false));
      case '*':
      case '+':
      case '?':
        refuse("a quantifier with nothing before it");
      default:
        return set({{c, c}});
    }
  }

  Ast group() {
    if (more() && peek() == '?') {
      ++pos_;
      if (more() && peek() == ':') {
        ++pos_;
      } else if (more() && (peek() == '<' || peek() == 'P') &&
                 !(pos_ + 1 < cps_.size() && (cps_[pos_ + 1] == '=' || cps_[pos_ + 1] == '!'))) {
        while (more() && peek() != '>') ++pos_;  // named group: the name does not matter
        ++pos_;
      } else {
        refuse("lookaround or inline flags (?...)");
      }
    }
    Ast inner = alternation();
    if (!more() || peek() != ')') fail("regex /", text_, "/: missing ')'");
    ++pos_;
    return inner;
  }

  uint32_t hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      if (!more() || !isxdigit(static_cast<int>(peek()))) refuse("a malformed hex escape");
      uint32_t d = peek();
      v = v * 16 + (d <= '9' ? d - '0' : (d | 0x20) - 'a' + 10);
      ++pos_;
    }
    return v;
  }

  Ranges escape(bool in_class) {
    if (!more()) refuse("a trailing backslash");
    uint32_t c = cps_[pos_++];
    static const Ranges kDigit{{'0', '9'}};
    static const Ranges kWord{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    static const Ranges kSpace{{'\t', '\r'},     {' ', ' '},       {0xA0, 0xA0},
                               {0xFEFF, 0xFEFF}, {0x2000, 0x200A}, {0x2028, 0x2029}};
    switch (c) {
      case 'd':
        return kDigit;
      case 'D':
        return complement(kDigit);
      case 'w':
        return kWord;
      case 'W':
        return complement(kWord);
      case 's':
        return kSpace;
      case 'S':
        return complement(kSpace);
      case 'n':
        return {{'\n', '\n'}};
      case 't':
        return {{'\t', '\t'}};
      case 'r':
        return {{'\r', '\r'}};
      case 'f':
        return {{'\f', '\f'}};
      case 'v':
        return {{'\v', '\v'}};
      case '0':
        return {{0, 0}};
      case 'x': {
        uint32_t v = hex(2);
        return {{v, v}};
      }
      case 'u': {
        uint32_t v = hex(4);
        return {{v, v}};
      }
      case 'b':
        if (in_class) return {{'\b', '\b'}};
        refuse("\\b (word boundary)");
      case 'B':
        refuse("\\B");
      case 'p':
      case 'P':
        refuse("Unicode property escapes \\p");
      default:
        if (c >= '1' && c <= '9') refuse("a backreference");
        return {{c, c}};
    }
  }

  Ranges char_class() {
    bool negate = more() && peek() == '^';
    if (negate) ++pos_;
    Ranges r;
    bool first = true;
    while (more() && (peek() != ']' || first)) {
      first = false;
      Ranges lo = class_atom();
      if (lo.size() == 1 && lo[0].first == lo[0].second && pos_ + 1 < cps_.size() &&
          peek() == '-' && cps_[pos_ + 1] != ']') {
        ++pos_;
        Ranges hi = class_atom();
        if (hi.size() != 1 || hi[0].first != hi[0].second || hi[0].first < lo[0].first)
          fail("regex /", text_, "/: bad class range");
        r.emplace_back(lo[0].first, hi[0].first);
      } else {
        r.insert(r.end(), lo.begin(), lo.end());
      }
    }
    if (!more()) fail("regex /", text_, "/: missing ']'");
    ++pos_;
    return negate ? complement(r) : normalized(r);
  }

  Ranges class_atom() {
    uint32_t c = cps_[pos_++];
    if (c == '\\') return escape(true);
    if (c == '[' && more() && peek() == ':') refuse("POSIX classes [:name:]");
    return {{c, c}};
  }

  std::string_view text_;
  std::vector<uint32_t> cps_;
  size_t pos_ = 0;
};

class Emitter {
 public:
  Emitter(ByteGraph& g, RegexMode mode, const RegexLimits& limits, std::string_view text)
      : g_(g), mode_(mode), limits_(limits), text_(text) {}

  Fragment emit(const Ast& a) {
    if (g_.size() > limits_.max_graph_nodes)
      fail("regex /", text_, "/: too large once its repetitions are expanded");
    switch (a.kind) {
      case Ast::kSet:
        return emit_set(a.set);
      case Ast::kConcat: {
        std::vector<Fragment> parts;
        for (const Ast& k : a.kids) parts.push_back(emit(k));
        return g_.sequence(parts);
      }
      case Ast::kAlt: {
        std::vector<Fragment> parts;
        for (const Ast& k : a.kids) parts.push_back(emit(k));
        return g_.alternatives(parts);
      }
      case Ast::kRepeat:
        return emit_repeat(a);
      default:
        fail("regex /", text_, "/: ^ or $ inside the pattern is not supported");
    }
  }

  Fragment star(const Ast& a) {
    Fragment body = emit(a);
    int32_t loop = g_.add_node();
    g_.add_epsilon(loop, body.start);
    g_.add_epsilon(body.end, loop);
    return {loop, loop};
  }

 private:
  Fragment emit_repeat(const Ast& a) {
    std::vector<Fragment> parts;
    for (int i = 0; i < a.min; ++i) parts.push_back(emit(a.kids[0]));
    if (a.max == -1) {
      parts.push_back(star(a.kids[0]));
      return g_.sequence(parts);
    }
    int32_t end = g_.add_node();
    for (int i = a.min; i < a.max; ++i) {
      Fragment opt = emit(a.kids[0]);
      g_.add_epsilon(opt.start, end);
      parts.push_back(opt);
    }
    Fragment f = g_.sequence(parts);
    g_.add_epsilon(f.end, end);
    return {f.start, end};
  }

  void add_code_points(Fragment f, uint32_t lo, uint32_t hi) {
    std::vector<std::vector<std::pair<uint8_t, uint8_t>>> seqs;
    if (lo < 0xD800 && hi >= 0xD800) {  // surrogates are not characters
      if (hi > 0xDFFF) utf8_sequences(0xE000, hi, seqs);
      hi = 0xD7FF;
    } else if (lo >= 0xD800 && lo <= 0xDFFF) {
      lo = 0xE000;
    }
    utf8_sequences(lo, hi, seqs);
    for (auto& seq : seqs) {
      int32_t at = f.start;
      for (size_t i = 0; i < seq.size(); ++i) {
        int32_t next = i + 1 == seq.size() ? f.end : g_.add_node();
        g_.add_bytes(at, seq[i].first, seq[i].second, next);
        at = next;
      }
    }
  }

  static std::string json_escape(uint32_t cp) {
    switch (cp) {
      case '"':
        return "\\\"";
      case '\\':
        return "\\\\";
      case '\b':
        return "\\b";
      case '\f':
        return "\\f";
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      case '\t':
        return "\\t";
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
        return buf;
      }
    }
  }

  Fragment emit_set(const Ranges& set) {
    Fragment f{g_.add_node(), g_.add_node()};
    for (auto [lo, hi] : set) {
      if (mode_ == RegexMode::kRaw) {
        add_code_points(f, lo, hi);
        continue;
      }
      // Characters JSON escapes (controls, quote, backslash) are written as their escapes.
      for (uint32_t cp = lo; cp <= std::min(hi, 0x5Cu); ++cp) {
        if (cp < 0x20 || cp == '"' || cp == '\\') {
          Fragment e = g_.literal(json_escape(cp));
          g_.add_epsilon(f.start, e.start);
          g_.add_epsilon(e.end, f.end);
        }
      }
      static const Ranges kPlain{{0x20, 0x21}, {0x23, 0x5B}, {0x5D, kMaxCodePoint}};
      for (auto [plo, phi] : kPlain) {
        uint32_t a = std::max(lo, plo), b = std::min(hi, phi);
        if (a <= b) add_code_points(f, a, b);
      }
    }
    return f;
  }

  ByteGraph& g_;
  RegexMode mode_;
  const RegexLimits& limits_;
  std::string_view text_;
};

// Strips a leading ^ and trailing $ of one alternative; reports which were there.
Ast strip_anchors(Ast a, bool& start, bool& end) {
  start = end = false;
  if (a.kind == Ast::kStart) return start = true, Ast{Ast::kConcat};
  if (a.kind == Ast::kEnd) return end = true, Ast{Ast::kConcat};
  if (a.kind != Ast::kConcat) return a;
  if (!a.kids.empty() && a.kids.front().kind == Ast::kStart) {
    start = true;
    a.kids.erase(a.kids.begin());
  }
  if (!a.kids.empty() && a.kids.back().kind == Ast::kEnd) {
    end = true;
    a.kids.pop_back();
  }
  return a;
}

Fragment emit_search(Emitter& e, ByteGraph& g, const Ast& a) {
  if (a.kind == Ast::kAlt) {
    std::vector<Fragment> parts;
    for (const Ast& k : a.kids) parts.push_back(emit_search(e, g, k));
    return g.alternatives(parts);
  }
  bool start = false, end = false;
  Ast body = strip_anchors(a, start, end);
  Ast any{Ast::kSet};
  any.set = {{0, kMaxCodePoint}};
  std::vector<Fragment> parts;
  if (!start) parts.push_back(e.star(any));
  parts.push_back(e.emit(body));
  if (!end) parts.push_back(e.star(any));
  return g.sequence(parts);
}

}  // namespace

Fragment compile_regex(ByteGraph& graph, std::string_view pattern, RegexMode mode,
                       const RegexLimits& limits) {
  Ast ast = Parser(pattern).parse();
  Emitter e(graph, mode, limits, pattern);
  return e.emit(ast);
}

Fragment compile_search_pattern(ByteGraph& graph, std::string_view pattern,
                                const RegexLimits& limits) {
  Ast ast = Parser(pattern).parse();
  Emitter e(graph, RegexMode::kJsonString, limits, pattern);
  return emit_search(e, graph, ast);
}

}  // namespace lorax::structured
