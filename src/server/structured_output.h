// Structured output requests: which constraint a request asks for, and compiling it against the
// served tokenizer on the HTTP thread (before the request reaches the engine).
//
// Fields accepted (one constraint per request; two sources are refused):
// - OpenAI (/v1/chat/completions, /v1/completions): `response_format` {"type": "text"} (none),
//   {"type": "json_object"} (any JSON object; LoRAX's OpenAI route also takes a "schema" here),
//   {"type": "json_schema", "json_schema": {"name", "schema", "strict"}}; and vLLM's
//   `guided_json` (a schema, as an object or a JSON string), `guided_regex`, `guided_grammar`.
// - LoRAX (/generate, /generate_stream, /): `parameters.response_format` as LoRAX's
//   ResponseFormat {"type": "json_object", "schema": {...}} (no schema: any JSON object), and the
//   same vLLM names inside `parameters`.
// - Both: response_format {"type": "regex", "pattern": "..."} and {"type": "grammar",
//   "grammar": "..."} (a full match of the regex; a GBNF-like grammar from `root`).
// `strict` is accepted either way: the output always follows the schema.
//
// A schema, regex or grammar the constraint layer cannot honour is a validation error naming the
// field and, in the layer's words, the keyword or construct (400 on the OpenAI API, 422 on
// LoRAX's as every validation error there).
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/json_body.h"
#include "structured/constraint.h"
#include "tokenizer/tokenizer.h"

namespace lorax {

class FieldReader;

struct ConstraintSpec {
  enum class Kind { JsonSchema, Regex, Grammar };
  Kind kind = Kind::JsonSchema;
  Json schema;         // JsonSchema
  std::string source;  // Regex, Grammar
  std::string param;   // the request field it came from, for errors ("response_format")
};

// The constraint fields of an OpenAI body, or of LoRAX's `parameters` (the reader's path says
// which); nullopt when none asks for one. Throws ApiError(Validation) naming the field.
std::optional<ConstraintSpec> read_constraint(const FieldReader& fields);

// Compiles constraints against one tokenizer's vocabulary, keeping the most recent ones: a schema
// sent again reuses its compiled automaton (and the masks it has cached). Thread-safe.
class ConstraintCompiler {
 public:
  // `tokenizer` null: the model has no tokenizer, and every constraint is refused.
  explicit ConstraintCompiler(const Tokenizer* tokenizer, size_t cache_entries = 32);

  // Throws ApiError(Validation) with the layer's reason when the spec cannot be honoured.
  std::shared_ptr<structured::Constraint> compile(const ConstraintSpec& spec);

 private:
  std::shared_ptr<const structured::TokenTrie> trie();

  const Tokenizer* tokenizer_;
  size_t cache_entries_;
  std::once_flag trie_once_;
  std::shared_ptr<const structured::TokenTrie> trie_;
  std::mutex mutex_;
  std::list<std::string> order_;  // most recent first
  std::unordered_map<std::string, std::shared_ptr<structured::Constraint>> cache_;
};

}  // namespace lorax
