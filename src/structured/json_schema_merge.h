// Schema algebra the compiler needs before building automata: $ref resolution, allOf by
// merging, and the disjointness proofs that let oneOf be compiled as anyOf.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace lorax::structured {

// Resolves "#", "#/json/pointer" and the same prefixed by the root's $id; throws lorax::Error
// naming $ref for anything else (other documents, anchors) or a pointer that leads nowhere.
const nlohmann::json& resolve_ref(const nlohmann::json& root, const std::string& ref);

// One schema accepting exactly what both accept, or lorax::Error naming "allOf" and the keyword
// that cannot be combined. Top-level $refs are resolved first.
nlohmann::json merge_schemas(const nlohmann::json& root, const nlohmann::json& a,
                             const nlohmann::json& b);

// Whether no instance can satisfy both (a sufficient check: false means "not proven").
bool provably_disjoint(const nlohmann::json& root, const nlohmann::json& a, const nlohmann::json& b,
                       int depth = 0);
bool objects_disjoint(const nlohmann::json& root, const nlohmann::json& a, const nlohmann::json& b,
                      int depth);

// Keywords that only annotate (or that no validator reads): they change nothing.
bool is_annotation(const std::string& keyword);

}  // namespace lorax::structured
