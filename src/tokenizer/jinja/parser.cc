#include "tokenizer/jinja/parser.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "tokenizer/jinja/errors.h"
#include "tokenizer/jinja/lexer.h"

namespace lorax::jinja {
namespace {

using namespace ast;

// Bounds recursion on hostile input ("((((((..." or deeply nested blocks) well below what the
// stack can take.
constexpr int kMaxNesting = 200;

template <typename Node>
ExprPtr make_expr(Node node, int line) {
  auto e = std::make_unique<Expr>();
  e->node = std::move(node);
  e->line = line;
  return e;
}

template <typename Node>
StmtPtr make_stmt(Node node, int line) {
  auto s = std::make_unique<Stmt>();
  s->node = std::move(node);
  s->line = line;
  return s;
}

std::string describe(const Token& t) {
  switch (t.type) {
    case TokenType::kEnd:
      return "end of template";
    case TokenType::kBlockEnd:
      return "end of statement block";
    case TokenType::kVariableEnd:
      return "end of print statement";
    case TokenType::kBlockBegin:
      return "begin of statement block";
    case TokenType::kVariableBegin:
      return "begin of print statement";
    case TokenType::kText:
      return "template data";
    case TokenType::kString:
      return "string";
    default:
      return "'" + t.value + "'";
  }
}

struct SliceParts {
  ExprPtr start;
  ExprPtr stop;
  ExprPtr step;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Body parse_template() { return parse_body({}, "", 0); }

 private:
  // ---- token stream -------------------------------------------------------------------------

  const Token& current() const { return tokens_[pos_]; }
  const Token& peek() const { return tokens_[std::min(pos_ + 1, tokens_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool at(TokenType type) const { return current().type == type; }
  bool at_op(std::string_view op) const {
    return at(TokenType::kOperator) && current().value == op;
  }
  bool at_name(std::string_view name) const {
    return at(TokenType::kName) && current().value == name;
  }
  bool skip_op(std::string_view op) { return at_op(op) ? (advance(), true) : false; }
  bool skip_name(std::string_view name) { return at_name(name) ? (advance(), true) : false; }

  [[noreturn]] void error(const std::string& message) const {
    throw TemplateSyntaxError(message, current().line);
  }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) error("expected '" + std::string(op) + "', got " + describe(current()));
  }
  void expect_name(std::string_view name) {
    if (!skip_name(name)) error("expected '" + std::string(name) + "', got " + describe(current()));
  }
  void expect(TokenType type, std::string_view what) {
    if (!at(type)) error("expected " + std::string(what) + ", got " + describe(current()));
    advance();
  }
  void expect_block_end() { expect(TokenType::kBlockEnd, "end of statement block"); }

  std::string expect_identifier() {
    if (!at(TokenType::kName)) error("expected a name, got " + describe(current()));
    std::string name = current().value;
    advance();
    return name;
  }

  // Filter and test names may be dotted ("a.b").
  std::string dotted_name() {
    std::string name = expect_identifier();
    while (at_op(".") && peek().type == TokenType::kName) {
      advance();
      name.push_back('.');
      name += expect_identifier();
    }
    return name;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > kMaxNesting) parser.error("template nested too deeply");
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  // ---- statements ---------------------------------------------------------------------------

  // Parses until `{% name` with `name` one of `ends` and leaves that name token current; at the
  // top level (no ends) parses to the end of the template.
  Body parse_body(const std::vector<std::string_view>& ends, std::string_view opener,
                  int open_line) {
    Body body;
    while (true) {
      const Token& t = current();
      if (t.type == TokenType::kEnd) {
        if (ends.empty()) return body;
        std::string expected;
        for (std::string_view e : ends)
          expected += (expected.empty() ? "'" : " or '") + std::string(e) + "'";
        error("unexpected end of template; expected " + expected + " to close the '" +
              std::string(opener) + "' at line " + std::to_string(open_line));
      }
      if (t.type == TokenType::kText) {
        body.push_back(make_stmt(Text{t.value}, t.line));
        advance();
      } else if (t.type == TokenType::kVariableBegin) {
        const int line = t.line;
        advance();
        ExprPtr expr = parse_tuple(true, false);
        expect(TokenType::kVariableEnd, "end of print statement");
        body.push_back(make_stmt(Output{std::move(expr)}, line));
      } else if (t.type == TokenType::kBlockBegin) {
        const Token& name = peek();
        advance();
        if (name.type == TokenType::kName &&
            std::find(ends.begin(), ends.end(), name.value) != ends.end()) {
          return body;
        }
        body.push_back(parse_statement());
      } else {
        error("unexpected " + describe(t));
      }
    }
  }

  // Consumes `{% end... %}` after parse_body stopped on it.
  void close_block(std::string_view end) {
    expect_name(end);
    expect_block_end();
  }

  StmtPtr parse_statement() {
    DepthGuard guard(*this);
    if (!at(TokenType::kName)) error("expected a statement name, got " + describe(current()));
    const std::string tag = current().value;
    const int line = current().line;
    advance();
    if (tag == "if") return parse_if(line);
    if (tag == "for") return parse_for(line);
    if (tag == "set") return parse_set(line);
    if (tag == "macro") return parse_macro(line);
    if (tag == "call") return parse_call_block(line);
    if (tag == "filter") return parse_filter_block(line);
    if (tag == "with") return parse_with(line);
    if (tag == "generation") return parse_scoped(line, "generation", "endgeneration");
    if (tag == "break" || tag == "continue") return parse_loop_control(tag, line);
    if (tag == "block" || tag == "extends" || tag == "include" || tag == "import" ||
        tag == "from") {
      error("'" + tag + "' is not supported in a standalone template");
    }
    if (tag.rfind("end", 0) == 0 || tag == "elif" || tag == "else")
      error("unexpected '" + tag + "'");
    error("unknown tag '" + tag + "'");
  }

  StmtPtr parse_if(int line) {
    If node;
    ExprPtr test = parse_tuple(false, false);
    expect_block_end();
    while (true) {
      Body body = parse_body({"elif", "else", "endif"}, "if", line);
      node.branches.emplace_back(std::move(test), std::move(body));
      if (skip_name("elif")) {
        test = parse_tuple(false, false);
        expect_block_end();
        continue;
      }
      if (skip_name("else")) {
        expect_block_end();
        node.otherwise = parse_body({"endif"}, "if", line);
      }
      close_block("endif");
      return make_stmt(std::move(node), line);
    }
  }

  StmtPtr parse_for(int line) {
    For node;
    node.target = parse_target();
    expect_name("in");
    node.iterable = parse_tuple(false, false);
    if (skip_name("if")) node.condition = parse_expression(true);
    if (at_name("recursive")) error("recursive loops are not supported");
    expect_block_end();
    ++loop_depth_;
    node.body = parse_body({"endfor", "else"}, "for", line);
    --loop_depth_;
    if (skip_name("else")) {
      expect_block_end();
      node.otherwise = parse_body({"endfor"}, "for", line);
    }
    close_block("endfor");
    return make_stmt(std::move(node), line);
  }

  // A name, `a, b`, or `(a, b)`.
  Target parse_target() {
    Target target;
    const bool parens = skip_op("(");
    do {
      if (parens && at_op(")")) break;
      target.names.push_back(expect_identifier());
    } while (skip_op(","));
    if (parens) expect_op(")");
    target.unpack = parens || target.names.size() > 1;
    return target;
  }

  StmtPtr parse_set(int line) {
    Set node;
    if (at(TokenType::kName) && peek().type == TokenType::kOperator && peek().value == ".") {
      node.target.names.push_back(expect_identifier());
      advance();
      node.attr = expect_identifier();
    } else {
      node.target = parse_target();
    }
    if (skip_op("=")) {
      node.value = parse_tuple(true, false);
      expect_block_end();
      return make_stmt(std::move(node), line);
    }
    if (!node.attr.empty() || node.target.unpack) error("a block set assigns one plain name");
    SetBlock block;
    block.name = node.target.names[0];
    while (skip_op("|")) block.filters.push_back(parse_filter_call());
    expect_block_end();
    block.body = parse_body({"endset"}, "set", line);
    close_block("endset");
    return make_stmt(std::move(block), line);
  }

  std::vector<std::pair<std::string, ExprPtr>> parse_signature() {
    std::vector<std::pair<std::string, ExprPtr>> params;
    expect_op("(");
    while (!at_op(")")) {
      if (!params.empty()) expect_op(",");
      if (at_op(")")) break;
      std::string name = expect_identifier();
      ExprPtr fallback;
      if (skip_op("=")) {
        fallback = parse_expression(true);
      } else if (!params.empty() && params.back().second) {
        error("non-default argument follows default argument");
      }
      params.emplace_back(std::move(name), std::move(fallback));
    }
    expect_op(")");
    return params;
  }

  StmtPtr parse_macro(int line) {
    Macro node;
    node.name = expect_identifier();
    node.params = parse_signature();
    expect_block_end();
    const int saved_loops = std::exchange(loop_depth_, 0);  // break inside a macro ends nothing
    node.body = parse_body({"endmacro"}, "macro", line);
    loop_depth_ = saved_loops;
    close_block("endmacro");
    return make_stmt(std::move(node), line);
  }

  StmtPtr parse_call_block(int line) {
    CallBlock node;
    if (at_op("(")) node.params = parse_signature();
    node.call = parse_expression(true);
    if (!std::holds_alternative<Call>(node.call->node)) error("expected a call after 'call'");
    expect_block_end();
    const int saved_loops = std::exchange(loop_depth_, 0);
    node.body = parse_body({"endcall"}, "call", line);
    loop_depth_ = saved_loops;
    close_block("endcall");
    return make_stmt(std::move(node), line);
  }

  StmtPtr parse_filter_block(int line) {
    FilterBlock node;
    node.filters.push_back(parse_filter_call());
    while (skip_op("|")) node.filters.push_back(parse_filter_call());
    expect_block_end();
    node.body = parse_body({"endfilter"}, "filter", line);
    close_block("endfilter");
    return make_stmt(std::move(node), line);
  }

  StmtPtr parse_with(int line) {
    With node;
    while (!at(TokenType::kBlockEnd)) {
      if (!node.assignments.empty()) expect_op(",");
      std::string name = expect_identifier();
      expect_op("=");
      node.assignments.emplace_back(std::move(name), parse_expression(true));
    }
    expect_block_end();
    node.body = parse_body({"endwith"}, "with", line);
    close_block("endwith");
    return make_stmt(std::move(node), line);
  }

  StmtPtr parse_scoped(int line, std::string_view tag, std::string_view end) {
    expect_block_end();
    Scoped node{parse_body({end}, tag, line)};
    close_block(end);
    return make_stmt(std::move(node), line);
  }

  StmtPtr parse_loop_control(const std::string& tag, int line) {
    if (loop_depth_ == 0) error("'" + tag + "' outside of a loop");
    expect_block_end();
    if (tag == "break") return make_stmt(Break{}, line);
    return make_stmt(Continue{}, line);
  }

  // ---- expressions --------------------------------------------------------------------------

  bool at_tuple_end() const {
    return at(TokenType::kBlockEnd) || at(TokenType::kVariableEnd) || at_op(")") || at_name("in") ||
           at_name("recursive");
  }

  // `a, b` makes a tuple; `explicit_parens` allows the empty tuple `()`.
  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens) {
    const int line = current().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (at_tuple_end()) break;
      items.push_back(parse_expression(with_condexpr));
      if (!at_op(",")) break;
      is_tuple = true;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) error("expected an expression, got " + describe(current()));
    }
    return make_expr(ListLiteral{std::move(items), true}, line);
  }

  ExprPtr parse_expression(bool with_condexpr) {
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    const int line = current().line;
    ExprPtr expr = parse_or();
    while (skip_name("if")) {
      ExprPtr test = parse_or();
      ExprPtr otherwise = skip_name("else") ? parse_condexpr() : nullptr;
      expr = make_expr(Conditional{std::move(test), std::move(expr), std::move(otherwise)}, line);
    }
    return expr;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (at_name("or")) {
      const int line = current().line;
      advance();
      left = make_expr(Binary{BinaryOp::kOr, std::move(left), parse_and()}, line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (at_name("and")) {
      const int line = current().line;
      advance();
      left = make_expr(Binary{BinaryOp::kAnd, std::move(left), parse_not()}, line);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      DepthGuard guard(*this);
      const int line = current().line;
      advance();
      return make_expr(Unary{UnaryOp::kNot, parse_not()}, line);
    }
    return parse_compare();
  }

  std::optional<CompareOp> compare_op() {
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
        {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
    for (const auto& [text, op] : kOps) {
      if (skip_op(text)) return op;
    }
    if (skip_name("in")) return CompareOp::kIn;
    if (at_name("not") && peek().type == TokenType::kName && peek().value == "in") {
      advance();
      advance();
      return CompareOp::kNotIn;
    }
    return std::nullopt;
  }

  ExprPtr parse_compare() {
    const int line = current().line;
    ExprPtr first = parse_math1();
    Compare node;
    while (const auto op = compare_op()) node.rest.emplace_back(*op, parse_math1());
    if (node.rest.empty()) return first;
    node.first = std::move(first);
    return make_expr(std::move(node), line);
  }

  template <typename Next>
  ExprPtr parse_binary(Next next,
                       std::initializer_list<std::pair<std::string_view, BinaryOp>> ops) {
    ExprPtr left = (this->*next)();
    while (true) {
      const auto it =
          std::find_if(ops.begin(), ops.end(), [&](const auto& o) { return at_op(o.first); });
      if (it == ops.end()) return left;
      const int line = current().line;
      advance();
      left = make_expr(Binary{it->second, std::move(left), (this->*next)()}, line);
    }
  }

  ExprPtr parse_math1() {
    return parse_binary(&Parser::parse_concat, {{"+", BinaryOp::kAdd}, {"-", BinaryOp::kSub}});
  }
  ExprPtr parse_concat() { return parse_binary(&Parser::parse_math2, {{"~", BinaryOp::kConcat}}); }
  ExprPtr parse_math2() {
    return parse_binary(&Parser::parse_pow, {{"*", BinaryOp::kMul},
                                             {"/", BinaryOp::kDiv},
                                             {"//", BinaryOp::kFloorDiv},
                                             {"%", BinaryOp::kMod}});
  }
  ExprPtr parse_pow() {
    return parse_binary(&Parser::parse_unary_filtered, {{"**", BinaryOp::kPow}});
  }

  ExprPtr parse_unary_filtered() { return parse_unary(true); }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    const int line = current().line;
    ExprPtr node;
    if (skip_op("-")) {
      node = make_expr(Unary{UnaryOp::kNeg, parse_unary(false)}, line);
    } else if (skip_op("+")) {
      node = make_expr(Unary{UnaryOp::kPos, parse_unary(false)}, line);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    return with_filter ? parse_filter_expr(std::move(node)) : std::move(node);
  }

  ExprPtr parse_primary() {
    const Token t = current();
    switch (t.type) {
      case TokenType::kName:
        advance();
        if (t.value == "true" || t.value == "True")
          return make_expr(Literal{Value::boolean(true)}, t.line);
        if (t.value == "false" || t.value == "False")
          return make_expr(Literal{Value::boolean(false)}, t.line);
        if (t.value == "none" || t.value == "None")
          return make_expr(Literal{Value::none()}, t.line);
        return make_expr(Name{t.value}, t.line);
      case TokenType::kString: {
        std::string text;
        while (at(TokenType::kString)) {  // adjacent literals concatenate, as in Python
          text += current().value;
          advance();
        }
        return make_expr(Literal{Value::string(std::move(text))}, t.line);
      }
      case TokenType::kInteger:
        advance();
        return make_expr(Literal{parse_integer(t.value)}, t.line);
      case TokenType::kFloat:
        advance();
        return make_expr(Literal{parse_float(t.value)}, t.line);
      default:
        break;
    }
    if (skip_op("(")) {
      ExprPtr inner = parse_tuple(true, true);
      expect_op(")");
      return inner;
    }
    if (at_op("[")) return parse_list();
    if (at_op("{")) return parse_dict();
    error("unexpected " + describe(t));
  }

  Value parse_integer(const std::string& text) const {
    int base = 10;
    std::string_view digits = text;
    if (text.size() > 2 && text[0] == '0' && (text[1] | 0x20) != '0') {
      const char b = static_cast<char>(text[1] | 0x20);
      base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
      digits.remove_prefix(2);
    }
    std::int64_t value = 0;
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      error("integer literal " + text + " is out of range");
    }
    return Value::integer(value);
  }

  Value parse_float(const std::string& text) const {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) error("bad float literal " + text);
    return Value::number(value);
  }

  ExprPtr parse_list() {
    const int line = current().line;
    expect_op("[");
    ListLiteral node;
    while (!at_op("]")) {
      if (!node.items.empty()) expect_op(",");
      if (at_op("]")) break;
      node.items.push_back(parse_expression(true));
    }
    expect_op("]");
    return make_expr(std::move(node), line);
  }

  ExprPtr parse_dict() {
    const int line = current().line;
    expect_op("{");
    DictLiteral node;
    while (!at_op("}")) {
      if (!node.items.empty()) expect_op(",");
      if (at_op("}")) break;
      ExprPtr key = parse_expression(true);
      expect_op(":");
      node.items.emplace_back(std::move(key), parse_expression(true));
    }
    expect_op("}");
    return make_expr(std::move(node), line);
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (at_op(".") || at_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (at_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (at_op("|")) {
        while (skip_op("|")) {
          const int line = current().line;
          node = make_expr(Filter{std::move(node), parse_filter_call()}, line);
        }
      } else if (at_name("is")) {
        node = parse_test(std::move(node));
      } else if (at_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const int line = current().line;
    if (skip_op(".")) {
      if (at(TokenType::kName))
        return make_expr(GetAttr{std::move(node), expect_identifier()}, line);
      if (at(TokenType::kInteger)) {
        Value index = parse_integer(current().value);
        advance();
        return make_expr(GetItem{std::move(node), make_expr(Literal{std::move(index)}, line)},
                         line);
      }
      error("expected a name or number after '.', got " + describe(current()));
    }
    expect_op("[");
    std::vector<ExprPtr> keys;
    std::optional<SliceParts> slice;
    while (!at_op("]")) {
      if (!keys.empty() || slice) expect_op(",");
      if (slice) error("a slice cannot be part of a tuple subscript");
      std::variant<ExprPtr, SliceParts> item = parse_subscribed();
      if (auto* parts = std::get_if<SliceParts>(&item)) {
        if (!keys.empty()) error("a slice cannot be part of a tuple subscript");
        slice = std::move(*parts);
      } else {
        keys.push_back(std::move(std::get<ExprPtr>(item)));
      }
    }
    expect_op("]");
    if (slice) {
      return make_expr(Slice{std::move(node), std::move(slice->start), std::move(slice->stop),
                             std::move(slice->step)},
                       line);
    }
    if (keys.empty()) error("expected a subscript");
    ExprPtr key =
        keys.size() == 1 ? std::move(keys[0]) : make_expr(ListLiteral{std::move(keys), true}, line);
    return make_expr(GetItem{std::move(node), std::move(key)}, line);
  }

  // One subscript: an expression, or `start:stop:step` with any part left out.
  std::variant<ExprPtr, SliceParts> parse_subscribed() {
    SliceParts parts;
    if (!at_op(":")) {
      ExprPtr expr = parse_expression(true);
      if (!at_op(":")) return expr;
      parts.start = std::move(expr);
    }
    expect_op(":");
    const auto slice_end = [&] { return at_op(":") || at_op("]") || at_op(","); };
    if (!slice_end()) parts.stop = parse_expression(true);
    if (skip_op(":") && !at_op("]") && !at_op(",")) parts.step = parse_expression(true);
    return parts;
  }

  Arguments parse_arguments() {
    Arguments args;
    expect_op("(");
    while (!at_op(")")) {
      if (!args.positional.empty() || !args.keyword.empty()) {
        expect_op(",");
        if (at_op(")")) break;
      }
      if (at_op("*") || at_op("**")) error("*args and **kwargs in calls are not supported");
      if (at(TokenType::kName) && peek().type == TokenType::kOperator && peek().value == "=") {
        std::string name = expect_identifier();
        advance();
        args.keyword.emplace_back(std::move(name), parse_expression(true));
      } else {
        if (!args.keyword.empty()) error("positional argument follows keyword argument");
        args.positional.push_back(parse_expression(true));
      }
    }
    expect_op(")");
    return args;
  }

  ExprPtr parse_call(ExprPtr callee) {
    const int line = current().line;
    return make_expr(Call{std::move(callee), parse_arguments()}, line);
  }

  FilterCall parse_filter_call() {
    FilterCall call;
    call.name = dotted_name();
    call.fn = find_filter(call.name);
    if (call.fn == nullptr) error("no filter named '" + call.name + "'");
    if (at_op("(")) call.args = parse_arguments();
    return call;
  }

  ExprPtr parse_test(ExprPtr node) {
    const int line = current().line;
    expect_name("is");
    Test test;
    test.input = std::move(node);
    test.negated = skip_name("not");
    test.name = dotted_name();
    test.fn = find_test(test.name);
    if (test.fn == nullptr) error("no test named '" + test.name + "'");
    if (at_op("(")) {
      test.args = parse_arguments();
    } else if (test_argument_follows()) {
      // `x is divisibleby 3`: one argument without parentheses.
      if (at_name("is")) error("tests cannot be chained with 'is'");
      test.args.positional.push_back(parse_postfix(parse_primary()));
    }
    return make_expr(std::move(test), line);
  }

  bool test_argument_follows() const {
    if (at(TokenType::kName)) return !at_name("else") && !at_name("or") && !at_name("and");
    return at(TokenType::kString) || at(TokenType::kInteger) || at(TokenType::kFloat) ||
           at_op("(") || at_op("[") || at_op("{");
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse(std::string_view source) {
  return Parser(tokenize(source)).parse_template();
}

}  // namespace lorax::jinja
