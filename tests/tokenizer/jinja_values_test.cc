// The Python semantics under the engine: float printing, json.dumps, str operations on UTF-8,
// equality and ordering; and the public API's promises (thread safety, bytes preserved).
#include <ctime>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/chat_template.h"
#include "tokenizer/jinja/python_str.h"
#include "tokenizer/jinja/template.h"
#include "tokenizer/jinja/value.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

using nlohmann::ordered_json;

TEST(JinjaValues, FloatReprIsPythons) {
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(float_repr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(float_repr(0.0001), "0.0001");
  EXPECT_EQ(float_repr(0.00001), "1e-05");
  EXPECT_EQ(float_repr(-1.5e-7), "-1.5e-07");
  EXPECT_EQ(float_repr(1e100), "1e+100");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
  EXPECT_EQ(float_repr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(float_repr(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(float_repr(5e-324), "5e-324");
}

TEST(JinjaValues, JsonDumpsLikePython) {
  const Value v = Value::from_json(
      ordered_json::parse(R"({"z": 1, "a": [1.0, null, true, "é\n\u0001"], "e": {}})"));
  EXPECT_EQ(to_json(v, {}), R"({"z": 1, "a": [1.0, null, true, "é\n\u0001"], "e": {}})");
  JsonOptions indented;
  indented.indent = "  ";
  EXPECT_EQ(
      to_json(v, indented),
      "{\n  \"z\": 1,\n  \"a\": [\n    1.0,\n    null,\n    true,\n    \"é\\n\\u0001\"\n  ],\n"
      "  \"e\": {}\n}");
  JsonOptions sorted;
  sorted.sort_keys = true;
  sorted.item_separator = ",";
  sorted.key_separator = ":";
  EXPECT_EQ(to_json(v, sorted), R"({"a":[1.0,null,true,"é\n\u0001"],"e":{},"z":1})");
  EXPECT_EQ(to_json(Value::number(std::numeric_limits<double>::infinity()), {}), "Infinity");
  EXPECT_THROW(to_json(Value(), {}), lorax::Error);
}

TEST(JinjaValues, ReprQuotesLikePython) {
  EXPECT_EQ(to_repr(Value::string("it's")), "\"it's\"");
  EXPECT_EQ(to_repr(Value::string("a\"b'c")), "'a\"b\\'c'");
  EXPECT_EQ(to_repr(Value::string("tab\t\x01\xc2\xa0")), "'tab\\t\\x01\\xa0'");
  EXPECT_EQ(to_repr(Value::tuple({Value::integer(1)})), "(1,)");
  EXPECT_EQ(to_str(Value::list({Value::none(), Value::boolean(true), Value()})),
            "[None, True, Undefined]");
}

TEST(JinjaValues, PercentFormat) {
  EXPECT_EQ(percent_format("%s|%5.1f|%-3d|%x|%r|%%",
                           Value::tuple({Value::string("a"), Value::number(2.25), Value::integer(7),
                                         Value::integer(255), Value::string("q")})),
            "a|  2.2|7  |ff|'q'|%");
  EXPECT_THROW(percent_format("%s %s", Value::tuple({Value::integer(1)})), lorax::Error);
  EXPECT_THROW(percent_format("%s", Value::tuple({Value::integer(1), Value::integer(2)})),
               lorax::Error);
}

TEST(JinjaValues, StringsCountCodePoints) {
  EXPECT_EQ(pystr::length("héllo"), 5u);
  EXPECT_EQ(pystr::slice("héllo wörld", 1, 4, std::nullopt), "éll");
  EXPECT_EQ(pystr::slice("héllo", std::nullopt, std::nullopt, -1), "olléh");
  EXPECT_EQ(pystr::find("héllo", "l"), 2);
  EXPECT_EQ(pystr::strip("\xc2\xa0 x \xe3\x80\x80", std::nullopt, pystr::StripSide::kBoth), "x");
  EXPECT_EQ(pystr::split("  a  b ", std::nullopt, -1), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(pystr::rsplit("a b c", std::string(" "), 1), (std::vector<std::string>{"a b", "c"}));
  EXPECT_EQ(pystr::splitlines("a\r\nb\x0b"
                              "c\n",
                              false),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(pystr::upper("été привет"), "ÉTÉ ПРИВЕТ");
  EXPECT_EQ(pystr::title("hello wORLD o'neil"), "Hello World O'Neil");
  EXPECT_EQ(pystr::replace("abc", "", "-", -1), "-a-b-c-");
  EXPECT_EQ(pystr::slice_indices(5, -100, 100, 2), (std::vector<std::int64_t>{0, 2, 4}));
  EXPECT_EQ(
      pystr::slice_indices(5, std::nullopt, std::nullopt, std::numeric_limits<std::int64_t>::min()),
      (std::vector<std::int64_t>{4}));
}

TEST(JinjaValues, InvalidUtf8PassesThroughUnchanged) {
  const std::string bytes = "ok \xff\xfe end";
  EXPECT_EQ(pystr::encode(pystr::decode(bytes)), bytes);
  EXPECT_EQ(Template("{{ s }}|{{ s[::-1][::-1] }}|{{ s | trim }}").render({{"s", bytes}}),
            bytes + "|" + bytes + "|" + bytes);
}

TEST(JinjaValues, PythonEqualityAndOrdering) {
  EXPECT_TRUE(equals(Value::integer(1), Value::number(1.0)));
  EXPECT_TRUE(equals(Value::boolean(true), Value::integer(1)));
  EXPECT_FALSE(equals(Value::list({Value::integer(1)}), Value::tuple({Value::integer(1)})));
  EXPECT_FALSE(equals(Value::none(), Value()));
  const Value a = Value::from_json(ordered_json::parse(R"({"x": 1, "y": [2]})"));
  const Value b = Value::from_json(ordered_json::parse(R"({"y": [2], "x": 1.0})"));
  EXPECT_TRUE(equals(a, b));  // dict equality ignores order
  EXPECT_LT(compare(Value::string("B"), Value::string("a")), 0);
  EXPECT_LT(compare(Value::list({Value::integer(1), Value::integer(2)}),
                    Value::list({Value::integer(1), Value::integer(3)})),
            0);
  EXPECT_THROW(compare(Value::integer(1), Value::string("1")), lorax::Error);
}

TEST(JinjaValues, ContextKeepsJsonTypes) {
  const ordered_json context = ordered_json::parse(
      R"({"i": 3, "u": 18446744073709551615, "f": 2.5, "b": false, "n": null, "o": {"k": [1, "x"]}})");
  EXPECT_EQ(
      Template("{{ i }} {{ u }} {{ f }} {{ b }} {{ n }} {{ o }} {{ i is integer }} {{ n is none }}")
          .render(context),
      "3 1.8446744073709552e+19 2.5 False None {'k': [1, 'x']} True True");
}

TEST(JinjaValues, StrftimeNowUsesTheLocalClock) {
  const std::string year = Template("{{ strftime_now('%Y') }}").render({});
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  EXPECT_EQ(year, std::to_string(local.tm_year + 1900));
  EXPECT_EQ(Template("{{ strftime_now('') }}").render({}), "");
}

// One parsed template serves every request thread.
TEST(JinjaValues, RenderingIsThreadSafe) {
  const ChatTemplate chat(
      "{%- set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
      "{{ m.role }}:{{ m.content | trim }};{% endfor %}{{ ns.n }}{{ bos_token }}",
      {{"bos_token", "<s>"}});
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      const ordered_json messages = {
          {{"role", "user"}, {"content", " t" + std::to_string(t) + " "}}};
      for (int i = 0; i < 200; ++i) results[t] = chat.apply(messages, false);
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t t = 0; t < results.size(); ++t) {
    EXPECT_EQ(results[t], "user:t" + std::to_string(t) + ";1<s>");
  }
}

TEST(JinjaValues, ChatTemplateContext) {
  const ChatTemplate chat(
      "{{ tools is none }} {{ documents is none }} {{ add_generation_prompt }} {{ messages | "
      "length }} "
      "{{ bos_token }}{{ eos_token }} {{ date_string | default('none') }}",
      {{"bos_token", "<s>"}, {"eos_token", "</s>"}});
  EXPECT_EQ(chat.apply(ordered_json::array(), true), "True True True 0 <s></s> none");
  EXPECT_EQ(chat.apply(ordered_json::array(), false,
                       {{"tools", ordered_json::array()}, {"date_string", "d"}}),
            "False True False 0 <s></s> d");
  EXPECT_EQ(apply_chat_template("{{ messages[0].content }}{{ x }}", {{{"content", "hi"}}}, false,
                                {{"x", 1}}),
            "hi1");
}

TEST(JinjaValues, ChatTemplateFromConfigVariants) {
  const ordered_json config = ordered_json::parse(R"({
    "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null,
    "chat_template": [{"name": "default", "template": "{{ bos_token }}d"},
                      {"name": "tool_use", "template": "{{ eos_token }}t"}]})");
  EXPECT_EQ(ChatTemplate::from_tokenizer_config(config).apply(ordered_json::array(), false),
            "<s>d");
  EXPECT_EQ(
      ChatTemplate::from_tokenizer_config(config, "tool_use").apply(ordered_json::array(), false),
      "</s>t");
  EXPECT_THROW(ChatTemplate::from_tokenizer_config(config, "rag"), lorax::Error);
  // An entry whose name is not a string is skipped, not a JSON type error.
  const ordered_json odd = ordered_json::parse(R"({"chat_template": [
      {"name": 7, "template": "x"}, {"name": "default", "template": "y"}]})");
  EXPECT_EQ(ChatTemplate::from_tokenizer_config(odd).apply(ordered_json::array(), false), "y");
}

}  // namespace
}  // namespace lorax::jinja
