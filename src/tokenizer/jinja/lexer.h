// Template source to tokens, with Jinja's whitespace rules applied to the text between tags.
//
// The rules are those of the environment transformers builds for chat templates:
// `trim_blocks=True` (the first newline after `%}` or `#}` is dropped), `lstrip_blocks=True`
// (spaces and tabs before `{%` or `{#` at the start of a line are dropped), `{%-`/`-%}` strip all
// whitespace on that side, `{%+`/`+%}` turn the automatic stripping off, and one trailing newline
// of the whole template is dropped (`keep_trailing_newline=False`). Newlines are normalized to
// "\n". Text inside `{% raw %}` comes out as one text token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/errors.h"

namespace lorax::jinja {

enum class TokenType {
  kText,
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,   // value holds the unescaped text
  kInteger,  // value holds the digits, underscores removed, base prefix kept
  kFloat,    // value holds the digits, underscores removed
  kOperator,
  kEnd,
};

struct Token {
  TokenType type;
  std::string value;
  int line;
};

std::vector<Token> tokenize(std::string_view source);

}  // namespace lorax::jinja
