// A small context-free grammar language (GBNF, as llama.cpp writes it) compiled into a
// ByteGraph:
//
//   root   ::= "{" ws pair ("," ws pair)* "}"
//   pair   ::= string ":" ws [0-9]+
//   string ::= "\"" [a-z]* "\""
//   ws     ::= [ \t\n]{0,4}
//
// Rules are `name ::= alternatives`; items are "literals" (with \n \t \" \\ \xHH \uHHHH),
// [character classes] (negation and ranges, over code points), `.` (any character), rule names,
// ( groups ), and the postfixes * + ? {n} {n,} {n,m}; # starts a comment. A rule's body runs
// until the next `name ::=`. Generation starts at `root`. Left recursion is refused when the
// constraint is built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "structured/byte_graph.h"

namespace lorax::structured {

// Returns the start node of `root`. Throws lorax::Error naming the rule or the position.
int32_t compile_grammar(ByteGraph& graph, std::string_view grammar, size_t max_graph_nodes);

}  // namespace lorax::structured
