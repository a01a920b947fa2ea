// Expressions: literals, Python printing of values, operators, slicing, attributes, tests, globals.
// Expected outputs are what Jinja 3.1 renders for the same template and context in
// transformers' chat-template environment (sandboxed, trim_blocks, lstrip_blocks, loopcontrols).
#include <gtest/gtest.h>

#include "tokenizer/jinja_test_support.h"

namespace lorax::jinja {
namespace {

using template_testing::Case;

const Case kCases[] = {
    {"literals",
     R"~({{ 'single' }}{{ "double" }}{{ 42 }}{{ -7 }}{{ 3.25 }}{{ 1e3 }}{{ 1_000 }}{{ 0x1f }}{{ true }}{{ True }}{{ false }}{{ none }}{{ None }})~",
     R"~()~", R"~(singledouble42-73.251000.0100031TrueTrueFalseNoneNone)~"},
    {"string_escapes", R"~({{ 'tab\there\nnew \'q\' "dq" \\ \x41\u00e9\U0001F600' }})~", R"~()~",
     R"~(tab	here
new 'q' "dq" \ Aé😀)~"},
    {"adjacent_strings_concatenate", R"~({{ 'a' 'b' "c" }})~", R"~()~", R"~(abc)~"},
    {"collections_repr",
     R"~({{ [1, 'a', none, true, 1.0] }} {{ {'k': 'v', 'n': [1, {'x': none}]} }} {{ (1, 'b') }} {{ (1,) }} {{ () }} {{ [] }} {{ {} }})~",
     R"~()~",
     R"~([1, 'a', None, True, 1.0] {'k': 'v', 'n': [1, {'x': None}]} (1, 'b') (1,) () [] {})~"},
    {"string_repr_quotes",
     R"~({{ ["it's", 'say "hi"', 'both \' and "', 'back\\slash', 'nl\n'] }})~", R"~()~",
     R"~(["it's", 'say "hi"', 'both \' and "', 'back\\slash', 'nl\n'])~"},
    {"float_printing",
     R"~({{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1.5e-7 }} {{ 2.0 }} {{ -0.0 }} {{ 123456789.123 }} {{ 1e100 }} {{ 10 / 4 }})~",
     R"~()~",
     R"~(0.30000000000000004 1e+16 1000000000000000.0 0.0001 1e-05 1.5e-07 2.0 -0.0 123456789.123 1e+100 2.5)~"},
    {"arithmetic",
     R"~({{ 7 + 3 }} {{ 7 - 10 }} {{ 6 * 7 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 2.5 }} {{ true + 1 }})~",
     R"~()~", R"~(10 -3 42 3.5 3 -4 1 2 -2 1024 0.5 3.0 0.5 3.5 2)~"},
    {"precedence",
     R"~({{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 3 - 2 }} {{ 2 * 3 ~ 4 }} {{ 'a' ~ 1 * 2 }} {{ not 1 == 2 }} {{ 1 + 1 == 2 and 3 > 2 }})~",
     R"~()~", R"~(7 9 64 4 5 64 a2 True True)~"},
    {"string_and_list_operators",
     R"~({{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [1] + [2, 3] }} {{ [0] * 3 }} {{ 'a' ~ 1 ~ none ~ true ~ missing }})~",
     R"~()~", R"~(abcd ababab xxx [1, 2, 3] [0, 0, 0] a1NoneTrue)~"},
    {"percent_format_mapping_like_args",
     R"~([{{ 'plain' % [1, 2] }}][{{ '%s' % [1, 2] }}][{{ 'x' % missing }}])~", R"~()~",
     R"~([plain][[1, 2]][x])~"},
    {"percent_format",
     R"~({{ '%s-%d-%.2f-%r-%5s|%-4d|%%' % ('a', 3, 3.14159, 'q', 'ab', 7) }} {{ 'one %s' % 'arg' }} {{ '%(x)s!' % {'x': 1} }})~",
     R"~()~", R"~(a-3-3.14-'q'-   ab|7   |% one arg 1!)~"},
    {"comparisons",
     R"~({{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 1 != '1' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ none == none }} {{ missing == missing }})~",
     R"~()~", R"~(True True False True True True True True False True True)~"},
    {"membership",
     R"~({{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'a' in d }} {{ 'z' not in d }} {{ 'x' in missing }} {{ (1, 2) in [(1, 2)] }})~",
     R"~()~", R"~(True True True True False True)~"},
    {"logic_returns_operands",
     R"~({{ 0 or 'fallback' }} {{ 'x' and 'y' }} {{ '' and 'never' }} {{ none or [] }} {{ not [] }} {{ not 'a' }})~",
     R"~()~", R"~(fallback y  [] True False)~"},
    {"inline_if",
     R"~({{ 'yes' if t else 'no' }} {{ 'yes' if n else 'no' }} [{{ 'only' if false }}] {{ 'a' if false else 'b' if true else 'c' }})~",
     R"~()~", R"~(yes no [] b)~"},
    {"attribute_and_subscript",
     R"~({{ msgs[1].content }} {{ msgs[1]['role'] }} {{ d.c[0] }} {{ d['c'][-1] }} {{ msgs.0.role }} {{ d.missing }}|{{ n.x }}|{{ xs[10] }}|)~",
     R"~()~", R"~(hi user 1 2 system |||)~"},
    {"dict_methods_win_over_keys_by_dot",
     R"~({{ {'items': 1}['items'] }} {{ {'items': 1}.items() | list }})~", R"~()~",
     R"~(1 [('items', 1)])~"},
    {"slicing_lists",
     R"~({{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-2:] }} {{ xs[5:] }} {{ xs[1:2] }} {{ msgs[1:] | length }} {{ (1, 2, 3)[1:] }})~",
     R"~()~", R"~([1, 2] [3, 1] [2, 1, 3] [3, 2] [1, 2] [] [1] 2 (2, 3))~"},
    {"slicing_strings",
     R"~({{ s[1:4] }} {{ s[::-1] }} {{ s[-5:] }} {{ s[:0] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[-1] }} {{ s[1] }})~",
     R"~()~", R"~(éll dlröw olléh wörld  ace f é)~"},
    {"tests",
     R"~({{ x is defined }} {{ missing is undefined }} {{ n is none }} {{ 'a' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ d is mapping }} {{ xs is mapping }} {{ xs is iterable }} {{ 'x' is iterable }} {{ 1 is iterable }} {{ xs is sequence }} {{ true is boolean }} {{ true is true }} {{ false is false }} {{ 0 is false }})~",
     R"~({"x": 1, "msgs": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "d": {"b": 2, "a": 1, "c": [1, 2]}, "s": "héllo wörld", "xs": [3, 1, 2], "n": null, "t": true, "f": 1.5, "words": ["b", "A", "a", "C"], "people": [{"name": "ann", "age": 30, "tag": null}, {"name": "Bob", "age": 25}, {"name": "cy", "age": 30, "tag": "x"}]})~",
     R"~(True True True True True True True True False True True False True True False True True True True False)~"},
    {"tests_with_args",
     R"~({{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 'a' is equalto 'a' }} {{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 2 is gt 1 }} {{ 2 is ge 2 }} {{ 1 is le 0 }} {{ 'b' is in 'abc' }} {{ 2 is in [1, 2] }})~",
     R"~()~", R"~(True True True False True True True True True True False True True)~"},
    {"tests_negated_and_callable",
     R"~({{ n is not none }} {{ x is not defined }} {{ range is callable }} {{ 'x' is callable }} {{ 'ABC' is upper }} {{ 'abc' is lower }} {{ 'trim' is filter }} {{ 'odd' is test }} {{ n is sameas none }})~",
     R"~()~", R"~(False True True False True True True True True)~"},
    {"content_string_or_iterable",
     R"~({% for c in ['text', {'type': 'image'}, [1]] %}{{ c is string }}/{{ c is mapping }}/{{ c is iterable }};{% endfor %})~",
     R"~()~", R"~(True/False/True;False/True/True;False/False/True;)~"},
    {"calls_and_globals",
     R"~({{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }} {{ dict(a=1, b='x') }} {{ dict([('k', 1)]) }})~",
     R"~()~", R"~([0, 1, 2] [1, 4, 7] [5, 3, 1] {'a': 1, 'b': 'x'} {'k': 1})~"},
    {"joiner_global",
     R"~({% set comma = joiner(', ') %}{% for x in xs %}{{ comma() }}{{ x }}{% endfor %})~",
     R"~()~", R"~(3, 1, 2)~"},
    {"undefined_renders_empty",
     R"~([{{ missing }}][{{ d.nope }}][{{ missing | default('dflt') }}][{{ missing | length }}][{{ missing | trim }}])~",
     R"~()~", R"~([][][dflt][0][])~"},
    {"none_and_bool_print_python", R"~({{ n }} {{ t }} {{ not t }} {{ [n, t] }})~", R"~()~",
     R"~(None True False [None, True])~"},
    {"nested_data_from_context",
     R"~({{ people[0] }} {{ people | map(attribute='name') | join(',') }})~", R"~()~",
     R"~({'name': 'ann', 'age': 30, 'tag': None} ann,Bob,cy)~"},
    {"unicode_length_and_case",
     R"~({{ s | length }} {{ s | upper }} {{ 'ÉCOLE' | lower }} {{ 'straße' | length }})~", R"~()~",
     R"~(11 HÉLLO WÖRLD école 6)~"},
};

class JinjaExpressions : public testing::TestWithParam<Case> {};

TEST_P(JinjaExpressions, RendersLikeJinja) {
  const Case& c = GetParam();
  EXPECT_EQ(template_testing::render(c), c.expected) << "template: " << c.source;
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaExpressions, testing::ValuesIn(kCases),
                         template_testing::case_name);

}  // namespace
}  // namespace lorax::jinja
