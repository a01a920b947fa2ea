// How templates fail: syntax errors name their line, raise_exception surfaces the template's own
// message as a TemplateError, runtime failures are TemplateRuntimeErrors, and hostile templates
// hit limits instead of exhausting the machine. All of them are lorax::Errors.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace lorax::jinja {
namespace {

using nlohmann::ordered_json;

std::string render(const std::string& source,
                   const ordered_json& context = ordered_json::object()) {
  return Template(source).render(context);
}

// The message of the TemplateSyntaxError that parsing `source` raises, checking its line.
std::string syntax_error(const std::string& source, int line) {
  try {
    Template t(source);
  } catch (const TemplateSyntaxError& e) {
    EXPECT_EQ(e.line(), line) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no syntax error for: " << source;
  return "";
}

std::string runtime_error(const std::string& source,
                          const ordered_json& context = ordered_json::object()) {
  try {
    render(source, context);
  } catch (const TemplateRuntimeError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no runtime error for: " << source;
  return "";
}

TEST(JinjaErrors, SyntaxErrorNamesTheLine) {
  const std::string message = syntax_error("line one\nline two\n{% for %}", 3);
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("expected a name"), std::string::npos) << message;
}

TEST(JinjaErrors, UnclosedBlockNamesWhatIsMissing) {
  const std::string message = syntax_error("{% if x %}\n{% for y in z %}\n", 2);
  EXPECT_NE(message.find("'endfor'"), std::string::npos) << message;
  EXPECT_NE(message.find("at line 2"), std::string::npos) << message;
}

TEST(JinjaErrors, SyntaxErrors) {
  EXPECT_NE(syntax_error("{{ x | bogus }}", 1).find("no filter named 'bogus'"), std::string::npos);
  EXPECT_NE(syntax_error("\n{{ x is bogus }}", 2).find("no test named 'bogus'"), std::string::npos);
  EXPECT_NE(syntax_error("{% frobnicate %}", 1).find("unknown tag 'frobnicate'"),
            std::string::npos);
  EXPECT_NE(syntax_error("{% endfor %}", 1).find("unexpected 'endfor'"), std::string::npos);
  EXPECT_NE(syntax_error("{% if a %}{% endfor %}", 1).find("unexpected 'endfor'"),
            std::string::npos);
  EXPECT_NE(syntax_error("{{ (1 }}", 1).find("unexpected '}'"), std::string::npos);
  EXPECT_NE(syntax_error("{{ 'open }}", 1).find("unexpected end of string"), std::string::npos);
  EXPECT_NE(syntax_error("a {# never closed", 1).find("comment"), std::string::npos);
  EXPECT_NE(syntax_error("{{ x ", 1).find("expected '}}'"), std::string::npos);
  EXPECT_NE(syntax_error("{% break %}", 1).find("outside of a loop"), std::string::npos);
  EXPECT_NE(syntax_error("{{ 1 + }}", 1).find("unexpected end of print statement"),
            std::string::npos);
  EXPECT_NE(syntax_error("{% macro m(a=1, b) %}{% endmacro %}", 1).find("non-default argument"),
            std::string::npos);
  EXPECT_NE(syntax_error("{{ 99999999999999999999 }}", 1).find("out of range"), std::string::npos);
  EXPECT_NE(syntax_error("{% extends 'base.html' %}", 1).find("not supported"), std::string::npos);
  syntax_error("{% raw %}never closed", 1);
  syntax_error("{{ '\\x4' }}", 1);
}

TEST(JinjaErrors, RaiseExceptionSurfacesTheTemplatesMessage) {
  const std::string source =
      "{% if messages[0]['role'] == 'system' %}"
      "{{ raise_exception('System role not supported') }}{% endif %}ok";
  const ordered_json system =
      ordered_json::parse(R"({"messages": [{"role": "system", "content": "x"}]})");
  try {
    render(source, system);
    FAIL() << "expected TemplateError";
  } catch (const TemplateRuntimeError& e) {
    FAIL() << "raise_exception must not look like a template bug: " << e.what();
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(), "System role not supported");
  }
  const ordered_json user =
      ordered_json::parse(R"({"messages": [{"role": "user", "content": "x"}]})");
  EXPECT_EQ(render(source, user), "ok");
  EXPECT_THROW(render("{% macro m() %}{{ raise_exception('deep') }}{% endmacro %}{{ m() }}"),
               TemplateError);
}

TEST(JinjaErrors, UndefinedValuesFailWhenUsed) {
  EXPECT_NE(runtime_error("{{ foo() }}").find("'foo' is undefined"), std::string::npos);
  EXPECT_NE(runtime_error("{{ foo.bar }}").find("'foo' is undefined"), std::string::npos);
  EXPECT_NE(runtime_error("{{ foo + 1 }}").find("'foo' is undefined"), std::string::npos);
  EXPECT_NE(runtime_error("{{ d['x'] + 1 }}", {{"d", ordered_json::object()}})
                .find("'dict object' has no attribute 'x'"),
            std::string::npos);
  EXPECT_NE(runtime_error("{{ xs[3].role }}", {{"xs", {1}}}).find("list object has no element 3"),
            std::string::npos);
  EXPECT_NE(runtime_error("{{ x | tojson }}").find("Undefined is not JSON serializable"),
            std::string::npos);
}

TEST(JinjaErrors, RuntimeErrorNamesTheLine) {
  const std::string message =
      runtime_error("ok\n{% for m in messages %}\n{{ m.content + 1 }}\n{% endfor %}",
                    ordered_json::parse(R"({"messages": [{"content": "a"}]})"));
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("can only concatenate str (not \"int\") to str"), std::string::npos)
      << message;
}

TEST(JinjaErrors, TypeErrors) {
  EXPECT_NE(runtime_error("{{ 1 // 0 }}").find("division or modulo by zero"), std::string::npos);
  EXPECT_NE(runtime_error("{{ 1 / 0 }}").find("division by zero"), std::string::npos);
  EXPECT_NE(
      runtime_error("{{ 1 < 'a' }}").find("'<' not supported between instances of 'int' and 'str'"),
      std::string::npos);
  EXPECT_NE(runtime_error("{% for x in 5 %}{% endfor %}").find("'int' object is not iterable"),
            std::string::npos);
  EXPECT_NE(
      runtime_error("{% for x in none %}{% endfor %}").find("'NoneType' object is not iterable"),
      std::string::npos);
  EXPECT_NE(runtime_error("{{ none | length }}").find("has no len()"), std::string::npos);
  EXPECT_NE(
      runtime_error("{% for a, b in [[1, 2, 3]] %}{% endfor %}").find("too many values to unpack"),
      std::string::npos);
  EXPECT_NE(runtime_error("{{ 'x'() }}").find("'str' object is not callable"), std::string::npos);
  EXPECT_NE(runtime_error("{% set x = 1 %}{% set x.a = 2 %}").find("non-namespace"),
            std::string::npos);
  EXPECT_NE(runtime_error("{{ 'a'.split(1) }}").find("sep must be a string"), std::string::npos);
  EXPECT_NE(
      runtime_error("{{ 'x' | indent(bogus=1) }}").find("unexpected keyword argument 'bogus'"),
      std::string::npos);
  EXPECT_NE(runtime_error("{{ 9223372036854775807 + 1 }}").find("out of range"), std::string::npos);
}

// The sandbox HF renders in refuses to mutate lists and dicts.
TEST(JinjaErrors, MutatingMethodsAreRefused) {
  EXPECT_NE(runtime_error("{{ xs.append(1) }}", {{"xs", {1}}})
                .find("access to attribute 'append' of 'list' object is unsafe."),
            std::string::npos);
  EXPECT_NE(runtime_error("{{ d.update({}) }}", {{"d", ordered_json::object()}}).find("unsafe"),
            std::string::npos);
}

TEST(JinjaErrors, HostileTemplatesHitLimits) {
  EXPECT_NE(runtime_error("{{ range(1000000) | length }}").find("Range too big"),
            std::string::npos);
  EXPECT_NE(runtime_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("nested deeper"),
            std::string::npos);
  EXPECT_NE(runtime_error("{{ 'x' * 1000000000 }}").find("too large"), std::string::npos);
  RenderLimits small;
  small.max_loop_iterations = 100;
  small.max_output_bytes = 1000;
  const Template loops("{% for i in range(50) %}{% for j in range(50) %}{% endfor %}{% endfor %}");
  EXPECT_THROW(loops.render(ordered_json::object(), small), TemplateRuntimeError);
  const Template output("{% for i in range(500) %}xxxxx{% endfor %}");
  EXPECT_THROW(output.render(ordered_json::object(), small), TemplateRuntimeError);
  EXPECT_EQ(output.render(ordered_json::object()).size(), 2500u);
  // Deep nesting is a syntax error, not a stack overflow.
  EXPECT_THROW(Template("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"),
               TemplateSyntaxError);
  EXPECT_THROW(Template("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}"),
               TemplateSyntaxError);
  std::string nested_ifs;
  for (int i = 0; i < 1000; ++i) nested_ifs += "{% if true %}";
  EXPECT_THROW(Template(nested_ifs + "x"), TemplateSyntaxError);
}

TEST(JinjaErrors, NamespaceHoldingItselfDoesNotLeakOrLoop) {
  EXPECT_EQ(render("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns.me.me.a }}"), "1");
  EXPECT_THROW(render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"),
               TemplateRuntimeError);
}

TEST(JinjaErrors, EverythingIsALoraxError) {
  EXPECT_THROW(Template("{% if %}"), lorax::Error);
  EXPECT_THROW(render("{{ raise_exception('x') }}"), lorax::Error);
  EXPECT_THROW(render("{{ x.y }}"), lorax::Error);
  EXPECT_THROW(Template("x").render(ordered_json::array()), lorax::Error);
}

}  // namespace
}  // namespace lorax::jinja
