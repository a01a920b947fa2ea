#include <gtest/gtest.h>

#include "core/error.h"
#include "structured_test_support.h"

namespace lorax::structured {
namespace {

using test::accepts;

std::shared_ptr<Constraint> grammar(std::string_view text) {
  return Constraint::from_grammar(text, test::byte_vocab());
}

TEST(StructuredGrammar, RulesClassesAndRepetition) {
  auto g = grammar(R"(
    # a tiny object language
    root   ::= "{" pair ("," pair)* "}"
    pair   ::= key ":" [0-9]+
    key    ::= "\"" [a-z]{1,3} "\""
  )");
  EXPECT_TRUE(accepts(g, R"({"a":1,"bcd":22})"));
  EXPECT_FALSE(accepts(g, R"({"abcd":1})"));
  EXPECT_FALSE(accepts(g, R"({"a":})"));
  EXPECT_FALSE(accepts(g, "{}"));
}

TEST(StructuredGrammar, RecursionNestsArbitrarilyDeep) {
  auto g = grammar(R"g(root ::= "(" root ")" | "x")g");
  EXPECT_TRUE(accepts(g, "x"));
  EXPECT_TRUE(accepts(g, "((((x))))"));
  EXPECT_FALSE(accepts(g, "((x)"));
  EXPECT_FALSE(accepts(g, "(x))"));
}

TEST(StructuredGrammar, LiteralEscapes) {
  auto g = grammar(R"(root ::= "a\n\"\u00e9")");
  EXPECT_TRUE(accepts(g, "a\n\"\xC3\xA9"));
  EXPECT_FALSE(accepts(g, "a\n\""));
}

TEST(StructuredGrammar, Errors) {
  EXPECT_THROW(grammar(R"(start ::= "a")"), Error);            // no root
  EXPECT_THROW(grammar(R"(root ::= missing)"), Error);         // undefined rule
  EXPECT_THROW(grammar(R"(root ::= "a)"), Error);              // unterminated literal
  EXPECT_THROW(grammar(R"(root ::= root "a" | "b")"), Error);  // left recursion
}

}  // namespace
}  // namespace lorax::structured
