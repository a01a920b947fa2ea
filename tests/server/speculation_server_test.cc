// Speculative decoding behind the APIs: the same answers with prompt-lookup drafts as without
// (texts, tokens, logprobs, stop sequences, streams), LoRAX's skipped flags and skipped_tokens
// counting the accepted drafts, the per-request switch, and the acceptance in /metrics.
#include <gtest/gtest.h>

#include <filesystem>

#include "server_fixture.h"
#include "support/fixtures.h"

namespace lorax::testing {
namespace {

Json story(int64_t max_new_tokens, Json extra = Json::object()) {
  Json parameters = {{"max_new_tokens", max_new_tokens}, {"details", true}};
  for (const auto& [key, value] : extra.items()) parameters[key] = value;
  return {{"inputs", "Once upon a time"}, {"parameters", parameters}};
}

int64_t skipped_in(const Json& tokens) {
  int64_t n = 0;
  for (const Json& t : tokens) n += t["skipped"].get<bool>() ? 1 : 0;
  return n;
}

class SpeculationServer : public ::testing::Test {
 protected:
  static TestServerOptions speculating() {
    TestServerOptions o;
    o.speculative_tokens = 4;
    return o;
  }
  TestServer plain;
  TestServer fast{speculating()};
};

TEST_F(SpeculationServer, AnswersAreTheSameAndSkippedTokensCountTheDrafts) {
  for (const Json& extra : {Json::object(), Json{{"adapter_id", "lora-ben"}},
                            Json{{"do_sample", true}, {"seed", 5}, {"top_p", 0.9}}}) {
    const Reply want = plain.post("/generate", story(128, extra));
    const Reply got = fast.post("/generate", story(128, extra));
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.json["generated_text"], want.json["generated_text"]) << extra.dump();
    const Json& tokens = got.json["details"]["tokens"];
    ASSERT_EQ(tokens.size(), want.json["details"]["tokens"].size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      EXPECT_EQ(tokens[i]["id"], want.json["details"]["tokens"][i]["id"]);
      EXPECT_NEAR(tokens[i]["logprob"].get<double>(),
                  want.json["details"]["tokens"][i]["logprob"].get<double>(), 1e-4);
    }
    EXPECT_EQ(got.json["details"]["skipped_tokens"], skipped_in(tokens));
    EXPECT_GT(got.json["details"]["skipped_tokens"].get<int64_t>(), 0) << extra.dump();
    EXPECT_EQ(want.json["details"]["skipped_tokens"], 0);
  }
}

// LoRAX's per-request Medusa adapters: version 2 heads as many as the server's serve their
// request (the story model has llama-tiny's width and vocabulary); others get a 422 saying why.
TEST(SpeculationServerAdapters, MedusaAdapterIdsThatFitServeAndOthersAreRefused) {
  namespace fs = std::filesystem;
  TempDir root;
  const std::string medusa = fixtures_dir() + "/medusa/";
  for (const char* name : {"llama-tiny-medusa-v2", "llama-tiny-medusa-v1"}) {
    fs::create_directories(root.file(name));
    for (const char* file : {"config.json", "medusa_lm_head.safetensors"})
      fs::copy_file(medusa + name + "/" + file, root.file(name) + "/" + file);
  }
  TestServerOptions o;
  o.speculative_tokens = 3;
  o.speculative_heads = medusa + "llama-tiny-medusa-v2";
  o.adapter_root = root.path();
  TestServer heads(o);
  TestServerOptions no_heads_options;
  no_heads_options.adapter_root = root.path();
  TestServer no_heads(no_heads_options);
  TestServer plain;
  auto request = [](const char* adapter) {
    return story(32, {{"adapter_id", adapter}, {"adapter_source", "local"}});
  };
  const Reply want = plain.post("/generate", story(32));
  const Reply got = heads.post("/generate", request("llama-tiny-medusa-v2"));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json["generated_text"], want.json["generated_text"]);
  const Reply v1 = heads.post("/generate", request("llama-tiny-medusa-v1"));
  EXPECT_EQ(v1.status, 422) << v1.body;
  EXPECT_NE(v1.body.find("only version 2 Medusa adapters"), std::string::npos) << v1.body;
  const Reply none = no_heads.post("/generate", request("llama-tiny-medusa-v2"));
  EXPECT_EQ(none.status, 422) << none.body;
  EXPECT_NE(none.body.find("Medusa adapters need the server started with Medusa heads"),
            std::string::npos)
      << none.body;
}

TEST_F(SpeculationServer, StreamsAndStopSequencesEndWhereTheyWould) {
  // A stop sequence from the middle of the greedy story: the answer ends at it, although the
  // step that produced it may have produced more tokens after it.
  const Reply full = plain.post("/generate", story(128));
  const std::string text = full.json["generated_text"];
  const std::string stop = text.substr(text.size() / 2, 6);
  for (const bool stream : {false, true}) {
    Json body = story(128, {{"stop", Json::array({stop})}});
    body["stream"] = stream;
    const Reply want = plain.post(stream ? "/generate_stream" : "/generate", body);
    const Reply got = fast.post(stream ? "/generate_stream" : "/generate", body);
    ASSERT_EQ(got.status, 200) << got.body;
    if (!stream) {
      EXPECT_EQ(got.json["generated_text"], want.json["generated_text"]);
      EXPECT_EQ(got.json["details"]["finish_reason"], "stop_sequence");
      continue;
    }
    std::string want_text, got_text;
    int64_t skipped = 0;
    for (const std::string& payload : sse_payloads(want.body))
      want_text += Json::parse(payload)["token"]["text"].get<std::string>();
    for (const std::string& payload : sse_payloads(got.body)) {
      const Json e = Json::parse(payload);
      got_text += e["token"]["text"].get<std::string>();
      skipped += e["token"]["skipped"].get<bool>() ? 1 : 0;
    }
    EXPECT_EQ(got_text, want_text);
    EXPECT_GT(skipped, 0);
  }
}

TEST_F(SpeculationServer, ARequestMayTurnItOffAndMetricsShowTheAcceptance) {
  const Reply off = fast.post("/generate", story(96, {{"speculate", false}}));
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(off.json["details"]["skipped_tokens"], 0);
  EXPECT_EQ(fast.metric("lorax_adapter_speculative_drafts{adapter=\"base\"}"), std::nullopt);
  const Reply bad = fast.post("/generate", story(8, {{"speculate", "yes"}}));
  EXPECT_EQ(bad.status, 422) << bad.body;
  const Reply chat = fast.post("/v1/completions", {{"model", "stories260K"},
                                                   {"prompt", "Once upon a time"},
                                                   {"max_tokens", 8},
                                                   {"speculate", false}});
  EXPECT_EQ(chat.status, 200) << chat.body;

  const Reply on = fast.post("/generate", story(96));
  ASSERT_EQ(on.status, 200) << on.body;
  const int64_t skipped = on.json["details"]["skipped_tokens"];
  const auto drafts = fast.metric("lorax_adapter_speculative_drafts{adapter=\"base\"}");
  const auto accepted = fast.metric("lorax_adapter_speculative_accepted{adapter=\"base\"}");
  const auto steps = fast.metric("lorax_adapter_speculative_steps{adapter=\"base\"}");
  ASSERT_TRUE(drafts && accepted && steps);
  EXPECT_EQ(*accepted, double(skipped));
  EXPECT_GE(*drafts, *accepted);
  EXPECT_GT(*steps, 0);
  EXPECT_NEAR(*fast.metric("lorax_adapter_speculative_acceptance_rate{adapter=\"base\"}"),
              *accepted / *drafts, 1e-9);
  EXPECT_EQ(fast.metric("lorax_request_skipped_tokens_sum"), double(skipped));
}

}  // namespace
}  // namespace lorax::testing
