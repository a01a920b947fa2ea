// Python methods of str, dict and list called from templates.
// Expected outputs are what Jinja 3.1 renders for the same template and context in
// transformers' chat-template environment (sandboxed, trim_blocks, lstrip_blocks, loopcontrols).
#include <gtest/gtest.h>

#include "tokenizer/jinja_test_support.h"

namespace lorax::jinja {
namespace {

using template_testing::Case;

const Case kCases[] = {
    {"strip_family",
     R"~([{{ '  x  '.strip() }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}][{{ '--x--'.strip('-') }}][{{ 'xyxhixy'.strip('xy') }}][{{ '\n\tx '.strip() }}])~",
     R"~()~", R"~([x][x  ][  x][x][hi][x])~"},
    {"split",
     R"~({{ 'a,b,,c'.split(',') }} {{ ' a  b \n c '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ 'a\nb\r\nc'.splitlines() }} {{ ''.split() }} {{ 'abc'.split('b') }})~",
     R"~()~",
     R"~(['a', 'b', '', 'c'] ['a', 'b', 'c'] ['a', 'b c'] ['a b', 'c'] ['a', 'b', 'c'] [] ['a', 'c'])~"},
    {"starts_ends",
     R"~({{ 'hello'.startswith('he') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith('lo') }} {{ 'hello'.endswith('x') }})~",
     R"~()~", R"~(True True True False)~"},
    {"case_methods",
     R"~({{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ "don't stop".title() }} {{ 'hELLO'.capitalize() }} {{ 'AbC'.swapcase() }})~",
     R"~()~", R"~(ABC abc Don'T Stop Hello aBc)~"},
    {"search_methods",
     R"~({{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ 'héllo'.find('l') }} {{ 'hello'.index('e') }})~",
     R"~()~", R"~(2 -1 3 2 2 1)~"},
    {"replace_join_format",
     R"~({{ 'a.b.c'.replace('.', '/') }} {{ 'a.b.c'.replace('.', '', 1) }} {{ ', '.join(['x', 'y']) }} {{ '-'.join('abc') }} {{ '{} + {} = {}'.format(1, 2, 3) }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='hi') }} {{ '{:>5}|{:<4}|{:^5}|{:.2f}'.format('r', 'l', 'c', 3.14159) }})~",
     R"~()~", R"~(a/b/c ab.c x, y a-b-c 1 + 2 = 3 aba hi!     r|l   |  c  |3.14)~"},
    {"predicates",
     R"~({{ '123'.isdigit() }} {{ '12a'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'ab1'.isalnum() }} {{ '  '.isspace() }} {{ 'ABC'.isupper() }} {{ 'abc'.islower() }})~",
     R"~()~", R"~(True False True True True True True)~"},
    {"misc_str_methods",
     R"~({{ 'test_x'.removeprefix('test_') }} {{ 'x.py'.removesuffix('.py') }} [{{ 'ab'.center(6, '*') }}] [{{ 'ab'.ljust(4) }}] [{{ 'ab'.rjust(4) }}] {{ '42'.zfill(5) }} {{ 'k=v=w'.partition('=') }})~",
     R"~()~", R"~(x x [**ab**] [ab  ] [  ab] 00042 ('k', '=', 'v=w'))~"},
    {"dict_methods",
     R"~({{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }} {{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.get('c')[1] }})~",
     R"~()~",
     R"~(['b', 'a', 'c'] [2, 1, [1, 2]] [('b', 2), ('a', 1), ('c', [1, 2])] 1 None dflt 2)~"},
    {"list_methods", R"~({{ xs.index(1) }} {{ [1, 1, 2].count(1) }})~", R"~()~", R"~(1 2)~"},
    {"method_on_message_content",
     R"~({% for m in msgs %}{{ m.content.strip().upper() }}{{ m['role'][0] }};{% endfor %})~",
     R"~()~", R"~(SYSs;HIu;YOa;)~"},
    {"unsafe_attribute_is_undefined",
     R"~({{ xs.append is defined }} {{ d.update is defined }} {{ d._private is defined }})~",
     R"~()~", R"~(False False False)~"},
};

class JinjaMethods : public testing::TestWithParam<Case> {};

TEST_P(JinjaMethods, RendersLikeJinja) {
  const Case& c = GetParam();
  EXPECT_EQ(template_testing::render(c), c.expected) << "template: " << c.source;
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaMethods, testing::ValuesIn(kCases),
                         template_testing::case_name);

}  // namespace
}  // namespace lorax::jinja
