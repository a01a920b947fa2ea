// Expression evaluation for the Renderer.
#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/python_str.h"
#include "tokenizer/jinja/renderer.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

std::optional<std::int64_t> slice_bound(const Value& v) {
  if (v.is_none() || v.is_undefined()) return std::nullopt;
  LORAX_CHECK(v.is_integral(), "slice indices must be integers or None, not ", v.type_name());
  return v.as_int();
}

}  // namespace

Value Renderer::eval(const ast::Expr& expr) {
  return std::visit([&](const auto& node) { return eval_node(node); }, expr.node);
}

Value Renderer::eval_node(const ast::Literal& node) {
  return node.value;
}

Value Renderer::eval_node(const ast::Name& node) {
  if (const Value* v = scope_->find(node.name)) return *v;
  return Value::undefined("'" + node.name + "' is undefined");
}

Value Renderer::eval_node(const ast::ListLiteral& node) {
  std::vector<Value> items;
  items.reserve(node.items.size());
  for (const auto& item : node.items) items.push_back(eval(*item));
  return node.tuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
}

Value Renderer::eval_node(const ast::DictLiteral& node) {
  Dict d;
  for (const auto& [key, value] : node.items) {
    Value k = eval(*key);
    LORAX_CHECK(!k.is_list() || k.is_tuple(), "unhashable type: '", k.type_name(), "'");
    LORAX_CHECK(!k.is_dict() && !k.is_undefined(), "unhashable type: '", k.type_name(), "'");
    d.set(k, eval(*value));
  }
  return Value::dict(std::move(d));
}

Value Renderer::eval_node(const ast::GetAttr& node) {
  const Value object = eval(*node.object);
  if (object.is_undefined()) fail_undefined(object);
  return get_attribute(object, node.attr);
}

Value Renderer::eval_node(const ast::GetItem& node) {
  const Value object = eval(*node.object);
  if (object.is_undefined()) fail_undefined(object);
  return get_item(object, eval(*node.key));
}

Value Renderer::eval_node(const ast::Slice& node) {
  const Value object = eval(*node.object);
  if (object.is_undefined()) fail_undefined(object);
  const auto bound = [&](const ast::ExprPtr& e) {
    return e ? slice_bound(eval(*e)) : std::optional<std::int64_t>();
  };
  const auto start = bound(node.start);
  const auto stop = bound(node.stop);
  const auto step = bound(node.step);
  if (object.is_string()) return Value::string(pystr::slice(object.as_string(), start, stop, step));
  // Slices bypass Jinja's lenient getitem: slicing a number is a TypeError, as in Python.
  LORAX_CHECK(object.is_list(), "'", object.type_name(), "' object is not subscriptable");
  const auto& items = object.items();
  std::vector<Value> out;
  for (std::int64_t i :
       pystr::slice_indices(static_cast<std::int64_t>(items.size()), start, stop, step)) {
    out.push_back(items[static_cast<std::size_t>(i)]);
  }
  return object.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value Renderer::eval_node(const ast::Unary& node) {
  return apply_unary(node.op, eval(*node.operand));
}

Value Renderer::eval_node(const ast::Binary& node) {
  Value left = eval(*node.left);
  // `and` / `or` return an operand, not a bool, and skip the right side when they can.
  if (node.op == ast::BinaryOp::kAnd) return left.truthy() ? eval(*node.right) : left;
  if (node.op == ast::BinaryOp::kOr) return left.truthy() ? left : eval(*node.right);
  return apply_binary(node.op, left, eval(*node.right));
}

Value Renderer::eval_node(const ast::Compare& node) {
  Value left = eval(*node.first);
  for (const auto& [op, operand] : node.rest) {
    Value right = eval(*operand);
    if (!apply_compare(op, left, right)) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Renderer::eval_node(const ast::Conditional& node) {
  if (eval(*node.test).truthy()) return eval(*node.then);
  if (node.otherwise) return eval(*node.otherwise);
  return Value::undefined(
      "the inline if-expression evaluated to false and no else section was defined");
}

Value Renderer::eval_node(const ast::Call& node) {
  // `obj.method(...)` calls the method directly instead of building a bound method first.
  if (const auto* attr = std::get_if<ast::GetAttr>(&node.callee->node)) {
    const Value object = eval(*attr->object);
    if (object.is_undefined()) fail_undefined(object);
    return call_attribute(object, attr->attr, eval_args(node.args));
  }
  const Value callee = eval(*node.callee);
  return call_value(callee, eval_args(node.args));
}

Value Renderer::eval_node(const ast::Filter& node) {
  return apply_filter(node.call, eval(*node.input));
}

Value Renderer::eval_node(const ast::Test& node) {
  const bool result = node.fn(eval(*node.input), eval_args(node.args));
  return Value::boolean(result != node.negated);
}

CallArgs Renderer::eval_args(const ast::Arguments& args) {
  CallArgs out;
  out.positional.reserve(args.positional.size());
  for (const auto& arg : args.positional) out.positional.push_back(eval(*arg));
  for (const auto& [name, arg] : args.keyword) out.keyword.emplace_back(name, eval(*arg));
  return out;
}

Value Renderer::apply_filter(const ast::FilterCall& call, const Value& input) {
  return call.fn(input, eval_args(call.args));
}

Value Renderer::call_value(const Value& callee, const CallArgs& args) {
  if (callee.is_undefined()) fail_undefined(callee);
  LORAX_CHECK(callee.is_callable(), "'", callee.type_name(), "' object is not callable");
  return callee.as_callable().call(args);
}

}  // namespace lorax::jinja
