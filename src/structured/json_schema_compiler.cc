#include "structured/json_schema_compiler.h"

#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "structured/json_object_shape.h"
#include "structured/json_schema_merge.h"
#include "structured/number_ranges.h"
#include "structured/regex_compiler.h"

namespace lorax::structured {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Product states one string's format, pattern and length may make together.
constexpr size_t kMaxIntersection = 400'000;

// Joins by appending: GCC 12 warns (-Wrestrict, a false positive) on "literal" + std::string&&.
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

// One character of a JSON string as any serializer may write it.
constexpr const char* kStringChar = R"(([^"\\\x00-\x1f]|\\(["\\/bfnrt]|u[0-9a-fA-F]{4})))";
constexpr const char* kNumber = R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)";
constexpr const char* kInteger = R"(-?(0|[1-9][0-9]*))";

const std::map<std::string, std::string>& format_regexes() {
  static const std::map<std::string, std::string> kFormats = [] {
    // Calendar dates: 30- and 31-day months, February to the 28th, the 29th in leap years
    // (divisible by 4, centuries only when divisible by 400).
    std::string leap_year =
        "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)";
    std::string date =
        "([0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-"
        "(0[1-9]|1[0-9]|2[0-8]))|" +
        leap_year + "-02-29)";
    std::string time =
        "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-"
        "5][0-9])";
    std::string label = "[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?";
    std::string octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    std::string uri_chars = "[^\\x00-\\x20\"<>\\\\^`{|}]";
    return std::map<std::string, std::string>{
        {"date", date},
        {"time", time},
        {"date-time", date + "[Tt]" + time},
        {"uuid", "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"},
        {"email", "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@" + label + "(\\." + label + ")*"},
        {"hostname", label + "(\\." + label + ")*"},
        {"ipv4", "(" + octet + "\\.){3}" + octet},
        {"uri", "[a-zA-Z][a-zA-Z0-9+.-]*:" + uri_chars + "*"},
        {"uri-reference", uri_chars + "*"},
    };
  }();
  return kFormats;
}

// Formats the JSON Schema specification defines; those without a regex above are refused
// rather than ignored, since validators check them.
const std::set<std::string>& standard_formats() {
  static const std::set<std::string> kStandard{
      "date-time", "date",          "time", "duration",     "email",        "idn-email",
      "hostname",  "idn-hostname",  "ipv4", "ipv6",         "uri",          "uri-reference",
      "iri",       "iri-reference", "uuid", "uri-template", "json-pointer", "relative-json-pointer",
      "regex"};
  return kStandard;
}

std::string compact(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  if (v.is_string()) return "string";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  return v.get<double>() == std::floor(v.get<double>()) ? "integer" : "number";
}

class SchemaCompiler {
 public:
  SchemaCompiler(ByteGraph& g, const json& root, const JsonSchemaOptions& o)
      : g_(g),
        root_(root),
        options_(o),
        deadline_(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(o.compile_seconds))) {}

  int32_t rule(const json& s) {
    auto it = rules_.find(&s);
    if (it != rules_.end()) return it->second;
    int32_t start = g_.add_node();
    rules_.emplace(&s, start);
    // Recursion through $ref goes through the memo above; only a schema nesting this deep
    // without one gets here, and the stack is better spent elsewhere.
    if (++depth_ > 400) fail("schema: nested deeper than 400 levels");
    Fragment body = value(s);
    --depth_;
    g_.define_rule(start, body);
    return start;
  }

 private:
  // Merged schemas live here so rules_ can key on their addresses.
  // Equal schemas share one copy, so a merge that recurses (a $ref next to other keywords
  // inside its own target) meets its earlier rule instead of unfolding forever.
  const json& own(json s) {
    std::string key = s.dump();
    auto it = owned_by_content_.find(key);
    if (it != owned_by_content_.end()) return *it->second;
    const json& stored = owned_.emplace_back(std::move(s));
    owned_by_content_.emplace(std::move(key), &stored);
    return stored;
  }

  void check_budget() {
    if (Clock::now() > deadline_)
      fail("schema: compiling took longer than ", options_.compile_seconds, " s");
    if (g_.size() > options_.max_graph_nodes)
      fail("schema: more than ", options_.max_graph_nodes, " automaton nodes");
  }

  Fragment whitespace() { return whitespace_fragment(g_, options_.max_whitespace); }

  Fragment regex(const std::string& pattern, RegexMode mode = RegexMode::kRaw) {
    RegexLimits limits;
    limits.max_graph_nodes = options_.max_graph_nodes;
    return compile_regex(g_, pattern, mode, limits);
  }

  Fragment value(const json& s) {
    check_budget();
    if (s.is_boolean()) return s.get<bool>() ? g_.call(any_value()) : g_.never();
    if (!s.is_object()) fail("schema: expected an object or a boolean, got ", compact(s));
    refuse_unsupported(s);
    if (s.contains("$ref")) return with_ref(s);
    if (s.contains("allOf")) return all_of(s);
    if (s.contains("anyOf")) return any_of(s, "anyOf");
    if (s.contains("oneOf")) return any_of(s, "oneOf");
    if (s.contains("enum") || s.contains("const")) return enumeration(s);
    return by_type(s);
  }

  void refuse_unsupported(const json& s) {
    static const char* kRefused[] = {"not",
                                     "if",
                                     "then",
                                     "else",
                                     "propertyNames",
                                     "dependencies",
                                     "dependentRequired",
                                     "dependentSchemas",
                                     "contains",
                                     "minContains",
                                     "maxContains",
                                     "$dynamicRef",
                                     "$recursiveRef",
                                     "multipleOf"};
    for (const char* k : kRefused) {
      if (s.contains(k)) fail("schema keyword \"", k, "\" is not supported");
    }
    for (const char* k : {"unevaluatedProperties", "unevaluatedItems"}) {
      if (s.contains(k) && s[k] != json(true)) fail("schema keyword \"", k, "\" is not supported");
    }
    if (s.value("uniqueItems", false) == true)
      fail("schema keyword \"uniqueItems\" is not supported");
  }

  json without(const json& s, std::initializer_list<const char*> keys) {
    json out = s;
    for (const char* k : keys) out.erase(k);
    return out;
  }

  // Up to draft 7 a $ref replaces the schema it sits in: its sibling keywords are ignored.
  bool ref_overrides_siblings() const {
    if (!root_.is_object() || !root_.contains("$schema") || !root_["$schema"].is_string())
      return false;
    std::string uri = root_["$schema"];
    for (const char* old : {"draft-03", "draft-04", "draft-06", "draft-07"}) {
      if (uri.find(old) != std::string::npos) return true;
    }
    return false;
  }

  bool has_constraints(const json& s) {
    for (auto& [k, v] : s.items()) {
      if (!is_annotation(k)) return true;
    }
    return false;
  }

  Fragment with_ref(const json& s) {
    if (!s["$ref"].is_string()) fail("$ref: expected a string");
    const json& target = resolve_ref(root_, s["$ref"]);
    json rest = without(s, {"$ref"});
    if (!has_constraints(rest) || ref_overrides_siblings()) return g_.call(rule(target));
    if (++merge_depth_ > 64) fail("$ref: too deeply nested next to other keywords");
    Fragment f = g_.call(rule(own(merge_schemas(root_, rest, target))));
    --merge_depth_;
    return f;
  }

  Fragment all_of(const json& s) {
    if (!s["allOf"].is_array()) fail("allOf: expected an array");
    json merged = without(s, {"allOf"});
    for (const json& part : s["allOf"]) merged = merge_schemas(root_, merged, part);
    if (++merge_depth_ > 64) fail("allOf: too deeply nested");
    Fragment f = g_.call(rule(own(std::move(merged))));
    --merge_depth_;
    return f;
  }

  Fragment any_of(const json& s, const char* keyword) {
    const json& options = s[keyword];
    if (!options.is_array() || options.empty()) fail(keyword, ": expected a non-empty array");
    json rest = without(s, {keyword});
    if (std::string(keyword) == "oneOf") check_disjoint(options, rest);
    std::vector<Fragment> parts;
    for (const json& option : options) {
      if (!has_constraints(rest)) {
        parts.push_back(g_.call(rule(option)));
      } else {
        parts.push_back(g_.call(rule(own(merge_schemas(root_, rest, option)))));
      }
    }
    return g_.alternatives(parts);
  }

  void check_disjoint(const json& options, const json& rest) {
    for (size_t i = 0; i < options.size(); ++i) {
      for (size_t j = i + 1; j < options.size(); ++j) {
        if (provably_disjoint(root_, options[i], options[j])) continue;
        // With the siblings merged in, branches may become disjoint (e.g. by type).
        if (has_constraints(rest) &&
            provably_disjoint(root_, merge_schemas(root_, rest, options[i]),
                              merge_schemas(root_, rest, options[j])))
          continue;
        fail("oneOf: branches ", i, " and ", j,
             " may both match (only provably disjoint branches are supported)");
      }
    }
  }

  std::set<std::string> types(const json& s) {
    static const std::set<std::string> kAll{"null",  "boolean", "object",
                                            "array", "string",  "number"};
    if (!s.contains("type")) return kAll;
    std::set<std::string> out;
    for (const json& t : s["type"].is_array() ? s["type"] : json::array({s["type"]})) {
      if (!t.is_string()) fail("type: expected a string or a list of strings");
      out.insert(t.get<std::string>());
    }
    if (out.count("number")) out.erase("integer");  // number already covers them
    return out;
  }

  Fragment enumeration(const json& s) {
    json values = s.contains("const") ? json::array({s["const"]}) : s["enum"];
    if (!values.is_array()) fail("enum: expected an array");
    std::set<std::string> allowed = types(s);
    std::vector<Fragment> parts;
    for (const json& v : values) {
      std::string t = type_name(v);
      bool ok = allowed.count(t) || (t == "integer" && allowed.count("number"));
      if (ok) parts.push_back(g_.literal(compact(v)));
    }
    return g_.alternatives(parts);
  }

  Fragment by_type(const json& s) {
    std::vector<Fragment> parts;
    for (const std::string& t : types(s)) {
      if (t == "null")
        parts.push_back(g_.literal("null"));
      else if (t == "boolean")
        parts.push_back(g_.alternatives({g_.literal("true"), g_.literal("false")}));
      else if (t == "integer" || t == "number")
        parts.push_back(number(s, t == "integer"));
      else if (t == "string")
        parts.push_back(string(s));
      else if (t == "array")
        parts.push_back(array(s));
      else if (t == "object")
        parts.push_back(object(s));
      else
        fail("type \"", t, "\" is not a JSON Schema type");
    }
    return g_.alternatives(parts);
  }

  std::optional<double> numeric(const json& s, const char* k) {
    if (!s.contains(k) || !s[k].is_number()) return std::nullopt;
    double v = s[k].get<double>();
    if (std::fabs(v) > 1e15) fail(k, ": bounds beyond 1e15 are not supported");
    return v;
  }

  // Inclusive/exclusive bounds in either draft's spelling.
  void bounds(const json& s, std::optional<NumberBound>& lo, std::optional<NumberBound>& hi,
              bool integer) {
    auto make = [&](const char* inclusive, const char* exclusive,
                    bool lower) -> std::optional<NumberBound> {
      std::optional<double> v = numeric(s, inclusive);
      bool excl = s.contains(exclusive) && s[exclusive].is_boolean() && s[exclusive].get<bool>();
      if (auto e = numeric(s, exclusive)) {
        if (!v || (lower ? *e >= *v : *e <= *v)) v = *e, excl = true;
      }
      if (!v) return std::nullopt;
      double x = *v;
      if (integer) {  // the nearest integer inside the bound, inclusive
        double r = lower ? std::ceil(x) : std::floor(x);
        if (excl && r == x) r += lower ? 1 : -1;
        return NumberBound{static_cast<int64_t>(r), false};
      }
      if (x != std::floor(x))
        fail(lower ? inclusive : exclusive, ": fractional bounds on numbers are not supported");
      return NumberBound{static_cast<int64_t>(x), excl};
    };
    lo = make("minimum", "exclusiveMinimum", true);
    hi = make("maximum", "exclusiveMaximum", false);
  }

  Fragment number(const json& s, bool integer) {
    std::optional<NumberBound> lo, hi;
    bounds(s, lo, hi, integer);
    if (!lo && !hi) return g_.call(shared(integer ? kInteger : kNumber));
    std::string re;
    if (integer) {
      re = integer_range_regex(lo ? std::optional<int64_t>(lo->value) : std::nullopt,
                               hi ? std::optional<int64_t>(hi->value) : std::nullopt);
    } else {
      re = number_range_regex(lo, hi);
    }
    return re.empty() ? g_.never() : regex(re);
  }

  // A rule compiled once from a raw regex and called wherever it is needed.
  int32_t shared(const std::string& pattern) {
    auto it = shared_rules_.find(pattern);
    if (it != shared_rules_.end()) return it->second;
    int32_t r = g_.make_rule(g_.sequence({regex(pattern), g_.literal("")}));
    shared_rules_.emplace(pattern, r);
    return r;
  }

  Fragment quoted(Fragment content) {
    return g_.sequence({g_.literal("\""), content, g_.literal("\"")});
  }

  // Strings: the content between the quotes must satisfy format, pattern and length at once;
  // several of them are intersected (product automaton).
  Fragment string(const json& s) {
    bool lengths = s.contains("minLength") || s.contains("maxLength");
    std::optional<Fragment> content;
    auto add = [&](Fragment f) {
      if (!content) return void(content = f);
      try {
        content = intersect(g_, *content, f, kMaxIntersection);
      } catch (const Error& e) {
        fail("pattern/format/minLength/maxLength of one string: ", e.what());
      }
    };
    if (s.contains("format") && s["format"].is_string()) {
      // An unknown format asserts nothing (an annotation, as JSON Schema 2019-09 on says and as
      // validators without a checker for it treat it).
      std::string name = s["format"];
      auto it = format_regexes().find(name);
      if (it != format_regexes().end()) {
        add(regex(it->second, RegexMode::kJsonString));
      } else if (standard_formats().count(name)) {  // validators check these: cannot ignore
        fail("format \"", name, "\" is not supported");
      }
    }
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) fail("pattern: expected a string");
      RegexLimits limits;
      limits.max_graph_nodes = options_.max_graph_nodes;
      add(compile_search_pattern(g_, s["pattern"].get<std::string>(), limits));
    }
    std::string bounds;
    if (lengths) {
      auto min = s.value("minLength", json(0)).get<int64_t>();
      std::string max =
          s.contains("maxLength") ? std::to_string(s["maxLength"].get<int64_t>()) : "";
      if (min > 100000 || (!max.empty() && std::stoll(max) > 100000))
        fail("minLength/maxLength beyond 100000 are not supported");
      bounds = concat("{", std::to_string(min), ",", max, "}");
    }
    if (!content) return g_.call(shared(concat("\"", kStringChar, lengths ? bounds : "*", "\"")));
    if (lengths) add(regex(concat(kStringChar, bounds)));
    return quoted(*content);
  }

  Fragment array(const json& s) {
    std::vector<int32_t> prefix;
    std::optional<int32_t> rest = any_value();  // items beyond the prefix; nullopt: none allowed
    const json* items = s.contains("items") ? &s["items"] : nullptr;
    if (s.contains("prefixItems")) {
      for (const json& p : s["prefixItems"]) prefix.push_back(rule(p));
    } else if (items && items->is_array()) {  // draft 4-7 tuples
      for (const json& p : *items) prefix.push_back(rule(p));
      items = s.contains("additionalItems") ? &s["additionalItems"] : nullptr;
    }
    if (items) {
      if (*items == json(false))
        rest = std::nullopt;
      else
        rest = rule(*items);
    }
    ArrayShape shape;
    shape.prefix = std::move(prefix);
    shape.rest = rest;
    shape.min_items = s.value("minItems", json(0)).get<int64_t>();
    shape.max_items = s.contains("maxItems") ? s["maxItems"].get<int64_t>() : -1;
    if (shape.max_items > 100000 || shape.min_items > 100000)
      fail("minItems/maxItems beyond 100000 are not supported");
    return array_fragment(g_, shape, options_.max_whitespace);
  }

  Fragment object(const json& s) {
    auto shape = std::make_shared<ObjectShape>();
    shape->max_whitespace = options_.max_whitespace;
    const json& extra =
        s.contains("additionalProperties") ? s["additionalProperties"] : own(json(true));
    std::vector<std::pair<std::string, const json*>> patterns = pattern_properties(s, extra);
    std::vector<std::string> keys;
    const json& props = s.contains("properties") ? s["properties"] : own(json::object());
    std::set<std::string> required;
    for (const json& r : s.value("required", json::array())) required.insert(r.get<std::string>());
    for (auto& [key, schema] : props.items()) keys.push_back(key);
    for (const std::string& r : required) {
      if (!props.contains(r)) keys.push_back(r);
    }
    for (const std::string& key : keys) {
      const json& schema = declared_schema(key, props, extra, patterns);
      if (schema == json(false)) {
        if (required.count(key)) return g_.never();  // a required property that cannot exist
        continue;
      }
      shape->keys.push_back(key);
      shape->required.push_back(required.count(key) > 0);
      shape->property_rules.push_back(property_rule(key, schema));
    }
    shape->extra_rules = undeclared_rules(keys, extra, patterns);
    shape->min_properties = s.value("minProperties", json(0)).get<int64_t>();
    shape->max_properties = s.contains("maxProperties") ? s["maxProperties"].get<int64_t>() : -1;
    return object_fragment(g_, shape);
  }

  // A declared property's schema: its own (or additionalProperties for a required key without
  // one) and that of every patternProperties pattern its name matches.
  const json& declared_schema(const std::string& key, const json& props, const json& extra,
                              const std::vector<std::pair<std::string, const json*>>& patterns) {
    json parts = json::array();
    for (const auto& [re, schema] : patterns) {
      if (key_matches(re, key)) parts.push_back(*schema);
    }
    if (props.contains(key)) {
      if (parts.empty()) return props[key];
      parts.push_back(props[key]);
    } else if (parts.empty()) {
      return extra;
    }
    return own(json{{"allOf", parts}});
  }

  // patternProperties that change anything (up to 3 patterns), as (pattern, schema) pairs.
  std::vector<std::pair<std::string, const json*>> pattern_properties(const json& s,
                                                                      const json& extra) {
    std::vector<std::pair<std::string, const json*>> out;
    if (!s.contains("patternProperties") || !s["patternProperties"].is_object()) return out;
    bool trivial = true;
    for (auto& [re, schema] : s["patternProperties"].items()) {
      trivial &= schema == json(true) || (schema.is_object() && !has_constraints(schema));
      out.emplace_back(re, &schema);
    }
    if (trivial && extra == json(true)) return {};
    if (out.size() > 3) fail("patternProperties with more than 3 patterns is not supported");
    return out;
  }

  // Undeclared keys split by which patterns they match: each part gets the allOf of those
  // patterns' schemas, the part matching none gets additionalProperties.
  std::vector<int32_t> undeclared_rules(
      const std::vector<std::string>& declared, const json& extra,
      const std::vector<std::pair<std::string, const json*>>& patterns) {
    std::vector<std::string> encoded;
    for (const std::string& k : declared) {
      std::string e = compact(json(k));
      encoded.push_back(e.substr(1, e.size() - 2));
    }
    std::vector<int32_t> rules;
    for (uint32_t subset = 0; subset < (1u << patterns.size()); ++subset) {
      json parts = json::array();
      for (size_t i = 0; i < patterns.size(); ++i) {
        if (subset >> i & 1) parts.push_back(*patterns[i].second);
      }
      const json& value = parts.empty() ? extra : own(json{{"allOf", parts}});
      if (value == json(false)) continue;
      Fragment key = undeclared_key_fragment(g_, encoded);
      for (size_t i = 0; i < patterns.size(); ++i) {
        RegexLimits limits;
        limits.max_graph_nodes = options_.max_graph_nodes;
        Fragment match = compile_search_pattern(g_, patterns[i].first, limits);
        try {
          if (!(subset >> i & 1)) match = complement(g_, match, kMaxIntersection);
          key = intersect(g_, key, quoted(match), kMaxIntersection);
        } catch (const Error& e) {
          fail("patternProperties: ", e.what());
        }
      }
      rules.push_back(g_.make_rule(
          g_.sequence({key, whitespace(), g_.literal(":"), whitespace(), g_.call(rule(value))})));
    }
    return rules;
  }

  bool key_matches(const std::string& pattern, const std::string& key) {
    ByteGraph scratch;
    Fragment f = compile_search_pattern(scratch, pattern);
    std::string encoded = compact(json(key));
    return fragment_matches(scratch, f, std::string_view(encoded).substr(1, encoded.size() - 2));
  }

  // `"key" ws : ws value`, as a rule.
  int32_t property_rule(const std::string& key, const json& schema) {
    return g_.make_rule(g_.sequence({g_.literal(compact(json(key))), whitespace(), g_.literal(":"),
                                     whitespace(), g_.call(rule(schema))}));
  }

  // Any JSON value, recursively.
  int32_t any_value() {
    if (!any_schema_) {
      any_schema_ = &own(
          json{{"type", json::array({"null", "boolean", "number", "string", "array", "object"})}});
    }
    return rule(*any_schema_);  // rule() registers itself first, so the recursion ends
  }

  ByteGraph& g_;
  const json& root_;
  JsonSchemaOptions options_;
  Clock::time_point deadline_;
  std::unordered_map<const json*, int32_t> rules_;
  std::map<std::string, int32_t> shared_rules_;
  std::deque<json> owned_;
  std::unordered_map<std::string, const json*> owned_by_content_;
  int depth_ = 0;
  const json* any_schema_ = nullptr;
  int merge_depth_ = 0;
};

}  // namespace

int32_t compile_json_schema(ByteGraph& graph, const nlohmann::json& schema,
                            const JsonSchemaOptions& options) {
  SchemaCompiler compiler(graph, schema, options);
  return compiler.rule(schema);
}

}  // namespace lorax::structured
