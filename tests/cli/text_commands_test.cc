// Text through the CLI: prompts and chat messages in, decoded text out, and `lorax tokenize`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fixtures.h"

namespace lorax {
namespace {

using nlohmann::json;

std::vector<json> run_lines(const std::string& args, const std::string& input, int* status) {
  testing::TempDir dir;
  testing::write_file(dir.file("in.jsonl"), input);
  const auto result = testing::run_command(testing::lorax_binary() + " " + args + " --requests " +
                                           dir.file("in.jsonl") + " 2>/dev/null");
  *status = result.status;
  std::vector<json> out;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) out.push_back(json::parse(line));
  return out;
}

TEST(GenerateText, StoriesPromptsBaseAndAdaptersInOneBatch) {
  const std::string model = testing::model_dir("stories260K");
  std::string input, flags = " --model " + model;
  std::vector<testing::FixtureCase> cases;
  for (const auto& c : testing::load_cases("stories260K"))
    if (c.prompt == 0) cases.push_back(c);  // "Once upon a time" under base, ben and beach
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& c : cases) {
    json r = {{"prompt", c.prompt_text}, {"max_new_tokens", c.greedy.size()}};
    if (c.adapter) {
      r["adapter"] = *c.adapter;
      flags += " --adapter " + *c.adapter + "=" + model + "/adapters/" + *c.adapter;
    }
    input += r.dump() + "\n";
  }
  int status = 0;
  const auto out = run_lines("generate --quiet" + flags, input, &status);
  EXPECT_EQ(status, 0);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(out[i]["prompt_ids"].get<std::vector<int32_t>>(), cases[i].input_ids);
    EXPECT_EQ(out[i]["generated_ids"].get<std::vector<int32_t>>(), cases[i].greedy);
    // the fixture's text is the continuation decoded on its own (leading space dropped)
    const std::string text = out[i]["text"];
    EXPECT_NE(text.find(cases[i].greedy_text.substr(1)), std::string::npos) << text;
  }
  EXPECT_NE(out[0]["text"].get<std::string>().find("a little girl named Lily"), std::string::npos);
  EXPECT_NE(out[1]["text"].get<std::string>().find("a little boy named Ben"), std::string::npos);
}

TEST(GenerateText, ChatWithoutTemplateAndTextWithoutTokenizerAreClearErrors) {
  int status = 0;
  auto out = run_lines("generate --quiet --model " + testing::model_dir("stories260K"),
                       "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n"
                       "{\"prompt\": \"x\", \"prompt_ids\": [1]}\n",
                       &status);
  EXPECT_EQ(status, 2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0]["error"].get<std::string>().find("no chat template"), std::string::npos);
  EXPECT_NE(out[1]["error"].get<std::string>().find("exactly one"), std::string::npos);
  out = run_lines("generate --quiet --model " + testing::model_dir("llama-tiny"),
                  "{\"prompt\": \"hello\"}\n", &status);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0]["error"].get<std::string>().find("no tokenizer.json"), std::string::npos);
}

TEST(Tokenize, EncodesAndDecodesLines) {
  int status = 0;
  const auto out = run_lines("tokenize --model " + testing::model_dir("stories260K"),
                             "{\"text\": \"Once upon a time\"}\n"
                             "{\"text\": \"Once upon a time\", \"add_special_tokens\": false}\n"
                             "{\"ids\": [1, 403, 407, 261, 378]}\n"
                             "{\"ids\": [1, 403, 407, 261, 378], \"skip_special_tokens\": true}\n"
                             "[1, 2]\n",
                             &status);
  EXPECT_EQ(status, 2);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0]["ids"], json({1, 403, 407, 261, 378}));
  EXPECT_EQ(out[1]["ids"], json({403, 407, 261, 378}));
  EXPECT_EQ(out[2]["text"], "<s> Once upon a time");
  EXPECT_EQ(out[3]["text"], "Once upon a time");
  EXPECT_TRUE(out[4].contains("error"));
}

}  // namespace
}  // namespace lorax
