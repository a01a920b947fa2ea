// Python's operators on template values: arithmetic with int/float promotion and Python's floor
// division and modulo signs, string and list concatenation and repetition, `~`, comparisons.
#pragma once

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace lorax::jinja {

// Every binary operator except `and` / `or`, which short-circuit in the renderer.
Value apply_binary(ast::BinaryOp op, const Value& left, const Value& right);
Value apply_unary(ast::UnaryOp op, const Value& operand);
bool apply_compare(ast::CompareOp op, const Value& left, const Value& right);

}  // namespace lorax::jinja
