#include "server/structured_output.h"

#include "server/api_error.h"
#include "server/request_fields.h"

namespace lorax {

namespace {

ConstraintSpec schema_spec(Json schema, std::string param) {
  ConstraintSpec spec;
  spec.schema = std::move(schema);
  spec.param = std::move(param);
  return spec;
}

ConstraintSpec text_spec(ConstraintSpec::Kind kind, std::string source, std::string param) {
  ConstraintSpec spec;
  spec.kind = kind;
  spec.source = std::move(source);
  spec.param = std::move(param);
  return spec;
}

// A schema given as an object (or a boolean schema), or as a JSON string holding one.
Json schema_value(const FieldReader& f, const char* key, const Json& value) {
  if (value.is_object() || value.is_boolean()) return value;
  if (value.is_string()) {
    const std::optional<Json> parsed = parse_json_text(value.get<std::string>());
    if (parsed && (parsed->is_object() || parsed->is_boolean())) return *parsed;
  }
  f.invalid(key, "must be a JSON Schema object, got " + json_excerpt(value));
}

std::string string_member(const FieldReader& f, const Json& object, const char* member,
                          const char* key) {
  const auto it = object.find(member);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty())
    f.invalid(key, std::string("needs a non-empty string \"") + member + "\"");
  return it->get<std::string>();
}

std::optional<ConstraintSpec> response_format(const FieldReader& f, const std::string& param) {
  const Json* format = f.value("response_format");
  if (!format) return std::nullopt;
  if (!format->is_object() || !format->contains("type") || !(*format)["type"].is_string())
    f.invalid("response_format",
              "must be an object with a string \"type\", got " + json_excerpt(*format));
  const std::string type = (*format)["type"].get<std::string>();
  if (type == "text") return std::nullopt;
  if (type == "json_object") {
    const auto schema = format->find("schema");
    if (schema == format->end() || schema->is_null())
      return schema_spec(Json{{"type", "object"}}, param);
    return schema_spec(schema_value(f, "response_format", *schema), param);
  }
  if (type == "json_schema") {
    const auto inner = format->find("json_schema");
    if (inner == format->end() || !inner->is_object())
      f.invalid("response_format", "of type \"json_schema\" needs a \"json_schema\" object");
    const auto schema = inner->find("schema");
    if (schema == inner->end() || schema->is_null())
      f.invalid("response_format", "needs \"json_schema\": {\"schema\": ...}");
    if (const auto strict = inner->find("strict");
        strict != inner->end() && !strict->is_null() && !strict->is_boolean())
      f.invalid("response_format", "\"json_schema\".\"strict\" must be a boolean");
    return schema_spec(schema_value(f, "response_format", *schema), param);
  }
  if (type == "regex")
    return text_spec(ConstraintSpec::Kind::Regex,
                     string_member(f, *format, "pattern", "response_format"), param);
  if (type == "grammar")
    return text_spec(ConstraintSpec::Kind::Grammar,
                     string_member(f, *format, "grammar", "response_format"), param);
  f.invalid("response_format",
            "type must be one of \"text\", \"json_object\", \"json_schema\", \"regex\", "
            "\"grammar\"; got \"" +
                type + "\"");
}

}  // namespace

std::optional<ConstraintSpec> read_constraint(const FieldReader& f) {
  std::optional<ConstraintSpec> out;
  const char* source = nullptr;
  auto take = [&](const char* key, std::optional<ConstraintSpec> spec) {
    if (!spec) return;
    if (out)
      f.invalid(key, std::string("cannot be combined with `") + source +
                         "`: a request takes one constraint");
    out = std::move(spec);
    source = key;
  };
  take("response_format", response_format(f, "response_format"));
  if (const Json* schema = f.value("guided_json"))
    take("guided_json", schema_spec(schema_value(f, "guided_json", *schema), "guided_json"));
  if (const auto regex = f.string("guided_regex"))
    take("guided_regex", text_spec(ConstraintSpec::Kind::Regex, *regex, "guided_regex"));
  if (const auto grammar = f.string("guided_grammar"))
    take("guided_grammar", text_spec(ConstraintSpec::Kind::Grammar, *grammar, "guided_grammar"));
  return out;
}

ConstraintCompiler::ConstraintCompiler(const Tokenizer* tokenizer, size_t cache_entries)
    : tokenizer_(tokenizer), cache_entries_(cache_entries) {}

std::shared_ptr<const structured::TokenTrie> ConstraintCompiler::trie() {
  std::call_once(trie_once_,
                 [this] { trie_ = structured::TokenTrie::from_tokenizer(*tokenizer_); });
  return trie_;
}

std::shared_ptr<structured::Constraint> ConstraintCompiler::compile(const ConstraintSpec& spec) {
  if (!tokenizer_)
    throw ApiError(ErrorKind::Validation,
                   "this model has no tokenizer, so its output cannot be constrained", spec.param);
  const char kinds[] = {'j', 'r', 'g'};
  const std::string key =
      kinds[int(spec.kind)] +
      (spec.kind == ConstraintSpec::Kind::JsonSchema ? spec.schema.dump() : spec.source);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = cache_.find(key); it != cache_.end()) {
      order_.remove(key);
      order_.push_front(key);
      return it->second;
    }
  }
  std::shared_ptr<structured::Constraint> constraint;
  try {
    switch (spec.kind) {
      case ConstraintSpec::Kind::JsonSchema:
        constraint = structured::Constraint::from_json_schema(spec.schema, trie());
        break;
      case ConstraintSpec::Kind::Regex:
        constraint = structured::Constraint::from_regex(spec.source, trie());
        break;
      case ConstraintSpec::Kind::Grammar:
        constraint = structured::Constraint::from_grammar(spec.source, trie());
        break;
    }
  } catch (const ApiError&) {
    throw;
  } catch (const Error& error) {
    throw ApiError(ErrorKind::Validation,
                   "`" + spec.param + "` cannot be honoured: " + error.what(), spec.param);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (cache_.emplace(key, constraint).second) order_.push_front(key);
  while (cache_.size() > cache_entries_) {
    cache_.erase(order_.back());
    order_.pop_back();
  }
  return constraint;
}

}  // namespace lorax
