// Chat templates of real models rendered against transformers' own output
// (fixtures/tokenizers/vectors/chat_templates.json, recorded with transformers).
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/chat_template.h"
#include "tokenizer/jinja/template.h"

namespace lorax::jinja {
namespace {

using nlohmann::ordered_json;

const std::string kTokenizers = std::string(LORAX_FIXTURES_DIR) + "/tokenizers";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ordered_json read_json(const std::string& path) {
  return ordered_json::parse(read_file(path));
}

// Which tokenizer each recorded template belongs to (its special tokens come from there).
const std::map<std::string, std::string> kTokenizerOf = {{"gemma", "gemma"},
                                                         {"gemma2-official", "gemma"},
                                                         {"llama3", "llama3"},
                                                         {"llama3.1-official", "llama3"}};

ChatTemplate template_for(const ordered_json& vectors, const std::string& name) {
  const auto it = kTokenizerOf.find(name);
  if (it == kTokenizerOf.end()) throw std::runtime_error("no tokenizer known for template " + name);
  const ordered_json config = read_json(kTokenizers + "/" + it->second + "/tokenizer_config.json");
  ordered_json special = ordered_json::object();
  for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"}) {
    if (config.contains(key) && config[key].is_string()) special[key] = config[key];
  }
  return ChatTemplate(vectors["templates"][name].get<std::string>(), special);
}

TEST(JinjaFixtures, EveryRecordedRenderMatches) {
  const ordered_json vectors = read_json(kTokenizers + "/vectors/chat_templates.json");
  int texts = 0;
  int errors = 0;
  for (const auto& render : vectors["renders"]) {
    const std::string name = render["template"];
    const ordered_json& messages =
        vectors["conversations"][render["conversation"].get<std::size_t>()];
    const bool add_generation_prompt = render["add_generation_prompt"];
    SCOPED_TRACE(name + " conversation " + render["conversation"].dump() +
                 " add_generation_prompt=" + (add_generation_prompt ? "true" : "false"));
    const ChatTemplate chat = template_for(vectors, name);
    if (render.contains("text")) {
      EXPECT_EQ(chat.apply(messages, add_generation_prompt), render["text"].get<std::string>());
      ++texts;
    } else {
      try {
        chat.apply(messages, add_generation_prompt);
        ADD_FAILURE() << "expected the template to raise: " << render["error"];
      } catch (const TemplateError& e) {
        EXPECT_EQ(std::string(e.what()), render["error"].get<std::string>());
      }
      ++errors;
    }
  }
  EXPECT_EQ(texts + errors, static_cast<int>(vectors["renders"].size()));
  EXPECT_EQ(texts, 20);
  EXPECT_EQ(errors, 4);
}

// The recorded templates are the ones the fixture files and tokenizer configs carry.
TEST(JinjaFixtures, RecordedTemplatesMatchTheirSources) {
  const ordered_json vectors = read_json(kTokenizers + "/vectors/chat_templates.json");
  EXPECT_EQ(vectors["templates"]["llama3.1-official"].get<std::string>(),
            read_file(kTokenizers + "/meta-llama-Llama-3.1-8B-Instruct.jinja"));
  EXPECT_EQ(vectors["templates"]["gemma2-official"].get<std::string>(),
            read_file(kTokenizers + "/google-gemma-2-2b-it.jinja"));
  EXPECT_EQ(vectors["templates"]["gemma"],
            read_json(kTokenizers + "/gemma/tokenizer_config.json")["chat_template"]);
  EXPECT_EQ(vectors["templates"]["llama3"],
            read_json(kTokenizers + "/llama3/tokenizer_config.json")["chat_template"]);
}

TEST(JinjaFixtures, TemplateFromTokenizerConfig) {
  const ChatTemplate gemma =
      ChatTemplate::from_tokenizer_config(read_json(kTokenizers + "/gemma/tokenizer_config.json"));
  const ordered_json messages = ordered_json::parse(R"([{"role": "user", "content": " Hi "}])");
  EXPECT_EQ(gemma.apply(messages, true),
            "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_THROW(
      ChatTemplate::from_tokenizer_config(read_json(kTokenizers + "/llama2/tokenizer_config.json")),
      lorax::Error);
}

ordered_json weather_tool() {
  return ordered_json::parse(R"({"type": "function", "function": {"name": "get_weather",
    "description": "Weather in a city", "parameters": {"type": "object",
    "properties": {"city": {"type": "string"}}, "required": ["city"]}}})");
}

// Llama 3.1's tool paths, with the output transformers gives (checked with its Jinja setup).
TEST(JinjaFixtures, Llama31ToolsInUserMessage) {
  const ChatTemplate llama(read_file(kTokenizers + "/meta-llama-Llama-3.1-8B-Instruct.jinja"),
                           {{"bos_token", "<|begin_of_text|>"}});
  const ordered_json messages =
      ordered_json::parse(R"([{"role": "user", "content": "Weather in Paris?"}])");
  const std::string out =
      llama.apply(messages, true, {{"tools", ordered_json::array({weather_tool()})}});
  EXPECT_EQ(
      out,
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n"
      "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond "
      "with a JSON for a function call with its proper arguments that best answers the given "
      "prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": dictionary of "
      "argument name and its value}.Do not use variables.\n\n{\n    \"type\": \"function\",\n    "
      "\"function\": {\n        \"name\": \"get_weather\",\n        \"description\": \"Weather in "
      "a city\",\n        \"parameters\": {\n            \"type\": \"object\",\n            "
      "\"properties\": {\n                \"city\": {\n                    \"type\": \"string\"\n"
      "                }\n            },\n            \"required\": [\n                \"city\"\n"
      "            ]\n        }\n    }\n}\n\nWeather in Paris?<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(JinjaFixtures, Llama31ToolCallAndToolResult) {
  const ChatTemplate llama(read_file(kTokenizers + "/meta-llama-Llama-3.1-8B-Instruct.jinja"),
                           {{"bos_token", "<|begin_of_text|>"}});
  const ordered_json messages = ordered_json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": "22C"},
    {"role": "ipython", "content": {"temp": 22}}])");
  const std::string out = llama.apply(messages, false, {{"date_string", "01 Jan 2025"}});
  EXPECT_EQ(
      out,
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: "
      "December 2023\nToday Date: 01 Jan 2025\n\nBe brief.<|eot_id|><|start_header_id|>user"
      "<|end_header_id|>\n\nWeather in Paris?<|eot_id|><|start_header_id|>assistant"
      "<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}"
      "<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n\"22C\"<|eot_id|>"
      "<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": 22}<|eot_id|>");
}

TEST(JinjaFixtures, Llama31RejectsParallelToolCalls) {
  const ChatTemplate llama(read_file(kTokenizers + "/meta-llama-Llama-3.1-8B-Instruct.jinja"));
  const ordered_json messages = ordered_json::parse(R"([{"role": "user", "content": "x"},
    {"role": "assistant", "tool_calls": [{"function": {"name": "a", "arguments": {}}}, {"function": {"name": "b", "arguments": {}}}]}])");
  try {
    llama.apply(messages, false);
    FAIL() << "expected raise_exception";
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(), "This model only supports single tool-calls at once!");
  }
}

TEST(JinjaFixtures, GemmaRejectsNonAlternatingRoles) {
  const ChatTemplate gemma(read_file(kTokenizers + "/google-gemma-2-2b-it.jinja"),
                           {{"bos_token", "<bos>"}});
  const ordered_json messages = ordered_json::parse(
      R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])");
  try {
    gemma.apply(messages, true);
    FAIL() << "expected raise_exception";
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(), "Conversation roles must alternate user/assistant/user/assistant/...");
  }
}

}  // namespace
}  // namespace lorax::jinja
