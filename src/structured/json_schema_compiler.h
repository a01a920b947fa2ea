// JSON Schema (draft 4 to 2020-12, as real schemas use it) compiled into a ByteGraph rule that
// matches exactly the JSON texts the schema accepts, written compactly or with up to
// `max_whitespace` whitespace characters between tokens.
//
// Honoured: type (and lists of types), enum, const, properties (any order, each at most once),
// required, additionalProperties (bool or schema), patternProperties (up to 3 patterns: keys are
// split by the patterns they match, via complemented automata), min/maxProperties, items,
// prefixItems, additionalItems, min/maxItems, anyOf, oneOf (when its branches are provably
// disjoint: by type, by const/enum values, by a required key the other branch forbids or pins
// differently), allOf (by merging), $ref to "#" and "#/..." pointers, $defs and definitions
// (recursion included), pattern, format (date-time, date (calendar-exact), time, email,
// hostname, ipv4, uuid, uri, uri-reference; other standard formats are refused, non-standard
// ones (int32, ...) assert nothing, as validators without a checker for them treat them),
// min/maxLength (pattern, format and lengths of one string are intersected), and
// minimum/maximum/exclusiveMinimum/exclusiveMaximum for integers (exact digit ranges) and for
// numbers with integral bounds (exact: the integer part by digit ranges, the fraction by whether
// it is zero). A $ref ignores its sibling keywords in schemas that declare draft 3 to 7 and
// combines with them otherwise (2019-09 on, and schemas that declare no draft). Annotations and
// unknown keywords are ignored, as validators ignore them.
//
// Refused, with a lorax::Error naming the keyword: not, if/then/else, propertyNames,
// dependencies, dependentRequired/Schemas, unevaluated*, contains, uniqueItems, multipleOf,
// numbers with fractional bounds, external $refs and anchors, oneOf whose branches may overlap,
// allOf parts that cannot be merged, automata past their size limits. A schema is never
// loosened. Where the language admits several spellings of one value the canonical one is
// required: strings constrained by pattern/format/enum spell each character as JSON serializers
// do (raw UTF-8, only quote, backslash and controls escaped), bounded numbers take no exponent,
// and undeclared keys may not use \u escapes of printable ASCII (which could spell a declared
// key). Whitespace: up to `max_whitespace` of space, tab, newline, carriage return between
// tokens, none before or after the whole value.
#pragma once

#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "structured/byte_graph.h"

namespace lorax::structured {

struct JsonSchemaOptions {
  int max_whitespace = 8;
  double compile_seconds = 10.0;
  size_t max_graph_nodes = 4'000'000;
};

// Returns the start node of the rule matching the schema's JSON texts.
int32_t compile_json_schema(ByteGraph& graph, const nlohmann::json& schema,
                            const JsonSchemaOptions& options);

}  // namespace lorax::structured
