// Helpers for the constraint tests: a byte-level vocabulary (every byte plus some multi-byte
// tokens) and whole-string acceptance.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "structured/constraint.h"

namespace lorax::structured::test {

inline std::shared_ptr<const TokenTrie> byte_vocab() {
  static const auto trie = [] {
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
    for (const char* t : {"{\"", "\":", "\",\"", "true", "false", "null", "abc", "12", "\"}", "}",
                          "],", "\xC3\xA9"}) {
      tokens.emplace_back(t);
    }
    tokens.emplace_back();  // a special token: no bytes
    return TokenTrie::from_token_bytes(std::move(tokens));
  }();
  return trie;
}

inline bool accepts(const std::shared_ptr<Constraint>& c, std::string_view text) {
  int32_t s = c->advance(c->initial_state(), text);
  return s != Constraint::kDead && c->accepting(s);
}

// Whether `text` can still be completed (it is a prefix of an accepted string).
inline bool viable(const std::shared_ptr<Constraint>& c, std::string_view text) {
  return c->advance(c->initial_state(), text) != Constraint::kDead;
}

inline std::shared_ptr<Constraint> schema(std::string_view json_text,
                                          ConstraintOptions options = {}) {
  return Constraint::from_json_schema(nlohmann::json::parse(json_text), byte_vocab(), options);
}

inline std::shared_ptr<Constraint> regex(std::string_view pattern) {
  return Constraint::from_regex(pattern, byte_vocab());
}

}  // namespace lorax::structured::test
