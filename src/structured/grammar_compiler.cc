#include "structured/grammar_compiler.h"

#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "structured/regex_compiler.h"
#include "tokenizer/unicode.h"

namespace lorax::structured {
namespace {

struct Item {
  enum Kind { kLiteral, kClass, kRef, kSeq, kAlt, kRepeat } kind = kSeq;
  std::string text;  // literal bytes, class source (for the regex compiler) or rule name
  std::vector<Item> kids;
  int min = 0, max = 0;  // kRepeat; -1 unbounded
  size_t pos = 0;
};

bool is_name_char(char c) {
  return isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

class GrammarParser {
 public:
  explicit GrammarParser(std::string_view text) : text_(text) {}

  std::map<std::string, Item> parse() {
    std::map<std::string, Item> rules;
    skip_space();
    while (pos_ < text_.size()) {
      std::string name = read_name();
      skip_space();
      if (text_.compare(pos_, 3, "::=") != 0) error("expected ::= after rule name " + name);
      pos_ += 3;
      Item body = alternatives();
      if (!rules.emplace(name, std::move(body)).second) error("rule " + name + " defined twice");
      skip_space();
    }
    return rules;
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail("grammar: ", what, " (at byte ", pos_, ")");
  }

  void skip_space() {
    while (pos_ < text_.size()) {
      if (isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      } else if (text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string read_name() {
    size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    if (pos_ == start) error("expected a rule name");
    return std::string(text_.substr(start, pos_ - start));
  }

  // Whether the text at pos_ starts the next rule (`name ::=`).
  bool at_rule_start() {
    size_t p = pos_;
    while (p < text_.size() && is_name_char(text_[p])) ++p;
    if (p == pos_) return false;
    while (p < text_.size() && isspace(static_cast<unsigned char>(text_[p]))) ++p;
    return text_.compare(p, 3, "::=") == 0;
  }

  Item alternatives() {
    Item alt{Item::kAlt};
    alt.kids.push_back(sequence());
    while (pos_ < text_.size() && text_[pos_] == '|') {
      ++pos_;
      alt.kids.push_back(sequence());
    }
    return alt;
  }

  Item sequence() {
    Item seq{Item::kSeq};
    for (;;) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] == '|' || text_[pos_] == ')' || at_rule_start())
        return seq;
      seq.kids.push_back(postfix(primary()));
    }
  }

  Item primary() {
    Item it;
    it.pos = pos_;
    char c = text_[pos_];
    if (c == '"') {
      it.kind = Item::kLiteral;
      it.text = literal();
    } else if (c == '[') {
      it.kind = Item::kClass;
      size_t start = pos_++;
      while (pos_ < text_.size() && text_[pos_] != ']') pos_ += text_[pos_] == '\\' ? 2 : 1;
      if (pos_ >= text_.size()) error("unterminated character class");
      it.text = std::string(text_.substr(start, ++pos_ - start));
    } else if (c == '.') {
      ++pos_;
      it.kind = Item::kClass;
      it.text = "[^\\n]";
    } else if (c == '(') {
      ++pos_;
      it = alternatives();
      if (pos_ >= text_.size() || text_[pos_] != ')') error("missing )");
      ++pos_;
    } else if (is_name_char(c)) {
      it.kind = Item::kRef;
      it.text = read_name();
    } else {
      error(std::string("unexpected '") + c + "'");
    }
    return it;
  }

  uint32_t hex(size_t digits) {
    if (pos_ + digits > text_.size()) error("short hex escape");
    uint32_t v =
        static_cast<uint32_t>(std::stoul(std::string(text_.substr(pos_, digits)), nullptr, 16));
    pos_ += digits;
    return v;
  }

  std::string literal() {
    std::string out;
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 'x':
          unicode::append_utf8(out, hex(2));
          break;
        case 'u':
          unicode::append_utf8(out, hex(4));
          break;
        case 'U':
          unicode::append_utf8(out, hex(8));
          break;
        default:
          out.push_back(e);
      }
    }
    if (pos_ >= text_.size()) error("unterminated string literal");
    ++pos_;
    return out;
  }

  bool read_int(int& v) {
    size_t start = pos_;
    v = 0;
    while (pos_ < text_.size() && isdigit(static_cast<unsigned char>(text_[pos_])))
      v = v * 10 + (text_[pos_++] - '0');
    return pos_ > start;
  }

  Item postfix(Item it) {
    for (;;) {
      int lo = 0, hi = 0;
      if (pos_ >= text_.size()) return it;
      char c = text_[pos_];
      if (c == '*')
        lo = 0, hi = -1;
      else if (c == '+')
        lo = 1, hi = -1;
      else if (c == '?')
        lo = 0, hi = 1;
      else if (c == '{') {
        ++pos_;
        if (!read_int(lo)) error("expected a count after {");
        hi = lo;
        if (text_[pos_] == ',') {
          ++pos_;
          if (!read_int(hi)) hi = -1;
        }
        if (pos_ >= text_.size() || text_[pos_] != '}') error("expected }");
      } else {
        return it;
      }
      ++pos_;
      Item r{Item::kRepeat};
      r.min = lo;
      r.max = hi;
      r.kids.push_back(std::move(it));
      it = std::move(r);
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

class GrammarEmitter {
 public:
  GrammarEmitter(ByteGraph& g, const std::map<std::string, Item>& rules, size_t max_nodes)
      : g_(g), rules_(rules), max_nodes_(max_nodes) {}

  int32_t rule(const std::string& name) {
    auto it = starts_.find(name);
    if (it != starts_.end()) return it->second;
    auto def = rules_.find(name);
    if (def == rules_.end()) fail("grammar: rule ", name, " is used but not defined");
    int32_t start = g_.add_node();
    starts_.emplace(name, start);
    Fragment body = emit(def->second);
    g_.define_rule(start, body);
    return start;
  }

 private:
  Fragment emit(const Item& it) {
    if (g_.size() > max_nodes_) fail("grammar: more than ", max_nodes_, " automaton nodes");
    std::vector<Fragment> parts;
    switch (it.kind) {
      case Item::kLiteral:
        return g_.literal(it.text);
      case Item::kClass:
        return compile_regex(g_, it.text, RegexMode::kRaw);
      case Item::kRef:
        return g_.call(rule(it.text));
      case Item::kSeq:
        for (const Item& k : it.kids) parts.push_back(emit(k));
        return g_.sequence(parts);
      case Item::kAlt:
        for (const Item& k : it.kids) parts.push_back(emit(k));
        return parts.size() == 1 ? parts[0] : g_.alternatives(parts);
      case Item::kRepeat:
        return repeat(it);
    }
    return g_.never();
  }

  Fragment repeat(const Item& it) {
    std::vector<Fragment> parts;
    for (int i = 0; i < it.min; ++i) parts.push_back(emit(it.kids[0]));
    int32_t end = g_.add_node();
    if (it.max == -1) {
      Fragment body = emit(it.kids[0]);
      int32_t loop = g_.add_node();
      g_.add_epsilon(loop, body.start);
      g_.add_epsilon(body.end, loop);
      parts.push_back({loop, loop});
    } else {
      for (int i = it.min; i < it.max; ++i) {
        Fragment opt = emit(it.kids[0]);
        g_.add_epsilon(opt.start, end);
        parts.push_back(opt);
      }
    }
    Fragment f = g_.sequence(parts);
    g_.add_epsilon(f.end, end);
    return {f.start, end};
  }

  ByteGraph& g_;
  const std::map<std::string, Item>& rules_;
  size_t max_nodes_;
  std::map<std::string, int32_t> starts_;
};

}  // namespace

int32_t compile_grammar(ByteGraph& graph, std::string_view grammar, size_t max_graph_nodes) {
  std::map<std::string, Item> rules = GrammarParser(grammar).parse();
  if (!rules.count("root")) fail("grammar: no rule named root");
  GrammarEmitter emitter(graph, rules, max_graph_nodes);
  int32_t root = emitter.rule("root");
  for (const auto& [name, item] : rules) emitter.rule(name);  // undefined references fail here
  return root;
}

}  // namespace lorax::structured
