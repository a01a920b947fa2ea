// `lorax bench` prints its tables (the figures themselves are measurements, kept in docs/perf).
#include <gtest/gtest.h>

#include "support/fixtures.h"

namespace lorax {
namespace {

TEST(BenchCommand, PrintsBaseAndAdapterRowsWithRatios) {
  const auto r = testing::run_command(testing::lorax_binary() +
                                      " bench --shape tiny --threads 1 --prompt-tokens 8 "
                                      "--decode-tokens 4 --batch 4 --adapters 0,2 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("| workload "), std::string::npos);
  EXPECT_NE(r.output.find("| decode, batch 4, 0 adapters "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| decode, batch 4, 2 adapters "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| prefill 8 tokens, batch 4, 2 adapters "), std::string::npos);
  EXPECT_NE(r.output.find("|   decode vs base in this run, batch 4, 2 adapters "),
            std::string::npos);
  EXPECT_NE(r.output.find("tok/s (bytes)"), std::string::npos);
  EXPECT_NE(r.output.find("read bandwidth"), std::string::npos);
}

// Every request of both loads completes; the table has both rows and the ratios line.
TEST(BenchCommand, ServingLoadRunsWithAndWithoutAdapters) {
  const auto r = testing::run_command(
      testing::lorax_binary() +
      " bench --shape tiny --threads 1 --serving --serving-adapters 20 --streams 6 "
      "--requests 15 --prompt-tokens 12 --decode-tokens 5 --max-active-adapters 4 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("| no adapters | 15 |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| adapters, Zipf | 15 |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("with adapters against without: throughput "), std::string::npos);
}

TEST(BenchCommand, MeasuresACheckpointAndTokenizers) {
  const std::string model = testing::model_dir("stories260K");
  auto r = testing::run_command(testing::lorax_binary() + " bench --model " + model +
                                " --threads 1 --prompt-tokens 8 --decode-tokens 4 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("| decode, batch 1, 0 adapters "), std::string::npos) << r.output;
  r = testing::run_command(testing::lorax_binary() + " bench --tokenizer " + model +
                           "/tokenizer.json 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("| encode MB/s |"), std::string::npos);
  EXPECT_NE(r.output.find("tokenizer.json | 512 |"), std::string::npos) << r.output;
  r = testing::run_command(testing::lorax_binary() + " bench --shape nope 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown bench shape 'nope'"), std::string::npos) << r.output;
  r = testing::run_command(testing::lorax_binary() +
                           " bench --shape tiny --max-itl-factor 0.5 2>&1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--max-itl-factor: must be 0 (off) or a number above 1"),
            std::string::npos)
      << r.output;
}

// The speculation rows: drafts of known accuracy leave the outputs as they were, and prompt
// lookup on the story model's prompts with its adapters accepts what the engine test measured.
TEST(BenchCommand, SpeculationRowsKeepOutputsAndReportAcceptance) {
  const std::string model = testing::model_dir("stories260K");
  const auto r = testing::run_command(
      testing::lorax_binary() + " bench --model " + model +
      " --threads 1 --speculation --batch 1,3 --prompt-tokens 16 --decode-tokens 128 "
      "--prompt 'Once upon a time' --prompt 'Lily went to the park' --prompt 'The little dog' "
      "--prompt 'One day, Tom saw a big' --adapter lora-ben=" +
      model + "/adapters/lora-ben --adapter lora-beach=" + model +
      "/adapters/lora-beach 2>&1");  // a failure shows its reason
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* row :
       {"| batch 1, plain decode ", "| batch 3, 1 + 4 tokens, drafts right with p = 0.8 "})
    EXPECT_NE(r.output.find(row), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("NO |"), std::string::npos) << r.output;  // every output the same
  const size_t lookup = r.output.find("| prompt lookup, N = 4 ");
  ASSERT_NE(lookup, std::string::npos) << r.output;
  // | step ms | vs plain | acc/step | ...: accepted drafts per decode step >= 0.3.
  std::vector<std::string> cells;
  size_t at = lookup + 1;
  for (int i = 0; i < 4; ++i) {
    const size_t bar = r.output.find('|', at);
    cells.push_back(r.output.substr(at, bar - at));
    at = bar + 1;
  }
  EXPECT_GE(std::stod(cells[3]), 0.3) << r.output;
}

// Two schemas: one that passes (its invalid instance rejected), one refused naming `not`.
TEST(BenchCommand, MaskBenchCountsPassingSchemasAndRefusals) {
  testing::TempDir dir;
  testing::write_file(
      dir.file("mb.jsonl"),
      R"({"name": "ok", "schema": {"type": "object", "properties": {"n": {"type": "integer",)"
      R"( "maximum": 9}}, "required": ["n"]}, "tests": [{"valid": true, "data": {"n": 7}},)"
      R"( {"valid": false, "data": {"n": 10}}, {"valid": false, "data": {}}]})"
      "\n"
      R"({"name": "refused", "schema": {"not": {"type": "string"}}, "tests": []})"
      "\n");
  const std::string tokenizer = testing::fixtures_dir() + "/tokenizers/llama3/tokenizer.json";
  auto r =
      testing::run_command(testing::lorax_binary() + " bench --maskbench " + dir.file("mb.jsonl") +
                           " --maskbench-tokenizer " + tokenizer + " 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(R"("invalid_ok":2,"invalid_total":2)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("valid_ok":1,"valid_total":1)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("compile_errors_by_keyword":{"not":1})"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(R"("passing":1,)"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace lorax
