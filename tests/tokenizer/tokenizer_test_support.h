// What the component tests share: a component (a tokenizer.json made of a small test vocabulary
// plus the component under test) with its expected encodings and decodings, building its
// tokenizer on a base file, and decoding ids through the streaming detokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace lorax::tokenizer_testing {

struct Case {
  const char* text;
  std::vector<int32_t> ids;           // encode(text, add_special_tokens=false)
  std::vector<int32_t> with_special;  // encode(text, add_special_tokens=true)
  const char* decoded;                // decode(ids, skip_special_tokens=false)
  const char* decoded_skip;           // decode(ids, skip_special_tokens=true)
};

struct DecodeCase {
  std::vector<int32_t> ids;
  bool skip_special;
  const char* text;
};

struct Component {
  const char* name;
  const char* overrides;  // tokenizer.json fields replacing the base's ("model" is merged)
  std::vector<Case> cases;
  std::vector<DecodeCase> decodes;
};

// The base file with a component's fields: "model" fields are merged into the model,
// "merges_as_pairs" rewrites the merges as ["a", "b"] pairs, other fields replace the base's.
inline Tokenizer build(nlohmann::json file, const Component& c) {
  using nlohmann::json;
  const json overrides = json::parse(c.overrides);
  for (const auto& [key, value] : overrides.items()) {
    if (key == "model") {
      file["model"].update(value);
    } else if (key == "merges_as_pairs") {
      json pairs = json::array();
      for (const json& m : file["model"]["merges"]) {
        const std::string s = m.get<std::string>();
        pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
      }
      file["model"]["merges"] = pairs;
    } else {
      file[key] = value;
    }
  }
  return Tokenizer::from_json_string(file.dump(), c.name);
}

inline std::string streamed(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip) {
  StreamingDetokenizer stream(tok, skip);
  std::string text;
  for (int32_t id : ids) text += stream.push(id);
  return text + stream.flush();
}

// Names each instantiated component after Component::name.
inline std::string component_name(const ::testing::TestParamInfo<Component>& info) {
  return std::string(info.param.name);
}

}  // namespace lorax::tokenizer_testing
