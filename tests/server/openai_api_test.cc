// The OpenAI API end to end: completions logprobs against the fixture's reference logits, chat
// through the chat template, streams that concatenate to the plain answers, /v1/models, and
// concurrent greedy requests over every endpoint and adapter getting what each gets alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "server_fixture.h"
#include "support/fixtures.h"

namespace lorax::testing {
namespace {

FixtureCase story_case(const std::string& adapter) {
  for (auto& c : load_cases("stories260K"))
    if (c.prompt == 0 && c.adapter.value_or("") == adapter) return c;
  ADD_FAILURE() << "no fixture case for " << adapter;
  return {};
}

int32_t id_of(const std::string& name) {  // "token_id:123"
  EXPECT_EQ(name.rfind("token_id:", 0), 0u) << name;
  return std::stoi(name.substr(9));
}

Json chat_messages() {
  return Json::array({{{"role", "user"}, {"content", "Once upon a time"}}});
}

class OpenAiApiTest : public ::testing::Test {
 protected:
  TestServer server;
};

TEST_F(OpenAiApiTest, CompletionLogprobsMatchTheReference) {
  const FixtureCase c = story_case("");
  const auto ref = log_softmax_rows(c.logits);
  const Reply reply = server.post("/v1/completions", {{"model", "stories260K"},
                                                      {"prompt", c.input_ids},
                                                      {"max_tokens", 4},
                                                      {"temperature", 0},
                                                      {"echo", true},
                                                      {"logprobs", 5},
                                                      {"return_tokens_as_token_ids", true}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const Json& lp = reply.json["choices"][0]["logprobs"];
  const size_t n = c.input_ids.size();
  ASSERT_EQ(lp["tokens"].size(), n + 4);
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  // Position j's token is scored by reference row j - 1 (prompt) ...
  for (size_t j = 1; j <= n; ++j) {
    const auto& row = ref[j - 1];
    const int32_t id = id_of(lp["tokens"][j]);
    EXPECT_EQ(id, j < n ? c.input_ids[j] : c.greedy[0]);
    EXPECT_NEAR(lp["token_logprobs"][j].get<double>(), row[size_t(id)], 1e-4) << j;
    std::vector<size_t> order(row.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                      [&](size_t a, size_t b) { return row[a] > row[b]; });
    for (size_t k = 0; k < 5; ++k) {
      const std::string key = "token_id:" + std::to_string(order[k]);
      ASSERT_TRUE(lp["top_logprobs"][j].contains(key)) << key << " at " << j;
      EXPECT_NEAR(lp["top_logprobs"][j][key].get<double>(), row[order[k]], 1e-4);
    }
  }
  // ... and later generated tokens agree with the prompt logprobs of a longer prompt.
  std::vector<int32_t> longer = c.input_ids;
  longer.insert(longer.end(), c.greedy.begin(), c.greedy.begin() + 3);
  const Reply check = server.post("/v1/completions", {{"prompt", longer},
                                                      {"max_tokens", 0},
                                                      {"echo", true},
                                                      {"logprobs", 1},
                                                      {"return_tokens_as_token_ids", true}});
  ASSERT_EQ(check.status, 200) << check.body;
  for (size_t j = n; j < n + 3; ++j)
    EXPECT_NEAR(check.json["choices"][0]["logprobs"]["token_logprobs"][j].get<double>(),
                lp["token_logprobs"][j].get<double>(), 1e-4);
  EXPECT_EQ(reply.json["usage"]["prompt_tokens"], n);
  EXPECT_EQ(reply.json["usage"]["completion_tokens"], 4);
  EXPECT_EQ(reply.json["usage"]["total_tokens"], n + 4);
  EXPECT_EQ(reply.json["object"], "text_completion");
  EXPECT_EQ(reply.json["choices"][0]["finish_reason"], "length");
}

TEST_F(OpenAiApiTest, EchoedTextAndOffsets) {
  const Reply reply = server.post("/v1/completions", {{"prompt", "Once upon a time"},
                                                      {"max_tokens", 6},
                                                      {"temperature", 0},
                                                      {"echo", true},
                                                      {"logprobs", 2}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::string text = reply.json["choices"][0]["text"];
  EXPECT_EQ(text.rfind("Once upon a time, there", 0), 0u) << text;
  const Json& lp = reply.json["choices"][0]["logprobs"];
  for (size_t i = 0; i < lp["tokens"].size(); ++i) {
    const std::string token = lp["tokens"][i];
    const size_t offset = lp["text_offset"][i];
    EXPECT_EQ(text.substr(offset, token.size()), token) << i;
  }
}

TEST_F(OpenAiApiTest, ChatUsesTheTemplateAndReportsLogprobs) {
  const std::vector<int32_t> prompt = server.text->encode_chat(chat_messages(), true);
  const std::vector<int32_t> expected = server.engine_greedy(prompt, "lora-ben", 12);
  const Reply reply = server.post("/v1/chat/completions", {{"model", "lora-ben"},
                                                           {"messages", chat_messages()},
                                                           {"max_tokens", 12},
                                                           {"temperature", 0},
                                                           {"logprobs", true},
                                                           {"top_logprobs", 2}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json["object"], "chat.completion");
  EXPECT_EQ(reply.json["model"], "lora-ben");
  const Json& choice = reply.json["choices"][0];
  EXPECT_EQ(choice["message"]["role"], "assistant");
  EXPECT_EQ(choice["message"]["content"], server.text->decode(expected));
  ASSERT_EQ(choice["logprobs"]["content"].size(), 12u);
  std::string joined;
  for (const Json& entry : choice["logprobs"]["content"]) {
    joined += entry["token"].get<std::string>();
    EXPECT_EQ(entry["top_logprobs"].size(), 2u);
    EXPECT_EQ(entry["bytes"].size(), entry["token"].get<std::string>().size());
  }
  EXPECT_EQ(joined, choice["message"]["content"]);
  EXPECT_EQ(reply.json["usage"]["prompt_tokens"], prompt.size());
}

// logit_bias on both OpenAI routes: +100 forces a token, -100 bans the greedy choice, greedy and
// seeded alike; a token id outside the vocabulary is a 400 naming the field.
TEST_F(OpenAiApiTest, LogitBiasForcesAndBansTokens) {
  const FixtureCase c = story_case("");
  auto completion_ids = [&](const Json& bias, double temperature) {
    Json body = {{"prompt", c.input_ids},
                 {"max_tokens", 4},
                 {"temperature", temperature},
                 {"seed", 5},
                 {"logprobs", 0},
                 {"logit_bias", bias},
                 {"return_tokens_as_token_ids", true}};
    const Reply reply = server.post("/v1/completions", body);
    EXPECT_EQ(reply.status, 200) << reply.body;
    std::vector<int32_t> ids;
    for (const Json& t : reply.json["choices"][0]["logprobs"]["tokens"]) ids.push_back(id_of(t));
    return ids;
  };
  const std::vector<int32_t> greedy = completion_ids(Json::object(), 0);
  ASSERT_EQ(greedy.size(), 4u);
  EXPECT_EQ(greedy[0], c.greedy[0]);
  const int32_t forced = 300;
  for (double temperature : {0.0, 1.0}) {
    EXPECT_EQ(completion_ids({{std::to_string(forced), 100}}, temperature),
              std::vector<int32_t>(4, forced));
    const std::string banned = std::to_string(greedy[0]);
    for (int32_t id : completion_ids({{banned, -100}}, temperature)) EXPECT_NE(id, greedy[0]);
  }
  // Chat: the forced token is the whole answer.
  const Reply chat =
      server.post("/v1/chat/completions", {{"messages", chat_messages()},
                                           {"max_tokens", 3},
                                           {"temperature", 0},
                                           {"logprobs", true},
                                           {"return_tokens_as_token_ids", true},
                                           {"logit_bias", {{std::to_string(forced), 100}}}});
  ASSERT_EQ(chat.status, 200) << chat.body;
  const Json& content = chat.json["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 3u) << chat.body;
  for (const Json& entry : content) EXPECT_EQ(id_of(entry["token"]), forced);
  // Outside the vocabulary: refused before anything runs, in the OpenAI error shape.
  const int64_t vocab = server.model->config().vocab_size;
  const Reply bad = server.post("/v1/completions",
                                {{"prompt", "Once"}, {"logit_bias", {{std::to_string(vocab), 5}}}});
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json["error"]["param"], "logit_bias");
  EXPECT_NE(bad.json["error"]["message"].get<std::string>().find(
                "token id " + std::to_string(vocab) + " is outside the vocabulary"),
            std::string::npos)
      << bad.body;
  const Reply range = server.post("/v1/chat/completions",
                                  {{"messages", chat_messages()}, {"logit_bias", {{"5", -101}}}});
  ASSERT_EQ(range.status, 400) << range.body;
  EXPECT_EQ(range.json["error"]["param"], "logit_bias");
}

// The sequences of one request (OpenAI's n and best_of, LoRAX's best_of) share the prompt's KV
// blocks: the first computes the prompt, the others only what follows its last full block.
TEST_F(OpenAiApiTest, SequencesOfOneRequestComputeThePromptOnce) {
  const int64_t block = server.service->options().engine.kv.block_size;
  auto computed_for = [&](const std::string& text, int sequences, auto&& send) {
    const int64_t len = int64_t(server.text->encode_prompt(text).size());
    ASSERT_GT(len - 1, block) << "the prompt must fill a block";
    const int64_t shared = (len - 1) / block * block;
    const EngineStats before = server.service->stats().engine;
    send();
    const EngineStats after = server.service->stats().engine;
    EXPECT_EQ(after.prompt_tokens - before.prompt_tokens, len + (sequences - 1) * (len - shared));
    EXPECT_EQ(after.prefix_cache_hit_tokens - before.prefix_cache_hit_tokens,
              (sequences - 1) * shared);
  };
  const std::string story =
      "Once upon a time there was a little girl named Lily. She liked to play in the park with "
      "her friends, and one day she found a shiny red ball under a big tree.";
  computed_for(story, 3, [&] {
    const Reply reply =
        server.post("/v1/completions",
                    {{"prompt", story}, {"max_tokens", 5}, {"n", 2}, {"best_of", 3}, {"seed", 9}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.json["choices"].size(), 2u);
  });
  const std::string other = "Tom had a small dog called Max. " + story;
  computed_for(other, 2, [&] {
    const Reply reply = server.post(
        "/generate",
        {{"inputs", other},
         {"parameters",
          {{"max_new_tokens", 5}, {"best_of", 2}, {"do_sample", true}, {"details", true}}}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.json["details"]["best_of_sequences"].size(), 1u);
  });
}

TEST_F(OpenAiApiTest, UsageReportsPromptTokensReadFromThePrefixCache) {
  std::vector<int32_t> prompt;
  const FixtureCase c = story_case("");
  while (prompt.size() < 40) prompt.insert(prompt.end(), c.input_ids.begin(), c.input_ids.end());
  const Json body = {
      {"model", "stories260K"}, {"prompt", prompt}, {"max_tokens", 4}, {"temperature", 0}};
  const Reply first = server.post("/v1/completions", body);
  const Reply again = server.post("/v1/completions", body);
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(first.json["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  EXPECT_GT(again.json["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), 0);
  EXPECT_EQ(again.json["choices"][0]["text"], first.json["choices"][0]["text"]);
}

TEST_F(OpenAiApiTest, StreamsConcatenateToThePlainAnswer) {
  Json completion = {{"model", "lora-beach"},
                     {"prompt", "Once upon a time"},
                     {"max_tokens", 25},
                     {"temperature", 0},
                     {"stop", " ball"}};
  const Reply plain = server.post("/v1/completions", completion);
  ASSERT_EQ(plain.status, 200) << plain.body;
  completion["stream"] = true;
  completion["stream_options"] = {{"include_usage", true}};
  const Reply stream = server.post("/v1/completions", completion);
  ASSERT_EQ(stream.status, 200) << stream.body;
  auto events = sse_payloads(stream.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  const Json usage = Json::parse(events[events.size() - 2]);
  EXPECT_EQ(usage["usage"], plain.json["usage"]);
  EXPECT_TRUE(usage["choices"].empty());
  std::string text;
  Json finish;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    const Json chunk = Json::parse(events[i]);
    EXPECT_EQ(chunk["id"], Json::parse(events[0])["id"]);
    text += chunk["choices"][0]["text"].get<std::string>();
    finish = chunk["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, plain.json["choices"][0]["text"]);
  EXPECT_EQ(finish, plain.json["choices"][0]["finish_reason"]);

  Json chat = {{"messages", chat_messages()}, {"max_tokens", 20}, {"temperature", 0}};
  const Reply chat_plain = server.post("/v1/chat/completions", chat);
  chat["stream"] = true;
  const Reply chat_stream = server.post("/v1/chat/completions", chat);
  events = sse_payloads(chat_stream.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  const Json first = Json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  text.clear();
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const Json delta = Json::parse(events[i])["choices"][0]["delta"];
    if (delta.contains("content")) text += delta["content"].get<std::string>();
  }
  EXPECT_EQ(text, chat_plain.json["choices"][0]["message"]["content"]);
  EXPECT_EQ(Json::parse(events[events.size() - 2])["choices"][0]["finish_reason"], "length");
}

TEST_F(OpenAiApiTest, ModelsListsTheBaseAndEveryAdapter) {
  const Reply reply = server.get("/v1/models");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json["object"], "list");
  std::vector<std::string> ids;
  for (const Json& m : reply.json["data"]) ids.push_back(m["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"stories260K", "lora-beach", "lora-ben"}));
  EXPECT_EQ(reply.json["data"][1]["parent"], "stories260K");
}

// Every endpoint and adapter at once: each request must get exactly what it gets alone.
TEST_F(OpenAiApiTest, ConcurrentGreedyRequestsMatchTheEngineAlone) {
  constexpr int64_t kTokens = 24;
  const std::vector<std::string> adapters = {"", "lora-ben", "lora-beach"};
  const std::vector<int32_t> prompt = server.text->encode_prompt("Once upon a time");
  const std::vector<int32_t> chat_prompt = server.text->encode_chat(chat_messages(), true);
  std::map<std::string, std::vector<int32_t>> alone, chat_alone;
  for (const auto& a : adapters) {
    alone[a] = server.engine_greedy(prompt, a, kTokens);
    chat_alone[a] = server.engine_greedy(chat_prompt, a, kTokens);
    const FixtureCase c = story_case(a);
    EXPECT_TRUE(std::equal(c.greedy.begin(), c.greedy.begin() + kTokens, alone[a].begin())) << a;
  }
  std::vector<std::thread> clients;
  std::vector<std::vector<int32_t>> got(9);
  std::vector<std::string> texts(9);
  for (int round = 0; round < 3; ++round)
    for (int a = 0; a < 3; ++a)
      clients.emplace_back([&, round, a] {
        const size_t slot = size_t(round * 3 + a);
        const std::string& adapter = adapters[size_t(a)];
        const std::string model = adapter.empty() ? "stories260K" : adapter;
        if (round == 0) {
          Json body = {{"inputs", "Once upon a time"},
                       {"parameters", {{"max_new_tokens", kTokens}, {"details", true}}}};
          if (!adapter.empty()) body["parameters"]["adapter_id"] = adapter;
          const Reply r = server.post("/generate", body);
          for (const Json& t : r.json["details"]["tokens"]) got[slot].push_back(t["id"]);
          texts[slot] = r.json.value("generated_text", "");
        } else if (round == 1) {
          const Reply r = server.post("/v1/completions", {{"model", model},
                                                          {"prompt", "Once upon a time"},
                                                          {"max_tokens", kTokens},
                                                          {"temperature", 0},
                                                          {"logprobs", 0},
                                                          {"return_tokens_as_token_ids", true}});
          for (const Json& t : r.json["choices"][0]["logprobs"]["tokens"])
            got[slot].push_back(id_of(t));
          texts[slot] = r.json["choices"][0].value("text", "");
        } else {
          const Reply r =
              server.post("/v1/chat/completions", {{"model", model},
                                                   {"messages", chat_messages()},
                                                   {"max_tokens", kTokens},
                                                   {"temperature", 0},
                                                   {"logprobs", true},
                                                   {"return_tokens_as_token_ids", true}});
          for (const Json& t : r.json["choices"][0]["logprobs"]["content"])
            got[slot].push_back(id_of(t["token"]));
          texts[slot] = r.json["choices"][0]["message"].value("content", "");
        }
      });
  for (auto& c : clients) c.join();
  for (int round = 0; round < 3; ++round)
    for (int a = 0; a < 3; ++a) {
      const size_t slot = size_t(round * 3 + a);
      const auto& expected =
          round == 2 ? chat_alone[adapters[size_t(a)]] : alone[adapters[size_t(a)]];
      EXPECT_EQ(got[slot], expected) << "round " << round << " adapter " << adapters[size_t(a)];
      EXPECT_EQ(texts[slot], server.text->decode(expected));
    }
  EXPECT_NE(texts[0].find("Lily"), std::string::npos) << texts[0];
  EXPECT_NE(texts[1].find("Ben"), std::string::npos) << texts[1];
}

}  // namespace
}  // namespace lorax::testing
