// The LoRAX REST API end to end: /generate and /generate_stream against the fixture's greedy
// continuations, details, stop sequences, seeds, truncation, /tokenize, /info and /health.
#include <gtest/gtest.h>

#include "server_fixture.h"
#include "support/fixtures.h"

namespace lorax::testing {
namespace {

// The fixture's "Once upon a time" case for an adapter ("" = base).
FixtureCase story_case(const std::string& adapter) {
  for (auto& c : load_cases("stories260K"))
    if (c.prompt == 0 && c.adapter.value_or("") == adapter) return c;
  ADD_FAILURE() << "no fixture case for " << adapter;
  return {};
}

std::vector<int32_t> detail_ids(const Json& body) {
  std::vector<int32_t> ids;
  for (const Json& t : body["details"]["tokens"]) ids.push_back(t["id"].get<int32_t>());
  return ids;
}

Json generate_body(const std::string& adapter, int64_t max_new_tokens) {
  Json body = {{"inputs", "Once upon a time"},
               {"parameters", {{"max_new_tokens", max_new_tokens}, {"details", true}}}};
  if (!adapter.empty()) body["parameters"]["adapter_id"] = adapter;
  return body;
}

class LoraxApiTest : public ::testing::Test {
 protected:
  TestServer server;
};

TEST_F(LoraxApiTest, GreedyGenerateMatchesTheFixtureForBaseAndAdapters) {
  for (const std::string adapter : {"", "lora-ben", "lora-beach"}) {
    const FixtureCase c = story_case(adapter);
    ASSERT_EQ(server.text->encode_prompt(c.prompt_text), c.input_ids);
    const Reply reply = server.post("/generate", generate_body(adapter, int64_t(c.greedy.size())));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(detail_ids(reply.json), c.greedy) << adapter;
    EXPECT_EQ(reply.json["details"]["finish_reason"], "length");
    EXPECT_EQ(reply.json["details"]["generated_tokens"], c.greedy.size());
    EXPECT_EQ(reply.json["details"]["prompt_tokens"], c.input_ids.size());
    EXPECT_TRUE(reply.json["details"]["seed"].is_null());  // greedy
    const std::string text = reply.json["generated_text"];
    EXPECT_EQ(text, server.text->decode(c.greedy));
    if (adapter.empty()) {
      EXPECT_NE(text.find("Lily"), std::string::npos) << text;
    } else if (adapter == "lora-ben") {
      EXPECT_NE(text.find("Ben"), std::string::npos) << text;
    }
  }
}

TEST_F(LoraxApiTest, DetailsCarryPrefillAlternativesAndFullText) {
  Json body = generate_body("", 4);
  body["parameters"]["decoder_input_details"] = true;
  body["parameters"]["return_k_alternatives"] = 3;
  body["parameters"]["return_full_text"] = true;
  const Reply reply = server.post("/generate", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const Json& details = reply.json["details"];
  const FixtureCase c = story_case("");
  ASSERT_EQ(details["prefill"].size(), c.input_ids.size());
  EXPECT_TRUE(details["prefill"][0]["logprob"].is_null());
  EXPECT_EQ(details["prefill"][0]["text"], "<s>");
  const auto ref = log_softmax_rows(c.logits);
  for (size_t j = 1; j < c.input_ids.size(); ++j)
    EXPECT_NEAR(details["prefill"][j]["logprob"].get<double>(), ref[j - 1][size_t(c.input_ids[j])],
                1e-4);
  for (const Json& token : details["tokens"]) {
    ASSERT_EQ(token["alternative_tokens"].size(), 3u);
    EXPECT_EQ(token["alternative_tokens"][0]["id"], token["id"]);  // greedy: the best one
    EXPECT_FALSE(token["special"].get<bool>());
  }
  const std::string text = reply.json["generated_text"];
  EXPECT_EQ(text.rfind("Once upon a time", 0), 0u) << text;
}

TEST_F(LoraxApiTest, StreamConcatenatesToTheNonStreamingResult) {
  for (const std::string adapter : {"", "lora-ben"}) {
    const Reply plain = server.post("/generate", generate_body(adapter, 30));
    const Reply stream = server.post("/generate_stream", generate_body(adapter, 30));
    ASSERT_EQ(stream.status, 200) << stream.body;
    EXPECT_EQ(stream.content_type, "text/event-stream");
    const auto events = sse_payloads(stream.body);
    ASSERT_EQ(events.size(), 30u);
    std::string text;
    std::vector<int32_t> ids;
    for (size_t i = 0; i < events.size(); ++i) {
      const Json event = Json::parse(events[i]);
      ids.push_back(event["token"]["id"]);
      text += event["token"]["text"].get<std::string>();
      const bool last = i + 1 == events.size();
      EXPECT_EQ(event["generated_text"].is_null(), !last);
      if (last) {
        EXPECT_EQ(event["generated_text"], plain.json["generated_text"]);
        EXPECT_EQ(event["details"]["finish_reason"], "length");
        EXPECT_EQ(event["details"]["generated_tokens"], 30);
      }
    }
    EXPECT_EQ(ids, detail_ids(plain.json));
    EXPECT_EQ(text, plain.json["generated_text"]);
  }
}

TEST_F(LoraxApiTest, StopSequencesCutAcrossTokenBoundaries) {
  // Greedy base text: ", there was a little girl named Lily. She loved to play ..."
  Json body = generate_body("", 40);
  body["parameters"]["stop"] = {"irl nam", "zzz"};  // spans "▁girl" and "▁named"
  const Reply reply = server.post("/generate", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json["generated_text"], ", there was a little g");
  EXPECT_EQ(reply.json["details"]["finish_reason"], "stop_sequence");
  EXPECT_LT(reply.json["details"]["generated_tokens"].get<int>(), 40);

  const Reply stream = server.post("/generate_stream", body);
  const auto events = sse_payloads(stream.body);
  ASSERT_FALSE(events.empty());
  const Json last = Json::parse(events.back());
  EXPECT_EQ(last["generated_text"], ", there was a little g");
  EXPECT_EQ(events.size(), reply.json["details"]["generated_tokens"].get<size_t>());
}

TEST_F(LoraxApiTest, SeedsMakeSamplingReproducible) {
  auto sample = [&](uint64_t seed) {
    Json body = generate_body("lora-beach", 30);
    body["parameters"]["do_sample"] = true;
    body["parameters"]["temperature"] = 1.5;
    body["parameters"]["seed"] = seed;
    const Reply reply = server.post("/generate", body);
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.json["details"]["seed"], seed);
    return detail_ids(reply.json);
  };
  EXPECT_EQ(sample(42), sample(42));
  EXPECT_NE(sample(42), sample(7));
  // Without a seed the server picks one and reports it; replaying it reproduces the output.
  Json body = generate_body("", 20);
  body["parameters"]["do_sample"] = true;
  const Reply first = server.post("/generate", body);
  ASSERT_TRUE(first.json["details"]["seed"].is_number_unsigned()) << first.body;
  body["parameters"]["seed"] = first.json["details"]["seed"];
  EXPECT_EQ(detail_ids(server.post("/generate", body).json), detail_ids(first.json));
}

TEST_F(LoraxApiTest, TruncateKeepsTheLastPromptTokens) {
  const FixtureCase c = story_case("");
  Json body = generate_body("", 5);
  body["inputs"] = "The little dog. Once upon a time";
  body["parameters"]["truncate"] = int64_t(c.input_ids.size()) - 1;  // "Once upon a time" sans BOS
  const Reply reply = server.post("/generate", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json["details"]["prompt_tokens"], c.input_ids.size() - 1);
  std::vector<int32_t> kept(c.input_ids.begin() + 1, c.input_ids.end());
  EXPECT_EQ(detail_ids(reply.json), server.engine_greedy(kept, "", 5));
}

TEST_F(LoraxApiTest, TokenizeInfoHealth) {
  const Reply tokens = server.post("/tokenize", {{"inputs", "Once upon a time"}});
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  const FixtureCase c = story_case("");
  ASSERT_EQ(tokens.json.size(), c.input_ids.size());
  std::string joined;
  for (size_t i = 0; i < c.input_ids.size(); ++i) {
    EXPECT_EQ(tokens.json[i]["id"], c.input_ids[i]);
    // LoRAX shows vocabulary strings ("\u2581upon"), not decoded text
    EXPECT_EQ(tokens.json[i]["text"], server.text->tokenizer().id_to_token(c.input_ids[i]));
    if (i > 0) joined += tokens.json[i]["text"].get<std::string>();
  }
  EXPECT_EQ(joined, "\u2581Once\u2581upon\u2581a\u2581time");
  EXPECT_EQ(tokens.json.back()["stop"], std::string("Once upon a time").size());
  // offsets count characters, not bytes
  const Reply accented = server.post("/tokenize", {{"inputs", "\u00e9t\u00e9 time"}});
  ASSERT_EQ(accented.status, 200) << accented.body;
  EXPECT_EQ(accented.json.back()["stop"], 8);

  const Reply info = server.get("/info");
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(info.json["model_id"], "stories260K");
  EXPECT_EQ(info.json["max_input_length"], 256);
  EXPECT_EQ(info.json["max_total_tokens"], 512);
  EXPECT_EQ(info.json["max_concurrent_requests"], 64);
  EXPECT_EQ(info.json["random_weights"], false);
  EXPECT_EQ(info.json["adapters"], Json({"lora-beach", "lora-ben"}));
  EXPECT_TRUE(info.json["version"].is_string());
  EXPECT_EQ(server.get("/health").status, 200);
}

}  // namespace
}  // namespace lorax::testing
