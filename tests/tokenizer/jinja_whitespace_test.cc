// Whitespace control: trim_blocks, lstrip_blocks, {%- -%}, {%+ +%}, comments, raw, newlines.
// Expected outputs are what Jinja 3.1 renders for the same template and context in
// transformers' chat-template environment (sandboxed, trim_blocks, lstrip_blocks, loopcontrols).
#include <ostream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace lorax::jinja {
namespace {

struct Case {
  const char* name;
  const char* source;
  const char* context;  // JSON; empty for kContext
  const char* expected;
};

// gtest prints a failing parameter with this instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

constexpr const char* kContext =
    R"~({"msgs": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "d": {"b": 2, "a": 1, "c": [1, 2]}, "s": "héllo wörld", "xs": [3, 1, 2], "n": null, "t": true, "f": 1.5, "words": ["b", "A", "a", "C"], "people": [{"name": "ann", "age": 30, "tag": null}, {"name": "Bob", "age": 25}, {"name": "cy", "age": 30, "tag": "x"}]})~";

const Case kCases[] = {
    {"trim_blocks_drops_newline",
     R"~({% if true %}
yes
{% endif %}
end)~",
     R"~()~",
     R"~(yes
end)~"},
    {"lstrip_blocks_drops_indent",
     R"~(<ul>
    {% for x in xs %}
    <li>{{ x }}</li>
    {% endfor %}
</ul>)~",
     R"~()~",
     R"~(<ul>
    <li>3</li>
    <li>1</li>
    <li>2</li>
</ul>)~"},
    {"minus_strips_both_sides",
     R"~(a  
  {%- if true -%}  
  b  
  {%- endif -%}  
  c)~",
     R"~()~", R"~(abc)~"},
    {"variable_minus",
     R"~(a 
 {{- 'b' -}} 
 c)~",
     R"~()~", R"~(abc)~"},
    {"variables_are_not_lstripped",
     R"~(x
    {{ 'y' }}
)~",
     R"~()~",
     R"~(x
    y)~"},
    {"plus_disables_lstrip_and_trim",
     R"~(a
  {%+ if true +%}
b
  {%+ endif %}
c)~",
     R"~()~",
     R"~(a
  
b
  c)~"},
    {"comment_lines_vanish",
     R"~(a
  {# note #}
b)~",
     R"~()~",
     R"~(a
b)~"},
    {"one_trailing_newline_dropped",
     R"~(line

)~",
     R"~()~",
     R"~(line
)~"},
    {"crlf_normalized",
     "a\x0d"
     "\n{% if true %}\x0d"
     "\nb\x0d"
     "\n{% endif %}\x0d"
     "\n",
     R"~()~",
     R"~(a
b
)~"},
    {"minus_strips_unicode_spaces", R"~(a {%- if true -%}   b  {%- endif %})~", R"~()~", R"~(ab)~"},
    {"raw_keeps_whitespace",
     R"~(  {% raw %}
  {{ x }}
  {% endraw %}
z)~",
     R"~()~",
     R"~(
  {{ x }}
z)~"},
    {"chat_style_template",
     R"~({%- for m in msgs %}
    {%- if m.role == 'system' %}
        {{- '<<SYS>>' + m.content + '<</SYS>>\n' }}
    {%- else %}
        {{- m.role + ': ' + m.content + '\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- 'assistant:' }}
{%- endif %}
)~",
     R"~({"add_generation_prompt": true})~", R"~(assistant:)~"},
};

class JinjaWhitespace : public testing::TestWithParam<Case> {};

TEST_P(JinjaWhitespace, RendersLikeJinja) {
  const Case& c = GetParam();
  const std::string context = *c.context ? c.context : kContext;
  EXPECT_EQ(Template(c.source).render(nlohmann::ordered_json::parse(context)), c.expected)
      << "template: " << c.source;
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaWhitespace, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace lorax::jinja
