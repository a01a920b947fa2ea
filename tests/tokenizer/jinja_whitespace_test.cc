// Whitespace control: trim_blocks, lstrip_blocks, {%- -%}, {%+ +%}, comments, raw, newlines.
// Expected outputs are what Jinja 3.1 renders for the same template and context in
// transformers' chat-template environment (sandboxed, trim_blocks, lstrip_blocks, loopcontrols).
#include <gtest/gtest.h>

#include "tokenizer/jinja_test_support.h"

namespace lorax::jinja {
namespace {

using template_testing::Case;

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
  EXPECT_EQ(template_testing::render(c), c.expected) << "template: " << c.source;
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaWhitespace, testing::ValuesIn(kCases),
                         template_testing::case_name);

}  // namespace
}  // namespace lorax::jinja
