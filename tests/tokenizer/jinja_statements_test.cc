// Statements: if, for and the loop variable, set, namespace, macros, call, filter, with,
// generation, raw. Expected outputs are what Jinja 3.1 renders for the same template and context in
// transformers' chat-template environment (sandboxed, trim_blocks, lstrip_blocks, loopcontrols).
#include <gtest/gtest.h>

#include "tokenizer/jinja_test_support.h"

namespace lorax::jinja {
namespace {

using template_testing::Case;

const Case kCases[] = {
    {"if_elif_else",
     R"~({% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %};{% endfor %})~",
     R"~({})~", R"~(one;two;many;)~"},
    {"if_undefined_falsy",
     R"~({% if missing %}yes{% else %}no{% endif %}{% if d.missing is defined %}bad{% endif %})~",
     R"~()~", R"~(no)~"},
    {"loop_variables",
     R"~({% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %})~",
     R"~()~", R"~(1032TrueFalse3|2121FalseFalse3|3210FalseTrue3|)~"},
    {"loop_prev_next_cycle",
     R"~({% for x in xs %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }} {{ loop.cycle('odd', 'even') }};{% endfor %})~",
     R"~()~", R"~(<3>1 odd;3<1>2 even;1<2> odd;)~"},
    {"loop_else",
     R"~({% for x in [] %}x{% else %}empty{% endfor %}{% for x in xs %}{{ x }}{% else %}never{% endfor %})~",
     R"~()~", R"~(empty312)~"},
    {"loop_over_dict_items", R"~({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})~",
     R"~()~", R"~(b=2;a=1;c=[1, 2];)~"},
    {"loop_over_dict_keys", R"~({% for k in d %}{{ k }}{% endfor %})~", R"~()~", R"~(bac)~"},
    {"loop_over_string", R"~({% for c in 'héy' %}[{{ c }}]{% endfor %})~", R"~()~",
     R"~([h][é][y])~"},
    {"loop_unpack_tuple_target",
     R"~({% for (a, b) in [(1, 'x'), (2, 'y')] %}{{ a }}{{ b }}{% endfor %})~", R"~()~",
     R"~(1x2y)~"},
    {"loop_filter",
     R"~({% for m in msgs if m.role != 'system' %}{{ loop.index }}/{{ loop.length }}:{{ m.content }}{% if not loop.last %}, {% endif %}{% endfor %})~",
     R"~()~", R"~(1/2:hi, 2/2:yo)~"},
    {"loop_nested_loop_shadowing",
     R"~({% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }};{% endfor %})~",
     R"~()~", R"~(1x2y1;1x2y2;)~"},
    {"loop_scope_does_not_leak",
     R"~({% set x = 'outer' %}{% for i in [1, 2] %}[{{ x }}]{% set x = i %}{% endfor %}{{ x }})~",
     R"~()~", R"~([outer][outer]outer)~"},
    {"loop_break_continue",
     R"~({% for i in range(10) %}{% if i is odd %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{% endfor %})~",
     R"~()~", R"~(0246)~"},
    {"loop_over_undefined_is_empty", R"~({% for x in nothing %}x{% else %}none{% endfor %})~",
     R"~()~", R"~(none)~"},
    {"set_simple_and_tuple", R"~({% set a = 1 %}{% set b, c = 2, 'three' %}{{ a }}{{ b }}{{ c }})~",
     R"~()~", R"~(12three)~"},
    {"set_block", R"~({% set greeting %}Hello {{ 'world' }}!{% endset %}[{{ greeting }}])~",
     R"~()~", R"~([Hello world!])~"},
    {"set_block_with_filter",
     R"~({% set shout | upper | trim %}  quiet {% endset %}[{{ shout }}])~", R"~()~",
     R"~([QUIET])~"},
    {"namespace",
     R"~({% set ns = namespace(count=0, last=none) %}{% for x in xs %}{% set ns.count = ns.count + x %}{% set ns.last = x %}{% endfor %}{{ ns.count }} {{ ns.last }})~",
     R"~()~", R"~(6 2)~"},
    {"namespace_from_dict",
     R"~({% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c is defined }})~",
     R"~()~", R"~(12False)~"},
    {"namespace_found_flag",
     R"~({% set ns = namespace(found=false) %}{% for m in msgs %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }})~",
     R"~()~", R"~(True)~"},
    {"macro_defaults_and_keywords",
     R"~({% macro tag(name, value='v', sep=': ') %}{{ name }}{{ sep }}{{ value }}{% endmacro %}{{ tag('a') }}|{{ tag('b', 2) }}|{{ tag(value=3, name='c') }}|{{ tag('d', sep='=') }})~",
     R"~()~", R"~(a: v|b: 2|c: 3|d=v)~"},
    {"macro_default_uses_earlier_param",
     R"~({% macro m(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ m(4) }})~", R"~()~", R"~(4,8)~"},
    {"macro_varargs_kwargs",
     R"~({% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3) }})~", R"~()~",
     R"~(1(2, 3){})~"},
    {"macro_recursion",
     R"~({% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }})~",
     R"~()~", R"~(120)~"},
    {"macro_sees_later_globals",
     R"~({% macro show() %}{{ y }}{% endmacro %}{% set y = 1 %}{{ show() }}{% set y = 2 %}{{ show() }})~",
     R"~()~", R"~(12)~"},
    {"macro_render_json_tool",
     R"~({%- macro render(p) -%}{{ p.name }}({{ p.age }}){%- endmacro -%}{% for p in people %}{{ render(p) }} {% endfor %})~",
     R"~()~", R"~(ann(30) Bob(25) cy(30) )~"},
    {"call_block",
     R"~({% macro wrap(cls) %}<div class="{{ cls }}">{{ caller() }}</div>{% endmacro %}{% call wrap('x') %}inner {{ 1 + 1 }}{% endcall %})~",
     R"~()~", R"~(<div class="x">inner 2</div>)~"},
    {"call_block_with_args",
     R"~({% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}<{{ x }}>{% endcall %})~",
     R"~()~", R"~(<1><2>)~"},
    {"filter_block", R"~({% filter upper %}abc {{ 'def' }}{% endfilter %})~", R"~()~",
     R"~(ABC DEF)~"},
    {"with_block",
     R"~({% set a = 'outer' %}{% with a = 'inner', b = a %}{{ a }} {{ b }}{% endwith %} {{ a }})~",
     R"~()~", R"~(inner outer outer)~"},
    {"generation_block",
     R"~({% set x = 1 %}{% for m in msgs %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% set x = 2 %}{% endgeneration %}{% endif %}{% endfor %}{{ x }})~",
     R"~()~", R"~(yo1)~"},
    {"raw_block", R"~({% raw %}{{ not parsed }} {% if %}{% endraw %})~", R"~()~",
     R"~({{ not parsed }} {% if %})~"},
    {"comments", R"~(a{# comment {{ x }} #}b{#- trimmed -#} c)~", R"~()~", R"~(abc)~"},
};

class JinjaStatements : public testing::TestWithParam<Case> {};

TEST_P(JinjaStatements, RendersLikeJinja) {
  const Case& c = GetParam();
  EXPECT_EQ(template_testing::render(c), c.expected) << "template: " << c.source;
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaStatements, testing::ValuesIn(kCases),
                         template_testing::case_name);

}  // namespace
}  // namespace lorax::jinja
