#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "structured_test_support.h"

namespace lorax::structured {
namespace {

using test::accepts;
using test::schema;
using test::viable;

TEST(StructuredJsonSchema, Types) {
  auto s = schema(R"({"type": "string"})");
  EXPECT_TRUE(accepts(s, R"("hi \"there\" \u00e9")"));
  EXPECT_FALSE(accepts(s, "12"));
  EXPECT_FALSE(accepts(s, "\"a\nb\""));  // raw control characters are not JSON
  auto i = schema(R"({"type": "integer"})");
  EXPECT_TRUE(accepts(i, "-120"));
  EXPECT_FALSE(accepts(i, "1.5"));
  EXPECT_FALSE(accepts(i, "012"));
  auto n = schema(R"({"type": "number"})");
  EXPECT_TRUE(accepts(n, "-1.5e+3"));
  EXPECT_FALSE(accepts(n, "1."));
  auto many = schema(R"({"type": ["boolean", "null"]})");
  EXPECT_TRUE(accepts(many, "true"));
  EXPECT_TRUE(accepts(many, "null"));
  EXPECT_FALSE(accepts(many, "\"true\""));
}

TEST(StructuredJsonSchema, NoTypeMeansAnyValue) {
  auto s = schema(R"({"description": "anything"})");
  EXPECT_TRUE(accepts(s, R"({"a":[1,{"b":null}],"c":"d"})"));
  EXPECT_TRUE(accepts(s, "3"));
  EXPECT_FALSE(accepts(s, "{\"a\"}"));
}

TEST(StructuredJsonSchema, PropertiesInAnyOrderRequiredEnforced) {
  auto s = schema(R"({"type": "object", "properties": {"a": {"type": "integer"},
      "b": {"type": "string"}}, "required": ["a"], "additionalProperties": false})");
  EXPECT_TRUE(accepts(s, R"({"a":1,"b":"x"})"));
  EXPECT_TRUE(accepts(s, R"({"b":"x","a":1})"));
  EXPECT_TRUE(accepts(s, R"({"a":1})"));
  EXPECT_FALSE(accepts(s, R"({"b":"x"})"));      // a is required
  EXPECT_FALSE(accepts(s, R"({"a":1,"a":2})"));  // each property once
  EXPECT_FALSE(accepts(s, R"({"a":1,"c":2})"));  // no undeclared ones
  EXPECT_FALSE(accepts(s, R"({"a":"1"})"));
}

TEST(StructuredJsonSchema, AdditionalPropertiesDefaultAndSchema) {
  auto open = schema(R"({"type": "object", "properties": {"age": {"type": "integer"}}})");
  EXPECT_TRUE(accepts(open, R"({"name":"x","age":3,"ag":[1]})"));
  EXPECT_FALSE(accepts(open, R"({"age":"old"})"));  // a declared key keeps its schema
  auto typed = schema(R"({"type": "object", "additionalProperties": {"type": "boolean"}})");
  EXPECT_TRUE(accepts(typed, R"({"x":true,"y":false})"));
  EXPECT_FALSE(accepts(typed, R"({"x":1})"));
}

TEST(StructuredJsonSchema, PatternPropertiesWithClosedObjects) {
  auto s = schema(R"({"type": "object", "properties": {"id": {"type": "integer"}},
      "patternProperties": {"^x-[a-z]+$": {"type": "string"}}, "additionalProperties": false})");
  EXPECT_TRUE(accepts(s, R"({"x-ab":"v","id":1,"x-c":"w"})"));
  EXPECT_FALSE(accepts(s, R"({"x-ab":1})"));  // the pattern's schema applies
  EXPECT_FALSE(accepts(s, R"({"y":"v"})"));   // matches no pattern
  auto both = schema(R"({"properties": {"x-a": {"type": "string", "maxLength": 2}},
      "patternProperties": {"^x-": {"type": "string", "minLength": 2}}})");
  EXPECT_TRUE(accepts(both, R"({"x-a":"ab"})"));
  EXPECT_FALSE(accepts(both, R"({"x-a":"a"})"));    // the pattern's schema applies too
  EXPECT_FALSE(accepts(both, R"({"x-a":"abc"})"));  // and the property's
  EXPECT_FALSE(accepts(both, R"({"x-b":"a"})"));
  EXPECT_TRUE(accepts(both, R"({"y":1,"x-bc":"ab"})"));  // no pattern: anything
}

TEST(StructuredJsonSchema, OneOfDisjointByClosedObjects) {
  auto s = schema(R"({"oneOf": [
      {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
       "additionalProperties": false},
      {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"],
       "additionalProperties": false}]})");
  EXPECT_TRUE(accepts(s, R"({"a":"x"})"));
  EXPECT_TRUE(accepts(s, R"({"b":"x"})"));
  EXPECT_FALSE(accepts(s, R"({"a":"x","b":"y"})"));
}

TEST(StructuredJsonSchema, PropertyCounts) {
  auto s = schema(R"({"type": "object", "minProperties": 1, "maxProperties": 2})");
  EXPECT_FALSE(accepts(s, "{}"));
  EXPECT_TRUE(accepts(s, R"({"a":1})"));
  EXPECT_TRUE(accepts(s, R"({"a":1,"b":2})"));
  EXPECT_FALSE(accepts(s, R"({"a":1,"b":2,"c":3})"));
}

TEST(StructuredJsonSchema, ItemsAndCounts) {
  auto s = schema(R"({"type": "array", "items": {"type": "integer"}, "minItems": 1,
      "maxItems": 3})");
  EXPECT_FALSE(accepts(s, "[]"));
  EXPECT_TRUE(accepts(s, "[1]"));
  EXPECT_TRUE(accepts(s, "[1,2,3]"));
  EXPECT_FALSE(accepts(s, "[1,2,3,4]"));
  EXPECT_FALSE(accepts(s, "[1,\"2\"]"));
}

TEST(StructuredJsonSchema, PrefixItemsBothDrafts) {
  auto s2020 = schema(R"({"prefixItems": [{"type": "string"}, {"type": "integer"}],
      "items": false, "type": "array"})");
  EXPECT_TRUE(accepts(s2020, R"(["a",1])"));
  EXPECT_TRUE(accepts(s2020, R"(["a"])"));
  EXPECT_FALSE(accepts(s2020, R"(["a",1,2])"));
  EXPECT_FALSE(accepts(s2020, R"([1,"a"])"));
  auto s4 = schema(R"({"type": "array", "items": [{"type": "null"}],
      "additionalItems": {"type": "boolean"}})");
  EXPECT_TRUE(accepts(s4, "[null,true,false]"));
  EXPECT_FALSE(accepts(s4, "[null,null]"));
}

TEST(StructuredJsonSchema, EnumAndConst) {
  auto e = schema(R"({"enum": ["red", 3, null, {"k": [1]}]})");
  EXPECT_TRUE(accepts(e, R"("red")"));
  EXPECT_TRUE(accepts(e, "3"));
  EXPECT_TRUE(accepts(e, R"({"k":[1]})"));
  EXPECT_FALSE(accepts(e, R"("blue")"));
  EXPECT_FALSE(accepts(e, "4"));
  auto typed = schema(R"({"type": "string", "enum": ["a", 1]})");
  EXPECT_FALSE(accepts(typed, "1"));  // not a string
  auto c = schema(R"({"const": "x"})");
  EXPECT_TRUE(accepts(c, R"("x")"));
  EXPECT_FALSE(accepts(c, R"("y")"));
}

TEST(StructuredJsonSchema, AnyOfOneOfAllOf) {
  auto any = schema(R"({"anyOf": [{"type": "integer", "minimum": 5}, {"type": "string"}]})");
  EXPECT_TRUE(accepts(any, "7"));
  EXPECT_FALSE(accepts(any, "4"));
  EXPECT_TRUE(accepts(any, R"("s")"));
  auto one = schema(R"({"oneOf": [{"type": "object", "properties": {"kind": {"const": "a"}},
      "required": ["kind"]}, {"type": "object", "properties": {"kind": {"const": "b"},
      "n": {"type": "integer"}}, "required": ["kind"]}]})");
  EXPECT_TRUE(accepts(one, R"({"kind":"b","n":1})"));
  EXPECT_FALSE(accepts(one, R"({"kind":"c"})"));
  auto all = schema(R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}},
      "required": ["a"]}, {"properties": {"b": {"type": "string"}}, "required": ["b"]}]})");
  EXPECT_TRUE(accepts(all, R"({"b":"x","a":1})"));
  EXPECT_FALSE(accepts(all, R"({"a":1})"));
}

TEST(StructuredJsonSchema, RecursiveRefs) {
  auto tree = schema(R"({"$defs": {"node": {"type": "object", "properties": {
      "value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
      "required": ["value"], "additionalProperties": false}}, "$ref": "#/$defs/node"})");
  EXPECT_TRUE(accepts(tree, R"({"value":1,"children":[{"value":2,"children":[{"value":3}]}]})"));
  EXPECT_FALSE(accepts(tree, R"({"value":1,"children":[{"value":2,"children":[{}]}]})"));
  auto draft4 = schema(R"({"definitions": {"list": {"type": ["null", "object"],
      "properties": {"next": {"$ref": "#/definitions/list"}}, "additionalProperties": false}},
      "$ref": "#/definitions/list"})");
  EXPECT_TRUE(accepts(draft4, R"({"next":{"next":{"next":null}}})"));
  EXPECT_FALSE(accepts(draft4, R"({"next":{"next":1}})"));
}

TEST(StructuredJsonSchema, RefSiblingsFollowTheDeclaredDraft) {
  const char* body = R"("definitions": {"t": {"type": "object"}},
      "properties": {"x": {"$ref": "#/definitions/t", "required": ["k"]}}})";
  auto draft7 =
      schema(std::string(R"({"$schema": "http://json-schema.org/draft-07/schema#",)") + body);
  EXPECT_TRUE(accepts(draft7, R"({"x":{}})"));  // siblings of $ref are ignored up to draft 7
  auto draft2020 =
      schema(std::string(R"({"$schema": "https://json-schema.org/draft/2020-12/schema",)") + body);
  EXPECT_FALSE(accepts(draft2020, R"({"x":{}})"));
  EXPECT_TRUE(accepts(draft2020, R"({"x":{"k":1}})"));
}

TEST(StructuredJsonSchema, PatternSearchesUnlessAnchored) {
  auto contains = schema(R"({"type": "string", "pattern": "b+c"})");
  EXPECT_TRUE(accepts(contains, R"("abbcd")"));
  EXPECT_FALSE(accepts(contains, R"("acd")"));
  auto anchored = schema(R"({"type": "string", "pattern": "^[a-z]{2}-[0-9]+$"})");
  EXPECT_TRUE(accepts(anchored, R"("ab-12")"));
  EXPECT_FALSE(accepts(anchored, R"("xab-12")"));
  auto quote = schema(R"({"type": "string", "pattern": "^\"$"})");
  EXPECT_TRUE(accepts(quote, R"("\"")"));  // the quote is written escaped
}

TEST(StructuredJsonSchema, PatternFormatAndLengthTogether) {
  auto s = schema(R"({"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 4})");
  EXPECT_FALSE(accepts(s, R"("a")"));
  EXPECT_TRUE(accepts(s, R"("abcd")"));
  EXPECT_FALSE(accepts(s, R"("abcde")"));
  EXPECT_FALSE(accepts(s, R"("ab1")"));
  EXPECT_FALSE(test::viable(s, R"("abcde)"));  // no dead ends: the fifth letter is refused
  auto e = schema(R"({"type": "string", "format": "email", "maxLength": 6})");
  EXPECT_TRUE(accepts(e, R"("a@b.cd")"));
  EXPECT_FALSE(accepts(e, R"("a@b.cde")"));
}

TEST(StructuredJsonSchema, Formats) {
  auto dt = schema(R"({"type": "string", "format": "date-time"})");
  EXPECT_TRUE(accepts(dt, R"("2024-02-29T13:05:00.5Z")"));
  EXPECT_FALSE(accepts(dt, R"("2024-13-01T00:00:00Z")"));
  auto date = schema(R"({"type": "string", "format": "date"})");
  EXPECT_TRUE(accepts(date, R"("2024-02-29")"));
  EXPECT_TRUE(accepts(date, R"("2000-02-29")"));
  EXPECT_FALSE(accepts(date, R"("1900-02-29")"));
  EXPECT_FALSE(accepts(date, R"("2023-02-29")"));
  EXPECT_FALSE(accepts(date, R"("2024-04-31")"));
  EXPECT_TRUE(accepts(date, R"("2024-12-31")"));
  auto unknown = schema(R"({"type": "string", "format": "color-hex", "maxLength": 2})");
  EXPECT_TRUE(accepts(unknown, R"("ab")"));  // unknown formats assert nothing; the rest holds
  EXPECT_FALSE(accepts(unknown, R"("abc")"));
  auto uuid = schema(R"({"type": "string", "format": "uuid"})");
  EXPECT_TRUE(accepts(uuid, R"("123e4567-e89b-12d3-a456-426614174000")"));
  EXPECT_FALSE(accepts(uuid, R"("123e4567")"));
  auto ip = schema(R"({"type": "string", "format": "ipv4"})");
  EXPECT_TRUE(accepts(ip, R"("192.168.0.255")"));
  EXPECT_FALSE(accepts(ip, R"("256.1.1.1")"));
  auto email = schema(R"({"type": "string", "format": "email"})");
  EXPECT_TRUE(accepts(email, R"("a.b@example.com")"));
  EXPECT_FALSE(accepts(email, R"("no-at-sign")"));
}

TEST(StructuredJsonSchema, StringLengthsCountCharacters) {
  auto s = schema(R"({"type": "string", "minLength": 2, "maxLength": 3})");
  EXPECT_FALSE(accepts(s, R"("a")"));
  EXPECT_TRUE(accepts(s, R"("ab")"));
  EXPECT_TRUE(accepts(s, "\"\xC3\xA9\xC3\xA9\xC3\xA9\""));  // three characters, six bytes
  EXPECT_TRUE(accepts(s, R"("\n\"x")"));                    // escapes are one character each
  EXPECT_FALSE(accepts(s, R"("abcd")"));
}

// Every integer in a window against the bounds, exclusive and inclusive, both drafts' spellings.
TEST(StructuredJsonSchema, IntegerBoundsExact) {
  struct Case {
    const char* schema;
    long lo, hi;
  } cases[] = {
      {R"({"type": "integer", "minimum": -17, "maximum": 250})", -17, 250},
      {R"({"type": "integer", "exclusiveMinimum": 9, "exclusiveMaximum": 100})", 10, 99},
      {R"({"type": "integer", "minimum": 3, "exclusiveMinimum": true})", 4, 1L << 40},
      {R"({"type": "integer", "maximum": -5})", -(1L << 40), -5},
      {R"({"type": "integer", "minimum": 1.5, "maximum": 7.5})", 2, 7},
  };
  for (const Case& c : cases) {
    auto s = schema(c.schema);
    for (long x = -400; x <= 400; ++x) {
      EXPECT_EQ(accepts(s, std::to_string(x)), x >= c.lo && x <= c.hi) << c.schema << " " << x;
    }
    EXPECT_EQ(accepts(s, "123456"), 123456 >= c.lo && 123456 <= c.hi) << c.schema;
  }
}

TEST(StructuredJsonSchema, NumberBoundsExact) {
  auto s = schema(R"({"type": "number", "minimum": -2, "exclusiveMaximum": 10})");
  for (const char* v : {"-2", "-2.0", "-1.999", "0", "9.999", "3.25", "-0.5"}) {
    EXPECT_TRUE(accepts(s, v)) << v;
  }
  for (const char* v : {"-2.001", "10", "10.0", "10.5", "-3", "11"})
    EXPECT_FALSE(accepts(s, v)) << v;
  auto incl = schema(R"({"type": "number", "maximum": 1, "exclusiveMinimum": 0})");
  EXPECT_TRUE(accepts(incl, "1.000"));
  EXPECT_TRUE(accepts(incl, "0.001"));
  EXPECT_FALSE(accepts(incl, "0.0"));
  EXPECT_FALSE(accepts(incl, "1.01"));
  EXPECT_THROW(schema(R"({"type": "number", "maximum": 1.5})"), Error);
}

TEST(StructuredJsonSchema, WhitespaceIsBounded) {
  ConstraintOptions o;
  o.max_whitespace = 2;
  auto s = schema(R"({"type": "array", "items": {"type": "integer"}})", o);
  EXPECT_TRUE(accepts(s, "[ 1 ,\n2]"));
  EXPECT_TRUE(accepts(s, "[  1]"));
  EXPECT_FALSE(accepts(s, "[   1]"));
  EXPECT_FALSE(accepts(s, " [1]"));  // none around the whole value
}

TEST(StructuredJsonSchema, RefusesNamingTheKeyword) {
  struct Case {
    const char* schema;
    const char* keyword;
  } cases[] = {
      {R"({"not": {"type": "string"}})", "not"},
      {R"({"if": {}, "then": {}})", "if"},
      {R"({"type": "array", "uniqueItems": true})", "uniqueItems"},
      {R"({"patternProperties": {"a": {}, "b": {}, "c": {}, "d": {"type": "null"}}})",
       "patternProperties"},
      {R"({"$ref": "other.json#/a"})", "$ref"},
      {R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})", "oneOf"},
      {R"({"type": "integer", "multipleOf": 3})", "multipleOf"},
      {R"({"type": "string", "format": "regex"})", "format"},
      {R"({"type": "string", "pattern": "(a)\\1"})", "backreference"},
  };
  for (const Case& c : cases) {
    try {
      schema(c.schema);
      ADD_FAILURE() << "accepted " << c.schema;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.keyword), std::string::npos)
          << c.schema << " -> " << e.what();
    }
  }
}

TEST(StructuredJsonSchema, LeftRecursionIsRefused) {
  EXPECT_THROW(schema(R"({"anyOf": [{"$ref": "#"}, {"type": "null"}]})"), Error);
}

TEST(StructuredJsonSchema, PrefixesStayViable) {
  auto s = schema(R"({"type": "object", "properties": {"name": {"type": "string"}},
      "required": ["name"], "additionalProperties": false})");
  EXPECT_TRUE(viable(s, R"({"na)"));
  EXPECT_FALSE(viable(s, R"({"nb)"));
  EXPECT_FALSE(accepts(s, R"({"name":"x")"));
}

}  // namespace
}  // namespace lorax::structured
