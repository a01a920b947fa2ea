// What a LoRAX client needs to switch servers by changing a URL: the root route, the fields of
// LoRAX's response types (skipped, skipped_tokens, best_of_sequences), best_of, the validation
// refusals as SSE error events on streams, the response headers, the default max_new_tokens,
// apply_chat_template (the adapter's own template first), and OpenAI's n and best_of.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "server_fixture.h"
#include "support/fixtures.h"

namespace lorax::testing {
namespace {

namespace fs = std::filesystem;

Json story(int64_t max_new_tokens, Json extra = Json::object()) {
  Json parameters = {{"max_new_tokens", max_new_tokens}, {"details", true}};
  for (const auto& [key, value] : extra.items()) parameters[key] = value;
  return {{"inputs", "Once upon a time"}, {"parameters", parameters}};
}

std::vector<Json> stream_events(const Reply& reply) {
  std::vector<Json> events;
  for (const std::string& payload : sse_payloads(reply.body))
    events.push_back(Json::parse(payload));
  return events;
}

std::string header(const Reply& reply, const std::string& name) {
  const auto it = reply.headers.find(name);
  return it == reply.headers.end() ? "<absent>" : it->second;
}

class LoraxDropIn : public ::testing::Test {
 protected:
  TestServer server;
};

TEST_F(LoraxDropIn, RootRouteAnswersAListOrAStream) {
  const Reply plain = server.post("/generate", story(8));
  const Reply root = server.post("/", story(8));
  ASSERT_EQ(root.status, 200) << root.body;
  ASSERT_TRUE(root.json.is_array()) << root.body;
  ASSERT_EQ(root.json.size(), 1u);
  EXPECT_EQ(root.json[0]["generated_text"], plain.json["generated_text"]);

  Json body = story(8);
  body["stream"] = true;
  const Reply streamed = server.post("/", body);
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  EXPECT_EQ(streamed.content_type, "text/event-stream");
  const std::vector<Json> events = stream_events(streamed);
  ASSERT_EQ(events.size(), 8u);
  std::string text;
  for (const Json& e : events) {
    EXPECT_EQ(e["token"]["skipped"], false);
    text += e["token"]["text"].get<std::string>();
  }
  EXPECT_EQ(events.back()["generated_text"], plain.json["generated_text"]);
  EXPECT_EQ(text, plain.json["generated_text"]);
  EXPECT_EQ(events.back()["details"]["finish_reason"], "length");
  EXPECT_EQ(server.get("/").status, 200);  // LoRAX's second health route
}

TEST_F(LoraxDropIn, DetailsCarryLoraxFields) {
  const Reply reply = server.post("/generate", story(4, {{"adapter_id", "lora-ben"}}));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const Json& details = reply.json["details"];
  EXPECT_EQ(details["skipped_tokens"], 0);
  EXPECT_TRUE(details["seed"].is_null());
  EXPECT_FALSE(details.contains("best_of_sequences"));
  for (const Json& token : details["tokens"]) EXPECT_EQ(token["skipped"], false);
}

TEST_F(LoraxDropIn, BestOfAnswersTheBestSequenceAndListsTheOthers) {
  const Reply reply = server.post("/generate", story(12, {{"best_of", 3}, {"do_sample", true}}));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const Json& details = reply.json["details"];
  ASSERT_EQ(details["best_of_sequences"].size(), 2u);
  const auto mean = [](const Json& tokens) {
    double sum = 0;
    for (const Json& t : tokens) sum += t["logprob"].get<double>();
    return sum / double(tokens.size());
  };
  EXPECT_TRUE(details["seed"].is_number_unsigned());
  for (const Json& other : details["best_of_sequences"]) {
    EXPECT_TRUE(other["seed"].is_number_unsigned());
    EXPECT_NE(other["seed"], details["seed"]);
    EXPECT_GE(mean(details["tokens"]), mean(other["tokens"]));
    EXPECT_EQ(other["generated_tokens"], other["tokens"].size());
    EXPECT_TRUE(other["prefill"].is_array());
  }
}

TEST_F(LoraxDropIn, StreamRefusalsArriveAsErrorEvents) {
  const auto refused = [&](Json body, const std::string& type, const std::string& message) {
    const Reply reply = server.post("/generate_stream", body);
    EXPECT_EQ(reply.status, 200) << reply.body;
    const std::vector<Json> events = stream_events(reply);
    ASSERT_EQ(events.size(), 1u) << reply.body;
    EXPECT_EQ(events[0]["error_type"], type) << reply.body;
    EXPECT_NE(events[0]["error"].get<std::string>().find(message), std::string::npos) << reply.body;
  };
  refused(story(4, {{"best_of", 2}, {"do_sample", true}}), "validation",
          "`best_of` != 1 is not supported when streaming tokens");
  refused(story(4, {{"decoder_input_details", true}}), "validation",
          "`decoder_input_details` == true is not supported when streaming tokens");
  refused(story(4, {{"adapter_id", "nope"}}), "generation", "adapter 'nope'");
  // a body that is not JSON is still refused before any stream starts
  EXPECT_EQ(server.post_raw("/generate_stream", "{").status, 400);
  EXPECT_EQ(server.post("/generate", story(2)).status, 200);
}

// x-queue-time is the wait for a place in the batch, as in LoRAX: with room for one sequence, a
// request sent while another generates queues until that one ends, then runs briefly.
TEST(LoraxDropInTimes, QueueTimeEndsWhenTheBatchTakesTheRequest) {
  TestServerOptions options;
  options.max_running = 1;
  TestServer server(options);
  std::thread long_one([&] {
    const Reply r = server.post(
        "/generate", {{"inputs", "Once"},
                      {"parameters", {{"max_new_tokens", 480}, {"ignore_eos_token", true}}}});
    EXPECT_EQ(r.status, 200) << r.body;
  });
  for (int i = 0; i < 400 && server.metric("lorax_generated_tokens_total").value_or(0) < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Reply queued =
      server.post("/generate", {{"inputs", "Lily"}, {"parameters", {{"max_new_tokens", 2}}}});
  long_one.join();
  ASSERT_EQ(queued.status, 200) << queued.body;
  const int64_t queue = std::stoll(header(queued, "x-queue-time"));
  const int64_t inference = std::stoll(header(queued, "x-inference-time"));
  const int64_t total = std::stoll(header(queued, "x-total-time"));
  EXPECT_GT(queue, inference);
  EXPECT_LE(queue + inference, total + 1);  // each rounded down to a millisecond
}

TEST_F(LoraxDropIn, ResponseHeadersSayWhatRanAndHowLong) {
  const Reply reply = server.post("/generate", story(6, {{"adapter_id", "lora-ben"}}));
  ASSERT_EQ(reply.status, 200) << reply.body;
  for (const char* name : {"x-compute-time", "x-total-time", "x-validation-time", "x-queue-time",
                           "x-inference-time", "x-time-per-token"}) {
    const std::string value = header(reply, name);
    EXPECT_TRUE(!value.empty() && value.find_first_not_of("0123456789") == std::string::npos)
        << name << ": " << value;
  }
  EXPECT_EQ(header(reply, "x-compute-type"), server.model->backend().name());
  EXPECT_EQ(header(reply, "x-prompt-tokens"),
            std::to_string(reply.json["details"]["prompt_tokens"].get<int>()));
  EXPECT_EQ(header(reply, "x-generated-tokens"), "6");
  EXPECT_EQ(header(reply, "x-model-id"), "stories260K");
  EXPECT_EQ(header(reply, "x-adapter-id"), "lora-ben");
  EXPECT_EQ(header(reply, "x-adapter-source"), "hub");
  const Reply base = server.post("/generate", story(2));
  EXPECT_EQ(header(base, "x-adapter-id"), "<absent>");
  Json body = story(2, {{"adapter_id", "lora-ben"}});
  body["stream"] = true;
  const Reply streamed = server.post("/", body);
  EXPECT_EQ(header(streamed, "x-adapter-id"), "lora-ben");
  EXPECT_EQ(header(streamed, "x-model-id"), "stories260K");
}

TEST(LoraxDropInLimits, WithoutMaxNewTokensTheRestOfTheContextIsTheLimit) {
  TestServerOptions options;
  options.limits.max_new_tokens = 2048;  // not the bound here
  TestServer server(options);
  const Reply reply =
      server.post("/generate", {{"inputs", "Once upon a time"},
                                {"parameters", {{"details", true}, {"ignore_eos_token", true}}}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const int64_t prompt = reply.json["details"]["prompt_tokens"];
  EXPECT_EQ(reply.json["details"]["generated_tokens"], 512 - prompt);  // max_total_tokens 512
  EXPECT_EQ(reply.json["details"]["finish_reason"], "length");
}

TEST_F(LoraxDropIn, ApplyChatTemplateRendersTheModelsTemplate) {
  const Json messages = Json::array({{{"role", "user"}, {"content", "Once upon a time"}}});
  const Reply chat = server.post(
      "/generate",
      {{"inputs", messages.dump()},
       {"parameters", {{"apply_chat_template", true}, {"max_new_tokens", 8}, {"details", true}}}});
  ASSERT_EQ(chat.status, 200) << chat.body;
  // the test template renders BOS + the contents: the same prompt as the plain text
  const Reply plain = server.post("/generate", story(8));
  EXPECT_EQ(chat.json["generated_text"], plain.json["generated_text"]);
}

TEST(LoraxDropInAdapters, AnAdaptersOwnChatTemplateWins) {
  TempDir root;
  const std::string ben = model_dir("stories260K") + "/adapters/lora-ben";
  fs::copy(ben, root.file("ben-chat"), fs::copy_options::recursive);
  // whatever the conversation, this template asks for the story's opening
  write_file(root.file("ben-chat/tokenizer_config.json"),
             R"({"bos_token": "<s>", "chat_template": "{{ bos_token }}Once upon a time"})");
  TestServerOptions options;
  options.adapter_root = root.path();
  TestServer server(options);
  const Json messages = Json::array({{{"role", "user"}, {"content", "Tell me about a dog."}}});
  const Reply chat = server.post("/generate", {{"inputs", messages.dump()},
                                               {"parameters",
                                                {{"apply_chat_template", true},
                                                 {"adapter_id", "ben-chat"},
                                                 {"adapter_source", "local"},
                                                 {"max_new_tokens", 12}}}});
  ASSERT_EQ(chat.status, 200) << chat.body;
  const Reply plain = server.post("/generate", story(12, {{"adapter_id", "lora-ben"}}));
  EXPECT_EQ(chat.json["generated_text"], plain.json["generated_text"]);
  EXPECT_NE(chat.json["generated_text"].get<std::string>().find("Ben"), std::string::npos);
}

TEST_F(LoraxDropIn, InfoHasEveryFieldOfLoraxInfo) {
  const Reply info = server.get("/info");
  ASSERT_EQ(info.status, 200);
  for (const char* field :
       {"model_id", "model_sha", "model_dtype", "model_device_type", "model_pipeline_tag",
        "max_concurrent_requests", "max_best_of", "max_stop_sequences", "max_input_length",
        "max_total_tokens", "waiting_served_ratio", "max_batch_total_tokens", "max_waiting_tokens",
        "validation_workers", "eager_prefill", "version", "sha", "docker_label",
        "request_logger_url"})
    EXPECT_TRUE(info.json.contains(field)) << field;
  EXPECT_EQ(info.json["max_best_of"], 4);
}

TEST_F(LoraxDropIn, OpenAiNChoicesAndBestOf) {
  const Reply two = server.post("/v1/completions", {{"prompt", "Once upon a time"},
                                                    {"max_tokens", 6},
                                                    {"n", 2},
                                                    {"seed", 5},
                                                    {"ignore_eos_token", true}});
  ASSERT_EQ(two.status, 200) << two.body;
  ASSERT_EQ(two.json["choices"].size(), 2u);
  EXPECT_EQ(two.json["choices"][0]["index"], 0);
  EXPECT_EQ(two.json["choices"][1]["index"], 1);
  EXPECT_EQ(two.json["usage"]["completion_tokens"], 12);
  const Reply again = server.post("/v1/completions", {{"prompt", "Once upon a time"},
                                                      {"max_tokens", 6},
                                                      {"n", 2},
                                                      {"seed", 5},
                                                      {"ignore_eos_token", true}});
  EXPECT_EQ(again.json["choices"], two.json["choices"]);  // seeded: reproducible

  const Reply best = server.post(
      "/v1/completions",
      {{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"best_of", 3}, {"logprobs", 0}});
  ASSERT_EQ(best.status, 200) << best.body;
  EXPECT_EQ(best.json["choices"].size(), 1u);
  EXPECT_EQ(best.json["usage"]["completion_tokens"], 18);  // every sequence generated counts

  const Reply chat = server.post(
      "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                               {"max_tokens", 5},
                               {"n", 2},
                               {"stream", true}});
  ASSERT_EQ(chat.status, 200) << chat.body;
  std::map<int, std::string> finish;
  for (const std::string& payload : sse_payloads(chat.body)) {
    if (payload == "[DONE]") continue;
    const Json chunk = Json::parse(payload);
    for (const Json& choice : chunk["choices"])
      if (!choice["finish_reason"].is_null()) finish[choice["index"]] = choice["finish_reason"];
  }
  EXPECT_EQ(finish.size(), 2u) << chat.body;
}

}  // namespace
}  // namespace lorax::testing
