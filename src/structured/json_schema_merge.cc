#include "structured/json_schema_merge.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace lorax::structured {
namespace {

using json = nlohmann::json;

std::string unescape_pointer_token(const std::string& token) {
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out.push_back(token[i + 1] == '1' ? '/' : '~');
      ++i;
    } else if (token[i] == '%' && i + 2 < token.size()) {
      out.push_back(static_cast<char>(std::stoi(token.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(token[i]);
    }
  }
  return out;
}

// The set of JSON types a schema may accept ("integer" counted as "number").
std::set<std::string> possible_types(const json& root, const json& s, int depth = 0) {
  static const std::set<std::string> kAll{"null", "boolean", "object", "array", "string", "number"};
  if (depth > 16 || !s.is_object()) return kAll;
  auto type_of = [](const json& v) -> std::string {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "boolean";
    if (v.is_object()) return "object";
    if (v.is_array()) return "array";
    if (v.is_string()) return "string";
    return "number";
  };
  if (s.contains("$ref") && s["$ref"].is_string()) {
    return possible_types(root, resolve_ref(root, s["$ref"]), depth + 1);
  }
  if (s.contains("const")) return {type_of(s["const"])};
  if (s.contains("enum") && s["enum"].is_array()) {
    std::set<std::string> out;
    for (const json& v : s["enum"]) out.insert(type_of(v));
    return out;
  }
  if (s.contains("type")) {
    std::set<std::string> out;
    json t = s["type"].is_array() ? s["type"] : json::array({s["type"]});
    for (const json& v : t) {
      if (v.is_string()) out.insert(v == "integer" ? "number" : v.get<std::string>());
    }
    return out;
  }
  return kAll;
}

// The values property `key` may take under `s`, when a const or enum pins them.
std::optional<json> pinned_values(const json& root, const json& s, const std::string& key) {
  if (!s.is_object() || !s.contains("properties") || !s["properties"].contains(key)) return {};
  const json* p = &s["properties"][key];
  if (p->contains("$ref") && (*p)["$ref"].is_string()) p = &resolve_ref(root, (*p)["$ref"]);
  if (p->contains("const")) return json::array({(*p)["const"]});
  if (p->contains("enum") && (*p)["enum"].is_array()) return (*p)["enum"];
  return {};
}

bool required_in(const json& s, const std::string& key) {
  if (!s.contains("required") || !s["required"].is_array()) return false;
  const json& r = s["required"];
  return std::find(r.begin(), r.end(), json(key)) != r.end();
}

const json& deref(const json& root, const json& s) {
  if (s.is_object() && s.contains("$ref") && s["$ref"].is_string() && s.size() == 1)
    return resolve_ref(root, s["$ref"]);
  return s;
}

bool closed_without(const json& s, const std::string& key) {
  if (s.value("additionalProperties", json(true)) != json(false)) return false;
  if (s.contains("patternProperties") && !s["patternProperties"].empty()) return false;
  return !s.contains("properties") || !s["properties"].contains(key);
}

}  // namespace

// Objects a and b cannot both hold when a requires a key b forbids, or a key both require has
// values that cannot agree.
bool objects_disjoint(const json& root, const json& a, const json& b, int depth) {
  for (const json& k : a.value("required", json::array())) {
    if (!k.is_string()) continue;
    std::string key = k.get<std::string>();
    if (closed_without(b, key)) return true;
    if (!required_in(b, key) || !a.contains("properties") || !b.contains("properties")) continue;
    if (!a["properties"].contains(key) || !b["properties"].contains(key)) continue;
    auto va = pinned_values(root, a, key), vb = pinned_values(root, b, key);
    if (va && vb) {
      bool overlap = false;
      for (const json& v : *va) overlap |= std::find(vb->begin(), vb->end(), v) != vb->end();
      if (!overlap) return true;
    }
    if (provably_disjoint(root, a["properties"][key], b["properties"][key], depth + 1)) return true;
  }
  return false;
}

namespace {

[[noreturn]] void cannot_merge(const std::string& keyword) {
  fail("allOf: cannot combine \"", keyword, "\" of its parts");
}

json merge_types(const json& a, const json& b) {
  auto as_set = [](const json& t) {
    std::set<std::string> s;
    for (const json& v : t.is_array() ? t : json::array({t})) s.insert(v.get<std::string>());
    return s;
  };
  std::set<std::string> x = as_set(a), y = as_set(b), out;
  for (const std::string& t : x) {
    if (y.count(t))
      out.insert(t);
    else if (t == "integer" && y.count("number"))
      out.insert("integer");
    else if (t == "number" && y.count("integer"))
      out.insert("integer");
  }
  return json(std::vector<std::string>(out.begin(), out.end()));
}

bool covers_properties(const json& restricted, const json& other) {
  if (!other.contains("properties")) return true;
  for (auto& [k, v] : other["properties"].items()) {
    if (!restricted.contains("properties") || !restricted["properties"].contains(k)) return false;
  }
  return true;
}

void merge_keyword(json& out, const std::string& k, const json& a, const json& b, const json& sa,
                   const json& sb) {
  static const std::set<std::string> kMaxOf{"minimum", "minLength", "minItems", "minProperties"};
  static const std::set<std::string> kMinOf{"maximum", "maxLength", "maxItems", "maxProperties"};
  if (a == b) {
    out[k] = a;
  } else if (k == "type") {
    out[k] = merge_types(a, b);
  } else if (kMaxOf.count(k) && a.is_number() && b.is_number()) {
    out[k] = a.get<double>() >= b.get<double>() ? a : b;
  } else if (kMinOf.count(k) && a.is_number() && b.is_number()) {
    out[k] = a.get<double>() <= b.get<double>() ? a : b;
  } else if (k == "required") {
    std::set<std::string> r;
    for (const json& v : a) r.insert(v.get<std::string>());
    for (const json& v : b) r.insert(v.get<std::string>());
    out[k] = json(std::vector<std::string>(r.begin(), r.end()));
  } else if (k == "properties") {
    out[k] = a;
    for (auto& [p, v] : b.items()) {
      out[k][p] = a.contains(p) ? json{{"allOf", json::array({a[p], v})}} : v;
    }
  } else if (k == "additionalProperties") {
    bool a_open = a == json(true), b_open = b == json(true);
    if (a_open && covers_properties(sb, sa))
      out[k] = b;
    else if (b_open && covers_properties(sa, sb))
      out[k] = a;
    else
      cannot_merge(k);
  } else if (k == "items" && a.is_object() && b.is_object()) {
    out[k] = json{{"allOf", json::array({a, b})}};
  } else if (k == "enum") {
    json both = json::array();
    for (const json& v : a) {
      if (std::find(b.begin(), b.end(), v) != b.end()) both.push_back(v);
    }
    out[k] = both;
  } else {
    cannot_merge(k);
  }
}

}  // namespace

bool is_annotation(const std::string& k) {
  static const std::set<std::string> kAnnotations{"title",
                                                  "description",
                                                  "default",
                                                  "examples",
                                                  "example",
                                                  "$comment",
                                                  "$schema",
                                                  "$id",
                                                  "id",
                                                  "deprecated",
                                                  "readOnly",
                                                  "writeOnly",
                                                  "contentMediaType",
                                                  "contentEncoding",
                                                  "definitions",
                                                  "$defs",
                                                  "$anchor",
                                                  "$vocabulary",
                                                  "markdownDescription",
                                                  "x-intellij-html-description"};
  return kAnnotations.count(k) > 0;
}

const json& resolve_ref(const json& root, const std::string& ref) {
  std::string r = ref;
  if (root.is_object() && root.contains("$id") && root["$id"].is_string()) {
    std::string id = root["$id"];
    if (!id.empty() && id.back() == '#') id.pop_back();
    if (r.compare(0, id.size(), id) == 0 && !id.empty()) r = r.substr(id.size());
  }
  if (r.empty() || r == "#") return root;
  if (r.size() < 2 || r[0] != '#' || r[1] != '/') {
    fail("$ref \"", ref, "\": only references into this schema (#/...) are supported");
  }
  const json* at = &root;
  size_t pos = 2;
  while (pos <= r.size()) {
    size_t slash = r.find('/', pos);
    std::string token = unescape_pointer_token(r.substr(pos, slash - pos));
    if (at->is_object() && at->contains(token)) {
      at = &(*at)[token];
    } else if (at->is_array() && !token.empty() &&
               token.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(token) < at->size()) {
      at = &(*at)[std::stoul(token)];
    } else {
      fail("$ref \"", ref, "\": leads nowhere in the schema");
    }
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return *at;
}

json merge_schemas(const json& root, const json& a0, const json& b0) {
  const json& a = deref(root, a0);
  const json& b = deref(root, b0);
  if (a == json(true) || (a.is_object() && a.empty())) return b;
  if (b == json(true) || (b.is_object() && b.empty())) return a;
  if (a == json(false) || b == json(false)) return json(false);
  if (!a.is_object() || !b.is_object()) fail("allOf: a part is not a schema");
  if (a.contains("$ref") || b.contains("$ref")) {
    json x = a, y = b;
    for (json* s : {&x, &y}) {
      if (!s->contains("$ref")) continue;
      json target = resolve_ref(root, (*s)["$ref"]);
      s->erase("$ref");
      *s = merge_schemas(root, *s, target);
    }
    return merge_schemas(root, x, y);
  }
  json out = json::object();
  for (auto& [k, v] : a.items()) {
    if (is_annotation(k)) continue;
    if (!b.contains(k))
      out[k] = v;
    else
      merge_keyword(out, k, v, b[k], a, b);
  }
  for (auto& [k, v] : b.items()) {
    if (is_annotation(k) || a.contains(k)) continue;
    out[k] = v;
  }
  // additionalProperties of one part also restricts the other part's properties.
  if (a.contains("additionalProperties") != b.contains("additionalProperties")) {
    const json& restricted = a.contains("additionalProperties") ? a : b;
    const json& other = a.contains("additionalProperties") ? b : a;
    if (restricted["additionalProperties"] != json(true) && !covers_properties(restricted, other))
      cannot_merge("additionalProperties");
  }
  return out;
}

bool provably_disjoint(const json& root, const json& a0, const json& b0, int depth) {
  if (depth > 8) return false;
  const json& a = deref(root, a0);
  const json& b = deref(root, b0);
  std::set<std::string> ta = possible_types(root, a), tb = possible_types(root, b), both;
  std::set_intersection(ta.begin(), ta.end(), tb.begin(), tb.end(),
                        std::inserter(both, both.begin()));
  if (both.empty()) return true;
  if (a.contains("enum") || a.contains("const") || b.contains("enum") || b.contains("const")) {
    auto values = [](const json& s) {
      return s.contains("const") ? json::array({s["const"]}) : s.value("enum", json());
    };
    json va = values(a), vb = values(b);
    if (va.is_array() && vb.is_array()) {
      for (const json& v : va) {
        if (std::find(vb.begin(), vb.end(), v) != vb.end()) return false;
      }
      return true;
    }
  }
  if (both != std::set<std::string>{"object"}) return false;
  return objects_disjoint(root, a, b, depth) || objects_disjoint(root, b, a, depth);
}

}  // namespace lorax::structured
