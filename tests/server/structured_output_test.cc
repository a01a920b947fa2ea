// Structured output over HTTP: OpenAI's response_format (json_object, json_schema) and vLLM's
// guided_* fields on both OpenAI endpoints, LoRAX's parameters.response_format on /generate, /
// and /generate_stream, and refusals (a schema keyword the layer cannot honour, two constraints
// at once, malformed formats) in each API's error shape, streaming included.
#include <gtest/gtest.h>

#include <regex>

#include "server/validation.h"
#include "server_fixture.h"

namespace lorax::testing {
namespace {

const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {"name": {"type": "string", "maxLength": 8}, "age": {"type": "integer"}},
  "required": ["name", "age"],
  "additionalProperties": false
})");

void expect_instance(const std::string& text) {
  const Json value = Json::parse(text);  // throws: not JSON
  ASSERT_TRUE(value.is_object()) << text;
  EXPECT_EQ(value.size(), 2u) << text;
  EXPECT_TRUE(value.contains("name") && value["name"].is_string()) << text;
  EXPECT_TRUE(value.contains("age") && value["age"].is_number_integer()) << text;
}

Json chat_body() {
  return {{"messages", Json::array({{{"role", "user"}, {"content", "Once upon a time"}}})},
          {"max_tokens", 120},
          {"temperature", 0}};
}

class StructuredOutputTest : public ::testing::Test {
 protected:
  TestServer server;
};

TEST_F(StructuredOutputTest, OpenAiJsonSchemaOnChatAndCompletions) {
  Json chat = chat_body();
  chat["response_format"] = {
      {"type", "json_schema"},
      {"json_schema", {{"name", "person"}, {"schema", kSchema}, {"strict", true}}}};
  const Reply reply = server.post("/v1/chat/completions", chat);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json["choices"][0]["finish_reason"], "stop");
  expect_instance(reply.json["choices"][0]["message"]["content"].get<std::string>());

  Json completion = {{"prompt", "Once upon a time"},
                     {"max_tokens", 120},
                     {"temperature", 0.8},
                     {"seed", 3},
                     {"guided_json", kSchema}};
  const Reply plain = server.post("/v1/completions", completion);
  ASSERT_EQ(plain.status, 200) << plain.body;
  expect_instance(plain.json["choices"][0]["text"].get<std::string>());
  // The stream concatenates to the same constrained text.
  completion["stream"] = true;
  const Reply stream = server.post("/v1/completions", completion);
  ASSERT_EQ(stream.status, 200) << stream.body;
  std::string text;
  for (const std::string& event : sse_payloads(stream.body))
    if (event != "[DONE]") text += Json::parse(event)["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, plain.json["choices"][0]["text"].get<std::string>());
}

TEST_F(StructuredOutputTest, JsonObjectRegexAndGrammar) {
  Json chat = chat_body();
  chat["response_format"] = {{"type", "json_object"}};
  const Reply object = server.post("/v1/chat/completions", chat);
  ASSERT_EQ(object.status, 200) << object.body;
  // Any object may go on past max_tokens; one that ended is complete JSON.
  const std::string content = object.json["choices"][0]["message"]["content"].get<std::string>();
  ASSERT_FALSE(content.empty());
  EXPECT_EQ(content.front(), '{') << content;
  if (object.json["choices"][0]["finish_reason"] == "stop") {
    EXPECT_TRUE(Json::parse(content).is_object()) << content;
  }

  const Reply regex = server.post("/v1/completions", {{"prompt", "Once upon a time"},
                                                      {"max_tokens", 30},
                                                      {"guided_regex", "[a-z]{2,5}-[0-9]{2}"}});
  ASSERT_EQ(regex.status, 200) << regex.body;
  EXPECT_TRUE(std::regex_match(regex.json["choices"][0]["text"].get<std::string>(),
                               std::regex("[a-z]{2,5}-[0-9]{2}")))
      << regex.body;

  const Reply grammar = server.post(
      "/generate",
      {{"inputs", "Once upon a time"},
       {"parameters",
        {{"max_new_tokens", 30},
         {"response_format", {{"type", "grammar"}, {"grammar", R"(root ::= "yes" | "no")"}}}}}});
  ASSERT_EQ(grammar.status, 200) << grammar.body;
  const std::string answer = grammar.json["generated_text"].get<std::string>();
  EXPECT_TRUE(answer == "yes" || answer == "no") << answer;
}

TEST_F(StructuredOutputTest, LoraxResponseFormatOnGenerateAndStream) {
  const Json body = {{"inputs", "Once upon a time"},
                     {"parameters",
                      {{"max_new_tokens", 120},
                       {"details", true},
                       {"response_format", {{"type", "json_object"}, {"schema", kSchema}}}}}};
  const Reply reply = server.post("/generate", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  expect_instance(reply.json["generated_text"].get<std::string>());
  EXPECT_EQ(reply.json["details"]["finish_reason"], "eos_token");
  Json streamed = body;
  streamed["stream"] = true;
  const Reply stream = server.post("/", streamed);
  ASSERT_EQ(stream.status, 200) << stream.body;
  const auto events = sse_payloads(stream.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(Json::parse(events.back())["generated_text"], reply.json["generated_text"]);
}

TEST_F(StructuredOutputTest, RefusalsNameTheFieldAndTheKeyword) {
  const Json refused = {{"type", "object"},
                        {"properties", {{"n", {{"type", "number"}, {"multipleOf", 3}}}}}};
  Json chat = chat_body();
  chat["response_format"] = {{"type", "json_schema"},
                             {"json_schema", {{"name", "x"}, {"schema", refused}}}};
  for (bool stream : {false, true}) {
    chat["stream"] = stream;
    const Reply r = server.post("/v1/chat/completions", chat);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.json["error"]["message"].get<std::string>().find("multipleOf"), std::string::npos)
        << r.body;
    EXPECT_EQ(r.json["error"]["param"], "response_format") << r.body;
  }
  const Json lorax_body = {
      {"inputs", "x"},
      {"parameters", {{"response_format", {{"type", "json_object"}, {"schema", refused}}}}}};
  const Reply plain = server.post("/generate", lorax_body);
  EXPECT_EQ(plain.status, 422) << plain.body;
  EXPECT_NE(plain.json["error"].get<std::string>().find("multipleOf"), std::string::npos)
      << plain.body;
  EXPECT_EQ(plain.json["error_type"], "validation") << plain.body;
  // LoRAX's streams report errors as an event of the stream (as TGI does).
  const Reply stream = server.post("/generate_stream", lorax_body);
  const auto events = sse_payloads(stream.body);
  ASSERT_EQ(events.size(), 1u) << stream.body;
  const Json event = Json::parse(events[0]);
  EXPECT_NE(event["error"].get<std::string>().find("multipleOf"), std::string::npos) << stream.body;
  EXPECT_EQ(event["error_type"], "validation") << stream.body;
  const Reply regex = server.post("/v1/completions", {{"prompt", "x"}, {"guided_regex", "(ab"}});
  EXPECT_EQ(regex.status, 400) << regex.body;
  EXPECT_EQ(regex.json["error"]["param"], "guided_regex") << regex.body;
  const Reply both = server.post(
      "/v1/completions",
      {{"prompt", "x"}, {"guided_regex", "a"}, {"response_format", {{"type", "json_object"}}}});
  EXPECT_EQ(both.status, 400) << both.body;
  EXPECT_NE(both.json["error"]["message"].get<std::string>().find("one constraint"),
            std::string::npos)
      << both.body;
}

TEST(StructuredOutputValidation, FieldsAndShapes) {
  ServerLimits limits;
  const auto chat = [&](Json format) {
    Json body = {{"messages", Json::array({{{"role", "user"}, {"content", "x"}}})},
                 {"response_format", std::move(format)}};
    return parse_chat(body, limits).spec.constraint;
  };
  EXPECT_FALSE(chat({{"type", "text"}}));
  EXPECT_EQ(chat({{"type", "json_object"}})->schema, Json({{"type", "object"}}));
  EXPECT_EQ(chat({{"type", "json_schema"}, {"json_schema", {{"name", "n"}, {"schema", kSchema}}}})
                ->schema,
            kSchema);
  const auto regex = chat({{"type", "regex"}, {"pattern", "a+"}});
  EXPECT_EQ(regex->kind, ConstraintSpec::Kind::Regex);
  EXPECT_EQ(regex->source, "a+");
  EXPECT_THROW(chat({{"type", "json_schema"}}), ApiError);
  EXPECT_THROW(chat({{"type", "xml"}}), ApiError);
  EXPECT_THROW(chat({{"type", "regex"}}), ApiError);
  // guided_json as a JSON string, inside LoRAX's parameters.
  const Json generate = {{"inputs", "x"}, {"parameters", {{"guided_json", kSchema.dump()}}}};
  const auto spec = parse_lorax_generate(generate, limits, false).spec.constraint;
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->schema, kSchema);
  EXPECT_EQ(spec->param, "guided_json");
}

}  // namespace
}  // namespace lorax::testing
