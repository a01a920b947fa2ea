// The parsed template: expressions and statements as tagged variants owning their children.
//
// Filters and tests are resolved to function pointers at parse time, so an unknown name is a
// syntax-time error (as in Jinja, where it is caught when the template is compiled).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/value.h"

namespace lorax::jinja::ast {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Arguments {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct Literal {
  Value value;
};
struct Name {
  std::string name;
};
struct ListLiteral {
  std::vector<ExprPtr> items;
  bool tuple = false;
};
struct DictLiteral {
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};
// `x.attr`: Python attribute first, then item (`x['attr']`).
struct GetAttr {
  ExprPtr object;
  std::string attr;
};
// `x[key]`: item first, then attribute for string keys.
struct GetItem {
  ExprPtr object;
  ExprPtr key;
};
// `x[start:stop:step]`; each part may be null.
struct Slice {
  ExprPtr object;
  ExprPtr start;
  ExprPtr stop;
  ExprPtr step;
};

enum class UnaryOp { kNot, kNeg, kPos };
struct Unary {
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kConcat, kAnd, kOr };
struct Binary {
  BinaryOp op;
  ExprPtr left;
  ExprPtr right;
};

// A Python comparison chain: `a < b <= c` is `a < b and b <= c`, each operand evaluated once.
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };
struct Compare {
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

// `then if test else otherwise`; without else the result is undefined when the test fails.
struct Conditional {
  ExprPtr test;
  ExprPtr then;
  ExprPtr otherwise;
};

struct Call {
  ExprPtr callee;
  Arguments args;
};

// One `| name(args)` application, shared by filter expressions and `{% filter %}` blocks.
struct FilterCall {
  std::string name;
  FilterFn fn = nullptr;
  Arguments args;
};
struct Filter {
  ExprPtr input;
  FilterCall call;
};

struct Test {
  ExprPtr input;
  std::string name;
  TestFn fn = nullptr;
  Arguments args;
  bool negated = false;
};

struct Expr {
  std::variant<Literal, Name, ListLiteral, DictLiteral, GetAttr, GetItem, Slice, Unary, Binary,
               Compare, Conditional, Call, Filter, Test>
      node;
  int line = 0;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Text {
  std::string text;
};
struct Output {
  ExprPtr expr;
};
struct If {
  std::vector<std::pair<ExprPtr, Body>> branches;  // if, then each elif
  Body otherwise;
};

// What `for` and `set` assign to: one name, or several unpacked from a sequence.
struct Target {
  std::vector<std::string> names;
  bool unpack = false;
};

struct For {
  Target target;
  ExprPtr iterable;
  ExprPtr condition;  // `for x in xs if cond`; may be null
  Body body;
  Body otherwise;  // runs when no item passed
};

// `set target = value`, or `set ns.attr = value` when `attr` is not empty.
struct Set {
  Target target;
  std::string attr;
  ExprPtr value;
};
// `{% set name | filters %}body{% endset %}`.
struct SetBlock {
  std::string name;
  std::vector<FilterCall> filters;
  Body body;
};

struct Macro {
  std::string name;
  std::vector<std::pair<std::string, ExprPtr>> params;  // default may be null
  Body body;
};

// `{% call(params) macro(args) %}body{% endcall %}`: the body becomes `caller` in the macro.
struct CallBlock {
  ExprPtr call;
  std::vector<std::pair<std::string, ExprPtr>> params;
  Body body;
};

struct FilterBlock {
  std::vector<FilterCall> filters;
  Body body;
};

struct With {
  std::vector<std::pair<std::string, ExprPtr>> assignments;
  Body body;
};

// A body in a scope of its own: `{% generation %}`, whose assignments do not leak out.
struct Scoped {
  Body body;
};

struct Break {};
struct Continue {};

struct Stmt {
  std::variant<Text, Output, If, For, Set, SetBlock, Macro, CallBlock, FilterBlock, With, Scoped,
               Break, Continue>
      node;
  int line = 0;
};

}  // namespace lorax::jinja::ast
