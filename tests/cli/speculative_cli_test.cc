// Speculative decoding from the command line: `lorax generate` gives the same tokens with Medusa
// heads (--speculative-adapter) and with prompt lookup (--speculative-tokens) as without, on
// every case of llama-tiny (its adapters included, sampled requests too); Medusa heads on a
// Gemma model are refused saying why; `lorax serve --adapter-id` takes a Medusa directory as
// LoRAX does.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/generate_requests.h"
#include "support/fixtures.h"
#include "support/serve_process.h"

namespace lorax {
namespace {

using nlohmann::json;

struct Generated {
  int status = 0;
  std::string output;
  std::vector<json> lines;
};

Generated generate(const std::string& model, const std::string& flags) {
  testing::TempDir dir;
  std::string requests;
  int index = 0;
  for (const auto& c : testing::load_cases(model)) {
    json r = {{"id", index++},
              {"adapter", c.adapter ? json(*c.adapter) : nullptr},
              {"prompt_ids", c.input_ids},
              {"max_new_tokens", 40},
              {"ignore_eos", true},
              {"top_logprobs", 2}};
    if (index % 2 == 0) r.update({{"temperature", 1.0}, {"top_p", 0.9}, {"seed", index}});
    requests += r.dump() + "\n";
  }
  testing::write_file(dir.file("requests.jsonl"), requests);
  const auto result =
      testing::run_command(testing::lorax_binary() + " generate --quiet --threads 2 --model " +
                           testing::model_dir(model) + testing::adapter_flags(model) + flags +
                           " --requests " + dir.file("requests.jsonl") + " 2>&1");
  Generated g{result.status, result.output, {}};
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty() && line[0] == '{') g.lines.push_back(json::parse(line));
  return g;
}

std::string medusa(const std::string& name) {
  return testing::fixtures_dir() + "/medusa/" + name;
}

TEST(SpeculativeCli, DraftsChangeNoGeneratedToken) {
  const Generated plain = generate("llama-tiny", "");
  ASSERT_EQ(plain.status, 0) << plain.output.substr(0, 2000);
  ASSERT_FALSE(plain.lines.empty());
  for (const std::string& flags : {" --speculative-adapter " + medusa("llama-tiny-medusa-v2"),
                                   " --speculative-adapter " + medusa("llama-tiny-medusa-v1"),
                                   std::string(" --speculative-tokens 4")}) {
    const Generated got = generate("llama-tiny", flags);
    ASSERT_EQ(got.status, 0) << flags << "\n" << got.output.substr(0, 2000);
    ASSERT_EQ(got.lines.size(), plain.lines.size()) << flags;
    for (size_t i = 0; i < plain.lines.size(); ++i) {
      EXPECT_EQ(got.lines[i]["generated_ids"], plain.lines[i]["generated_ids"])
          << flags << " request " << i;
      const json& a = got.lines[i]["logprobs"];
      const json& b = plain.lines[i]["logprobs"];
      ASSERT_EQ(a.size(), b.size());
      for (size_t t = 0; t < a.size(); ++t)
        EXPECT_NEAR(a[t]["logprob"].get<double>(), b[t]["logprob"].get<double>(), 1e-4);
    }
  }
}

TEST(SpeculativeCli, MedusaHeadsThatCannotServeAreRefused) {
  const Generated gemma =
      generate("gemma-tiny", " --speculative-adapter " + medusa("llama-tiny-medusa-v2"));
  EXPECT_NE(gemma.status, 0);
  EXPECT_NE(gemma.output.find("cannot be used with a gemma model"), std::string::npos)
      << gemma.output;
}

// LoRAX's way of serving Medusa heads: the directory as --adapter-id. The story model has the
// width and vocabulary of llama-tiny, whose heads these are.
TEST(SpeculativeCli, ServeTakesMedusaHeadsAsTheAdapterId) {
  testing::TempDir dir;
  const std::string model = testing::model_dir("stories260K");
  testing::ServeProcess plain({"--model", model, "--threads", "1"}, dir.file("plain.log"));
  testing::ServeProcess heads(
      {"--model", model, "--threads", "1", "--adapter-id", medusa("llama-tiny-medusa-v2")},
      dir.file("heads.log"));
  ASSERT_GT(plain.port(), 0) << testing::read_file(dir.file("plain.log"));
  ASSERT_GT(heads.port(), 0) << testing::read_file(dir.file("heads.log"));
  const std::string body =
      R"({"inputs": "Once upon a time", "parameters": {"max_new_tokens": 48, "details": true}})";
  httplib::Client a("127.0.0.1", plain.port()), b("127.0.0.1", heads.port());
  const auto want = a.Post("/generate", body, "application/json");
  const auto got = b.Post("/generate", body, "application/json");
  ASSERT_TRUE(want && got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(json::parse(got->body)["generated_text"], json::parse(want->body)["generated_text"]);
  const auto metrics = b.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("lorax_adapter_speculative_drafts{adapter=\"base\"}"),
            std::string::npos);
  EXPECT_NE(testing::read_file(dir.file("heads.log")).find("loaded Medusa heads"),
            std::string::npos);
}

}  // namespace
}  // namespace lorax
