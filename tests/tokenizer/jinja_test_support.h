// What the table-driven Jinja tests share: one case (template, context, expected output), the
// common context most cases render against, and rendering a case.
// Expected outputs are what Jinja 3.1 renders for the same template and context in
// transformers' chat-template environment (sandboxed, trim_blocks, lstrip_blocks, loopcontrols).
#pragma once

#include <ostream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace lorax::jinja::template_testing {

struct Case {
  const char* name;
  const char* source;
  const char* context;  // JSON; empty for kContext
  const char* expected;
};

// gtest prints a failing parameter with this instead of its bytes.
inline void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

inline constexpr const char* kContext =
    R"~({"msgs": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "d": {"b": 2, "a": 1, "c": [1, 2]}, "s": "héllo wörld", "xs": [3, 1, 2], "n": null, "t": true, "f": 1.5, "words": ["b", "A", "a", "C"], "people": [{"name": "ann", "age": 30, "tag": null}, {"name": "Bob", "age": 25}, {"name": "cy", "age": 30, "tag": "x"}]})~";

// The case's template rendered against its own context, or kContext when it has none.
inline std::string render(const Case& c) {
  const std::string context = *c.context ? c.context : kContext;
  return Template(c.source).render(nlohmann::ordered_json::parse(context));
}

// Names each instantiated case after Case::name.
inline std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(info.param.name);
}

}  // namespace lorax::jinja::template_testing
