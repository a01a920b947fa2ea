// `lorax generate` end to end on every fixture model: prompt log-probabilities at every position
// within 1e-4 of the float64 reference, greedy continuations identical where the reference's
// top-2 margin exceeds 1e-3, and the same results whether prompts run together or one at a time.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/generate_requests.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

using nlohmann::json;

using testing::adapter_flags;
using testing::request_line;

std::vector<json> run_generate(const std::string& model, const std::string& requests) {
  testing::TempDir dir;
  testing::write_file(dir.file("requests.jsonl"), requests);
  const auto result =
      testing::run_command(testing::lorax_binary() + " generate --quiet --threads 2 --model " +
                           testing::model_dir(model) + adapter_flags(model) + " --requests " +
                           dir.file("requests.jsonl") + " 2>/dev/null");
  EXPECT_EQ(result.status, 0) << result.output.substr(0, 2000);
  std::vector<json> out;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) out.push_back(json::parse(line));
  return out;
}

void check_against_reference(const testing::FixtureCase& c, const json& result) {
  const auto ref = testing::log_softmax_rows(c.logits);
  const json& prompt = result["prompt_logprobs"];
  ASSERT_EQ(prompt.size(), c.input_ids.size());
  EXPECT_TRUE(prompt[0].is_null());
  for (size_t j = 1; j < c.input_ids.size(); ++j) {
    const auto& row = ref[j - 1];  // logits at position j-1 predict token j
    EXPECT_EQ(prompt[j]["id"].get<int>(), c.input_ids[j]);
    EXPECT_NEAR(prompt[j]["logprob"].get<double>(), row[size_t(c.input_ids[j])], 1e-4)
        << c.model << " " << c.adapter.value_or("base") << " prompt " << c.prompt << " position "
        << j;
    for (const auto& alt : prompt[j]["top"])
      EXPECT_NEAR(alt[1].get<double>(), row[alt[0].get<size_t>()], 1e-4);
    ASSERT_EQ(prompt[j]["top"].size(), 20u);
  }
  // the first generated token's distribution is the last prompt row
  const auto& last = ref.back();
  for (const auto& alt : result["logprobs"][0]["top"])
    EXPECT_NEAR(alt[1].get<double>(), last[alt[0].get<size_t>()], 1e-4);
  if (!c.greedy.empty() && c.greedy_margin > 1e-3) {
    EXPECT_EQ(result["generated_ids"].get<std::vector<int32_t>>(), c.greedy)
        << c.model << " " << c.adapter.value_or("base") << " prompt " << c.prompt;
  }
}

class GenerateFixtures : public ::testing::TestWithParam<std::string> {};

// Every case of the model, base and adapters, interleaved so neighbouring rows of each batch
// belong to different adapters: prompt-major order.
std::vector<testing::FixtureCase> interleaved_cases(const std::string& model) {
  auto cases = testing::load_cases(model);
  std::stable_sort(cases.begin(), cases.end(),
                   [](const auto& a, const auto& b) { return a.prompt < b.prompt; });
  return cases;
}

TEST_P(GenerateFixtures, AllPromptsInOneCallMatchReferenceAndSingleRuns) {
  const auto cases = interleaved_cases(GetParam());
  std::string all;
  for (size_t i = 0; i < cases.size(); ++i) all += request_line(cases[i], int(i));
  const auto together = run_generate(GetParam(), all);
  ASSERT_EQ(together.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(together[i]["id"].get<int>(), int(i));  // request order
    check_against_reference(cases[i], together[i]);
    const auto alone = run_generate(GetParam(), request_line(cases[i], int(i)));
    ASSERT_EQ(alone.size(), 1u);
    EXPECT_EQ(alone[0], together[i]) << "batching changed the result of prompt " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, GenerateFixtures,
                         ::testing::ValuesIn(testing::fixture_models()),
                         [](const auto& info) { return testing::model_param_name(info.param); });

TEST(GenerateStories, GreedyFromBosTellsOfLily) {
  // Reference case 0 is BOS + "Once upon a time" followed by its greedy continuation; from BOS
  // alone the model must write that whole sequence.
  const auto c = testing::base_cases("stories260K")[0];
  std::vector<int32_t> expected(c.input_ids.begin() + 1, c.input_ids.end());
  expected.insert(expected.end(), c.greedy.begin(), c.greedy.end());
  json r = {{"id", "bos"}, {"prompt_ids", {1}}, {"max_new_tokens", expected.size()}};
  const auto out = run_generate("stories260K", r.dump() + "\n");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["generated_ids"].get<std::vector<int32_t>>(), expected);
  EXPECT_EQ(out[0]["finish_reason"], "length");
  EXPECT_EQ(c.greedy_text.rfind(", there was a little girl named Lily", 0), 0u);
}

TEST(GenerateStories, EosFromGenerationConfigEndsTheSequence) {
  // The story checkpoint with a generation_config.json whose eos list also holds ',' (261), the
  // third token of the greedy story: generation must stop right there with finish "eos".
  testing::TempDir dir;
  for (const char* f : {"config.json", "model.safetensors"})
    std::filesystem::create_symlink(testing::model_dir("stories260K") + "/" + f, dir.file(f));
  testing::write_file(dir.file("generation_config.json"), "{\"eos_token_id\": [2, 261]}");
  testing::write_file(dir.file("r.jsonl"),
                      "{\"prompt_ids\": [1], \"max_new_tokens\": 50}\n"
                      "{\"prompt_ids\": [1], \"max_new_tokens\": 50, \"ignore_eos\": true}\n");
  const auto result = testing::run_command(testing::lorax_binary() + " generate --quiet --model " +
                                           dir.path() + " --requests " + dir.file("r.jsonl"));
  ASSERT_EQ(result.status, 0);
  std::istringstream lines(result.output);
  std::string line;
  std::getline(lines, line);
  const json stopped = json::parse(line);
  EXPECT_EQ(stopped["generated_ids"].get<std::vector<int32_t>>(),
            (std::vector<int32_t>{403, 407, 261}));
  EXPECT_EQ(stopped["finish_reason"], "eos");
  std::getline(lines, line);
  const json ignored = json::parse(line);
  EXPECT_EQ(ignored["generated_ids"].size(), 50u);
  EXPECT_EQ(ignored["finish_reason"], "length");
}

TEST(GenerateRequests, BadLinesGetErrorsInPlaceAndOthersRun) {
  testing::TempDir dir;
  testing::write_file(dir.file("r.jsonl"),
                      "{\"id\": \"ok\", \"prompt_ids\": [1], \"max_new_tokens\": 3}\n"
                      "not json\n"
                      "{\"id\": \"range\", \"prompt_ids\": [99999]}\n"
                      "{\"id\": \"typo\", \"prompt_ids\": [1], \"max_tokens\": 3}\n"
                      "{\"id\": \"neg\", \"prompt_ids\": [1], \"top_logprobs\": 50}\n");
  const auto result = testing::run_command(testing::lorax_binary() + " generate --quiet --model " +
                                           testing::model_dir("stories260K") + " --requests " +
                                           dir.file("r.jsonl") + " 2>/dev/null");
  EXPECT_EQ(result.status, 2);
  std::istringstream lines(result.output);
  std::vector<json> out;
  std::string line;
  while (std::getline(lines, line)) out.push_back(json::parse(line));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0]["generated_ids"].size(), 3u);
  EXPECT_NE(out[1]["error"].get<std::string>().find("malformed JSON"), std::string::npos);
  EXPECT_NE(out[2]["error"].get<std::string>().find("outside the vocabulary"), std::string::npos);
  EXPECT_NE(out[3]["error"].get<std::string>().find("unknown field \"max_tokens\""),
            std::string::npos);
  EXPECT_NE(out[4]["error"].get<std::string>().find("top_logprobs"), std::string::npos);
}

}  // namespace
}  // namespace lorax
