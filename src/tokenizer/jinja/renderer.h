// Walks the statement tree and writes the output: one Renderer per render() call.
//
// Scoping follows Jinja: every loop iteration, macro call, `with`, `{% set %}...{% endset %}`,
// `{% filter %}` and `{% generation %}` body gets a scope of its own, so `set` inside them does not
// leak out (that is what `namespace()` is for); `if` does not open a scope. Lookups walk outward
// to the template's top scope, then to the globals.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/template.h"
#include "tokenizer/jinja/value.h"

namespace lorax::jinja {

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent) : parent_(std::move(parent)) {}
  // The innermost binding of `name`, or nullptr.
  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value value) { vars_[name] = std::move(value); }

 private:
  std::shared_ptr<Scope> parent_;
  std::unordered_map<std::string, Value> vars_;
};

class Renderer {
 public:
  // `context` is what the template sees at its top level, over the builtin globals.
  Renderer(const Dict& context, const RenderLimits& limits);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  std::string render(const ast::Body& body);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  // ---- statements (renderer.cc) ----
  Flow exec_body(const ast::Body& body, std::string& out);
  Flow exec(const ast::Stmt& stmt, std::string& out);
  Flow exec_node(const ast::Text& node, std::string& out);
  Flow exec_node(const ast::Output& node, std::string& out);
  Flow exec_node(const ast::If& node, std::string& out);
  Flow exec_node(const ast::For& node, std::string& out);
  Flow exec_node(const ast::Set& node, std::string& out);
  Flow exec_node(const ast::SetBlock& node, std::string& out);
  Flow exec_node(const ast::Macro& node, std::string& out);
  Flow exec_node(const ast::CallBlock& node, std::string& out);
  Flow exec_node(const ast::FilterBlock& node, std::string& out);
  Flow exec_node(const ast::With& node, std::string& out);
  Flow exec_node(const ast::Scoped& node, std::string& out);
  Flow exec_node(const ast::Break& node, std::string& out);
  Flow exec_node(const ast::Continue& node, std::string& out);

  using Params = std::vector<std::pair<std::string, ast::ExprPtr>>;

  std::vector<Value> loop_items(const ast::For& node);
  void bind(const ast::Target& target, const Value& value);
  // Runs `body` in a new scope over the current one.
  Flow exec_scoped(const ast::Body& body, std::string& out);
  std::string render_scoped(const ast::Body& body);
  void append(std::string& out, std::string_view text);
  // Macros and `caller` bodies: callables that render `body` with `params` bound, in a scope
  // over the one they were defined in.
  Value make_callable(const std::string& name, const Params& params, const ast::Body& body);
  Value call_macro(const std::string& name, const Params& params, const ast::Body& body,
                   const std::weak_ptr<Scope>& defined_in, const CallArgs& args);
  void bind_macro_args(const std::string& name, const Params& params, const CallArgs& args);
  Value make_namespace(const CallArgs& args);

  // ---- expressions (evaluate.cc) ----
  Value eval(const ast::Expr& expr);
  Value eval_node(const ast::Literal& node);
  Value eval_node(const ast::Name& node);
  Value eval_node(const ast::ListLiteral& node);
  Value eval_node(const ast::DictLiteral& node);
  Value eval_node(const ast::GetAttr& node);
  Value eval_node(const ast::GetItem& node);
  Value eval_node(const ast::Slice& node);
  Value eval_node(const ast::Unary& node);
  Value eval_node(const ast::Binary& node);
  Value eval_node(const ast::Compare& node);
  Value eval_node(const ast::Conditional& node);
  Value eval_node(const ast::Call& node);
  Value eval_node(const ast::Filter& node);
  Value eval_node(const ast::Test& node);
  CallArgs eval_args(const ast::Arguments& args);
  Value apply_filter(const ast::FilterCall& call, const Value& input);
  Value call_value(const Value& callee, const CallArgs& args);

  RenderLimits limits_;
  std::shared_ptr<Scope> scope_;                // innermost
  std::shared_ptr<Scope> top_;                  // the template's top level
  std::vector<std::weak_ptr<Object>> objects_;  // namespaces and loops made while rendering
  std::int64_t iterations_ = 0;
  int call_depth_ = 0;
};

}  // namespace lorax::jinja
