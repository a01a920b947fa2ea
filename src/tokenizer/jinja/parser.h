// Tokens to the statement tree, following Jinja's grammar and operator precedence (lowest first):
// `x if c else y`, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`,
// unary `- +`, then postfix `.attr [key] (args)`, filters `| f` and tests `is t`.
#pragma once

#include <string_view>

#include "tokenizer/jinja/ast.h"

namespace lorax::jinja {

// Throws TemplateSyntaxError naming the line.
ast::Body parse(std::string_view source);

}  // namespace lorax::jinja
