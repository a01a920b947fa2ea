// Filters, including HF's tojson.
// Expected outputs are what Jinja 3.1 renders for the same template and context in
// transformers' chat-template environment (sandboxed, trim_blocks, lstrip_blocks, loopcontrols).
#include <gtest/gtest.h>

#include "tokenizer/jinja_test_support.h"

namespace lorax::jinja {
namespace {

using template_testing::Case;

const Case
    kCases[] =
        {
            {"trim",
             R"~([{{ '  a b \n' | trim }}][{{ 'xxaxx' | trim('x') }}][{{ ' nbsp ' | trim }}])~",
             R"~()~", R"~([a b][a][nbsp])~"},
            {"case",
             R"~({{ 'hello world' | upper }} {{ 'HeLLo' | lower }} {{ "don't stop-me (now)" | title }} {{ 'hELLO wORLD' | capitalize }})~",
             R"~()~", R"~(HELLO WORLD hello Don't Stop-Me (Now) Hello world)~"},
            {"length_count",
             R"~({{ xs | length }} {{ d | count }} {{ 'héllo' | length }} {{ [] | length }})~",
             R"~()~", R"~(3 3 5 0)~"},
            {"default",
             R"~({{ missing | default('d') }} {{ missing | d('dd') }} {{ '' | default('e') }} {{ '' | default('e', true) }} {{ none | default('n') }} {{ none | default('n', boolean=true) }} {{ 0 | default(5, true) }})~",
             R"~()~", R"~(d dd  e None n 5)~"},
            {"join",
             R"~({{ xs | join }} {{ xs | join(', ') }} {{ people | join(' ', attribute='name') }} {{ [1, none, 'a'] | join('-') }})~",
             R"~()~", R"~(312 3, 1, 2 ann Bob cy 1-None-a)~"},
            {"first_last",
             R"~({{ xs | first }} {{ xs | last }} {{ 'abc' | first }} {{ 'abc' | last }} {{ d | first }} [{{ [] | first }}])~",
             R"~()~", R"~(3 2 a c b [])~"},
            {"list_string",
             R"~({{ 'abc' | list }} {{ d | list }} {{ 12 | string }} {{ 1.50 | string }} {{ none | string }} {{ [1] | string }})~",
             R"~()~", R"~(['a', 'b', 'c'] ['b', 'a', 'c'] 12 1.5 None [1])~"},
            {"int_float",
             R"~({{ '42' | int }} {{ '42.9' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.99 | int }} {{ true | int }} {{ ' 12 ' | int }} {{ '0x1A' | int(base=16) }} {{ '2.5' | float }} {{ 'y' | float }} {{ 3 | float }} {{ '1e3' | float }})~",
             R"~()~", R"~(42 42 0 7 3 1 12 26 2.5 0.0 3.0 1000.0)~"},
            {"abs_round",
             R"~({{ -3 | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 3 | round }} {{ 2.1 | round(method='ceil') }} {{ 2.9 | round(0, 'floor') }} {{ -2.5 | round }} {{ 1234 | round(-2) }})~",
             R"~()~", R"~(3 2.5 2.0 4.0 2.67 3 3.0 2.0 -2.0 1200)~"},
            {"replace",
             R"~({{ 'a-b-c' | replace('-', '+') }} {{ 'a-b-c' | replace('-', '', 1) }} {{ 'aaa' | replace('a', 'bb') }})~",
             R"~()~", R"~(a+b+c ab-c bbbbbb)~"},
            {"items_dictsort",
             R"~({{ d | items | list }} {{ d | dictsort }} {{ {'b': 1, 'A': 2, 'a': 3} | dictsort }} {{ {'b': 1, 'A': 2, 'a': 3} | dictsort(true) }} {{ {'x': 2, 'y': 1} | dictsort(by='value') }} {{ d | dictsort(reverse=true) | first }})~",
             R"~()~",
             R"~([('b', 2), ('a', 1), ('c', [1, 2])] [('a', 1), ('b', 2), ('c', [1, 2])] [('A', 2), ('a', 3), ('b', 1)] [('A', 2), ('a', 3), ('b', 1)] [('y', 1), ('x', 2)] ('c', [1, 2]))~"},
            {"items_on_undefined",
             R"~({% for k, v in missing | items %}x{% else %}none{% endfor %})~", R"~()~",
             R"~(none)~"},
            {"selectattr_rejectattr",
             R"~({{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ msgs | rejectattr('role', 'eq', 'system') | list | length }} {{ people | selectattr('tag') | map(attribute='name') | list }} {{ people | selectattr('tag', 'defined') | list | length }} {{ people | rejectattr('tag', 'none') | map(attribute='name') | list }})~",
             R"~()~", R"~(['hi'] 2 ['cy'] 2 ['Bob', 'cy'])~"},
            {"select_reject",
             R"~({{ [1, 2, 3, 4, 5] | select('odd') | list }} {{ [1, 2, 3, 4, 5] | reject('odd') | list }} {{ [0, 1, '', 'a', none] | select | list }} {{ [1, 5, 10] | select('gt', 4) | list }} {{ ['a', 'b'] | reject('in', ['a']) | list }})~",
             R"~()~", R"~([1, 3, 5] [2, 4] [1, 'a'] [5, 10] ['b'])~"},
            {"map",
             R"~({{ people | map(attribute='age') | list }} {{ people | map(attribute='tag', default='-') | list }} {{ xs | map('string') | join('|') }} {{ ['a', 'b'] | map('upper') | list }} {{ [' a', 'b '] | map('trim') | list }} {{ ['1', '2'] | map('int') | sum }})~",
             R"~()~", R"~([30, 25, 30] [None, '-', 'x'] 3|1|2 ['A', 'B'] ['a', 'b'] 3)~"},
            {"unique_reverse",
             R"~({{ [1, 2, 1, 3, 2] | unique | list }} {{ ['a', 'A', 'b'] | unique | list }} {{ ['a', 'A', 'b'] | unique(case_sensitive=true) | list }} {{ people | unique(attribute='age') | map(attribute='name') | list }} {{ xs | reverse | list }} {{ 'abc' | reverse }})~",
             R"~()~", R"~([1, 2, 3] ['a', 'b'] ['a', 'A', 'b'] ['ann', 'Bob'] [2, 1, 3] cba)~"},
            {"sort",
             R"~({{ xs | sort }} {{ xs | sort(reverse=true) }} {{ words | sort }} {{ words | sort(case_sensitive=true) }} {{ people | sort(attribute='name') | map(attribute='name') | list }} {{ people | sort(attribute='age,name') | map(attribute='name') | list }})~",
             R"~()~",
             R"~([1, 2, 3] [3, 2, 1] ['A', 'a', 'b', 'C'] ['A', 'C', 'a', 'b'] ['ann', 'Bob', 'cy'] ['Bob', 'ann', 'cy'])~"},
            {"sum_min_max",
             R"~({{ xs | sum }} {{ xs | sum(start=10) }} {{ people | sum(attribute='age') }} {{ xs | min }} {{ xs | max }} {{ words | min }} {{ words | max }} {{ people | max(attribute='age') }} [{{ [] | max }}])~",
             R"~()~", R"~(6 16 85 1 3 A C {'name': 'ann', 'age': 30, 'tag': None} [])~"},
            {"tojson",
             R"~({{ d | tojson }} {{ 'é "q" \n \u0001' | tojson }} {{ [1, 2.0, none, true, 'x'] | tojson }} {{ (1, 2) | tojson }} {{ {} | tojson }} {{ 1e20 | tojson }})~",
             R"~()~",
             R"~({"b": 2, "a": 1, "c": [1, 2]} "é \"q\" \n \u0001" [1, 2.0, null, true, "x"] [1, 2] {} 1e+20)~"},
            {"tojson_indent",
             R"~({{ d | tojson(indent=2) }}
{{ {'a': [], 'b': {}, 'c': [[]]} | tojson(indent=4) }}
{{ [1] | tojson(indent=0) }})~",
             R"~()~",
             R"~({
  "b": 2,
  "a": 1,
  "c": [
    1,
    2
  ]
}
{
    "a": [],
    "b": {},
    "c": [
        []
    ]
}
[
1
])~"},
            {"tojson_options",
             R"~({{ d | tojson(separators=(',', ':')) }} {{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ {'k': 1} | tojson(indent='\t') }} {{ {1: 'int key', none: 0} | tojson }})~",
             R"~()~",
             R"~({"b":2,"a":1,"c":[1,2]} {"a": 2, "b": 1} {
	"k": 1
} {"1": "int key", "null": 0})~"},
            {"tojson_preserves_insertion_order", R"~({{ tools | tojson }})~",
             R"~({"tools": [{"type": "function", "function": {"name": "z_last", "parameters": {"required": ["b", "a"], "type": "object"}}}]})~", R"~([{"type": "function", "function": {"name": "z_last", "parameters": {"required": ["b", "a"], "type": "object"}}}])~"},
            {"indent",
             R"~({{ 'a\nb\n\nc' | indent }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\n\nb' | indent(2, blank=true) }}|{{ 'x\ny' | indent('> ') }})~",
             R"~()~",
             R"~(a
    b

    c|  a
  b|a
  
  b|x
> y)~"},
            {"wordcount_center_escape",
             R"~({{ 'one two  three' | wordcount }} [{{ 'x' | center(5) }}] {{ '<a href="x">&\'</a>' | e }} {{ '<b>' | escape }} {{ '<i>' | safe }})~",
             R"~()~",
             R"~(3 [  x  ] &lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt; &lt;b&gt; <i>)~"},
            {"format_filter", R"~({{ '%s=%d' | format('a', 1) }} {{ '%(k)s' | format(k='v') }})~",
             R"~()~", R"~(a=1 v)~"},
            {"truncate",
             R"~({{ 'hello world foo bar' | truncate(9) }} {{ 'hello world foo bar' | truncate(9, true) }} {{ 'short' | truncate(9) }} {{ 'hello world foo bar' | truncate(12, leeway=0) }})~",
             R"~()~", R"~(hello... hello ... short hello...)~"},
            {"batch_slice",
             R"~({{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, 'x') | list }} {{ [1, 2, 3, 4, 5] | slice(2) | list }})~",
             R"~()~", R"~([[1, 2], [3, 4], [5]] [[1, 2], [3, 'x']] [[1, 2, 3], [4, 5]])~"},
            {"map_select_on_falsy_values",
             R"~({{ none | map('string') | list }} {{ tools | selectattr('type') | list }} {{ 0 | reject | list }} {{ '' | map('upper') | list }})~",
             R"~({"tools": null})~", R"~([] [] [] [])~"},
            {"attr_filter", R"~({{ ns_like | attr('a') }})~", R"~({"ns_like": {"a": 5}})~",
             R"~()~"},
            {"filter_chain_precedence",
             R"~({{ 'a' + ' b ' | trim + 'c' }} {{ -3 | abs }} {{ xs | sort | first }} {{ (1 + 2) | string + 'x' }})~",
             R"~()~", R"~(abc 3 1 3x)~"},
};

class JinjaFilters : public testing::TestWithParam<Case> {};

TEST_P(JinjaFilters, RendersLikeJinja) {
  const Case& c = GetParam();
  EXPECT_EQ(template_testing::render(c), c.expected) << "template: " << c.source;
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaFilters, testing::ValuesIn(kCases),
                         template_testing::case_name);

}  // namespace
}  // namespace lorax::jinja
