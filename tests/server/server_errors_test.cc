// Bad requests get the documented status and a clear message, and the server keeps serving:
// malformed JSON, wrong types, out-of-range values, prompts too long, unknown or broken adapters,
// adapter paths escaping the root, API keys, oversized bodies, overload.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "server_fixture.h"
#include "support/fixtures.h"

namespace lorax::testing {
namespace {

namespace fs = std::filesystem;

struct BadRequest {
  std::string path;
  std::string body;
  int status;
  std::string message;  // a part of the error message
};

// The error message in either API's shape.
std::string message_of(const Reply& reply) {
  if (!reply.json.is_object() || !reply.json.contains("error")) return "<no error body>";
  const Json& error = reply.json["error"];
  return error.is_string() ? error.get<std::string>() : error.value("message", "");
}

void expect_still_serving(const TestServer& server) {
  EXPECT_EQ(server.get("/health").status, 200);
  const Reply ok = server.post(
      "/generate", {{"inputs", "Once upon a time"}, {"parameters", {{"max_new_tokens", 3}}}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(ServerErrors, BadRequestsGetClearErrorsAndTheServerKeepsServing) {
  TestServer server;
  const std::string long_prompt(3000, 'x');  // far over max_input_length = 256 tokens
  const std::vector<BadRequest> cases = {
      {"/generate", "{\"inputs\": ", 400, "not valid JSON"},
      {"/generate", "[1, 2]", 400, "must be a JSON object"},
      // a number no double holds (found by fuzz_http_request: the message was the JSON library's)
      {"/generate", R"({"inputs": "x", "parameters": {"seed": 1e400}})", 400,
       "not valid JSON: number overflow parsing '1e400'"},
      {"/v1/chat/completions",
       R"({"messages": )" + std::string(100, '[') + std::string(100, ']') + "}", 400,
       "nests deeper than 64 levels"},
      {"/generate", R"({"inputs": 5})", 422, "`inputs` must be a string, got 5"},
      {"/generate", R"({"inputs": "x", "parameters": {"temperature": "hot"}})", 422,
       "`temperature` must be a number"},
      {"/generate", R"({"inputs": "x", "parameters": {"temperature": -0.5}})", 422,
       "`temperature` must be non-negative"},
      {"/generate", R"({"inputs": "x", "parameters": {"top_p": 1.5}})", 422,
       "`top_p` must be > 0.0 and <= 1.0"},
      {"/generate", R"({"inputs": "x", "parameters": {"top_k": -1}})", 422,
       "`top_k` must be strictly positive"},
      {"/generate", R"({"inputs": "x", "parameters": {"max_new_tokens": 0}})", 422,
       "`max_new_tokens` must be strictly positive"},
      {"/generate", R"({"inputs": "x", "parameters": {"stop": ["a","b","c","d","e"]}})", 422,
       "supports up to 4 stop sequences"},
      {"/generate", R"({"inputs": "x", "parameters": {"best_of": 2}})", 422,
       "you must use sampling when `best_of` is > 1"},
      {"/generate", R"({"inputs": ")" + long_prompt + R"("})", 422,
       "`inputs` must have less than 256 tokens"},
      {"/generate",
       R"({"inputs": "Once upon a time, there was a little girl named Lily.",
           "parameters": {"max_new_tokens": 500}})",
       422, "`inputs` tokens + `max_new_tokens` must be <= 512"},
      // LoRAX fails an adapter it cannot fetch as a generation error (424)
      {"/generate", R"({"inputs": "x", "parameters": {"adapter_id": "nope"}})", 424,
       "adapter 'nope' is not registered"},
      {"/generate",
       R"({"inputs": "x", "parameters": {"adapter_id": "a", "adapter_source": "local"}})", 422,
       "no adapter root"},
      {"/v1/completions", R"({"prompt": "x", "max_tokens": "5"})", 400,
       "`max_tokens` must be an integer"},
      {"/v1/completions", R"({"prompt": "x", "n": 9})", 400, "`n` must be between 1 and 4"},
      {"/v1/completions", R"({"prompt": "x", "model": "gpt-4"})", 404,
       "The model `gpt-4` does not exist."},
      {"/v1/completions", R"({"prompt": [1, 99999]})", 400, "outside the vocabulary"},
      {"/v1/completions", R"({"prompt": ")" + long_prompt + R"("})", 400,
       "maximum input length is 256 tokens"},
      {"/v1/chat/completions", R"({"messages": "hi"})", 400, "`messages` must be a non-empty list"},
      // wrong types inside parts (found by fuzz_http_request: the message named no field)
      {"/v1/chat/completions",
       R"({"messages": [{"role": "user", "content": [{"type": true, "text": "x"}]}]})", 400,
       "content parts must be {\"type\": \"text\", \"text\": ...}"},
      {"/v1/chat/completions",
       R"({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": 5}})", 400,
       "`response_format` must be an object with a string \"type\""},
      {"/v1/chat/completions", R"({"messages": [{"role": "assistant", "content": "x"}]})", 400,
       "Conversations must start with a user message"},
      {"/nowhere", "{}", 404, "no route for POST /nowhere"},
  };
  for (const BadRequest& c : cases) {
    const Reply reply = server.post_raw(c.path, c.body);
    EXPECT_EQ(reply.status, c.status)
        << c.path << " " << c.body.substr(0, 80) << " -> " << reply.body;
    EXPECT_NE(message_of(reply).find(c.message), std::string::npos)
        << c.body.substr(0, 80) << " -> " << reply.body;
    if (c.path.rfind("/v1/", 0) == 0) {
      EXPECT_TRUE(reply.json["error"].contains("type")) << reply.body;
      EXPECT_TRUE(reply.json["error"].contains("code")) << reply.body;
    } else if (c.path != "/nowhere") {
      EXPECT_TRUE(reply.json.contains("error_type")) << reply.body;
    }
  }
  const Reply unknown = server.post_raw("/v1/completions", R"({"prompt": "x", "model": "m"})");
  EXPECT_EQ(unknown.json["error"]["code"], "model_not_found");
  EXPECT_EQ(unknown.json["error"]["param"], "model");
  expect_still_serving(server);
}

TEST(ServerErrors, OversizedBodiesGet413) {
  TestServer server;
  const std::string big = R"({"inputs": ")" + std::string(100 * 1024, 'a') + R"("})";
  const Reply reply = server.post_raw("/generate", big);
  EXPECT_EQ(reply.status, 413);
  EXPECT_NE(message_of(reply).find("larger than the limit"), std::string::npos) << reply.body;
  expect_still_serving(server);
}

TEST(ServerErrors, ApiKeyGuardsEverythingButHealth) {
  TestServerOptions options;
  options.api_key = "s3cret";
  TestServer server(options);
  EXPECT_EQ(server.get("/health").status, 200);
  const Reply missing = server.get("/info");
  EXPECT_EQ(missing.status, 401);
  EXPECT_NE(message_of(missing).find("missing API key"), std::string::npos);
  EXPECT_EQ(server.get("/info", {{"Authorization", "Bearer wrong"}}).status, 401);
  const Reply openai = server.get("/v1/models", {{"Authorization", "Bearer s3cretX"}});
  EXPECT_EQ(openai.status, 401);
  EXPECT_EQ(openai.json["error"]["code"], "invalid_api_key");
  EXPECT_EQ(server.post("/generate", {{"inputs", "x"}}).status, 401);
  const httplib::Headers key = {{"Authorization", "Bearer s3cret"}};
  EXPECT_EQ(server.get("/info", key).status, 200);
  EXPECT_EQ(server.get("/metrics", key).status, 200);
  const Reply ok = server.post("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}}, key);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(ServerErrors, LocalAdaptersStayInsideTheRoot) {
  TempDir root, outside;
  const std::string adapters = model_dir("stories260K") + "/adapters";
  fs::copy(adapters + "/lora-ben", root.file("ben"), fs::copy_options::recursive);
  fs::create_directory_symlink(adapters, root.file("escape"));
  fs::create_directory(outside.file("secret"));
  TestServerOptions options;
  options.adapter_root = root.path();
  TestServer server(options);
  auto request = [&](const std::string& id) {
    return server.post(
        "/generate", {{"inputs", "Once upon a time"},
                      {"parameters",
                       {{"adapter_id", id}, {"adapter_source", "local"}, {"max_new_tokens", 12}}}});
  };
  const Reply local = request("ben");
  ASSERT_EQ(local.status, 200) << local.body;
  const Reply registered = server.post(
      "/generate", {{"inputs", "Once upon a time"},
                    {"parameters", {{"adapter_id", "lora-ben"}, {"max_new_tokens", 12}}}});
  EXPECT_EQ(local.json["generated_text"], registered.json["generated_text"]);
  const std::string sibling = "../" + fs::path(outside.path()).filename().string() + "/secret";
  for (const std::string& id :
       {sibling, std::string("escape/lora-ben"), std::string("/etc"), std::string("ben/../../x")}) {
    const Reply refused = request(id);
    EXPECT_EQ(refused.status, 403) << id << " -> " << refused.body;
    EXPECT_NE(message_of(refused).find("adapter root"), std::string::npos) << refused.body;
  }
  EXPECT_EQ(request("missing").status, 424);
  expect_still_serving(server);
}

TEST(ServerErrors, ABrokenAdapterFailsOnlyItsRequests) {
  TempDir broken;
  write_file(broken.file("adapter_config.json"), "{not json");
  TestServer server;
  server.adapters->register_adapter("broken", broken.path());
  const Reply reply = server.post(
      "/generate", {{"inputs", "Once upon a time"}, {"parameters", {{"adapter_id", "broken"}}}});
  EXPECT_EQ(reply.status, 424) << reply.body;
  EXPECT_NE(message_of(reply).find("failed to load: adapter 'broken'"), std::string::npos)
      << reply.body;
  EXPECT_NE(message_of(reply).find("adapter_model.safetensors"), std::string::npos) << reply.body;
  const Reply openai = server.post("/v1/completions", {{"model", "broken"}, {"prompt", "x"}});
  EXPECT_EQ(openai.status, 424) << openai.body;
  expect_still_serving(server);
}

TEST(ServerErrors, WithoutATokenizerOnlyTokenIdsWork) {
  TestServerOptions options;
  options.tokenizer = false;
  TestServer server(options);
  const Reply text = server.post("/generate", {{"inputs", "Once upon a time"}});
  EXPECT_EQ(text.status, 422);
  EXPECT_NE(message_of(text).find("no tokenizer"), std::string::npos) << text.body;
  const Reply chat =
      server.post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "x"}}}}});
  EXPECT_EQ(chat.status, 400);
  const Reply ids = server.post("/v1/completions", {{"prompt", {1, 403}},
                                                    {"max_tokens", 3},
                                                    {"logprobs", 0},
                                                    {"return_tokens_as_token_ids", true}});
  ASSERT_EQ(ids.status, 200) << ids.body;
  EXPECT_EQ(ids.json["choices"][0]["logprobs"]["tokens"].size(), 3u);
}

TEST(ServerErrors, OverloadGets429) {
  TestServerOptions options;
  options.max_concurrent_requests = 1;
  TestServer server(options);
  // Hold the only slot with a long request straight on the service, then ask over HTTP.
  GenerationRequest hold;
  hold.prompt_ids = {1};
  hold.max_new_tokens = 500;
  hold.ignore_eos = true;
  auto handle = server.service->submit(hold);
  const Reply lorax = server.post("/generate", {{"inputs", "x"}});
  EXPECT_EQ(lorax.status, 429) << lorax.body;
  EXPECT_EQ(lorax.json["error_type"], "overloaded");
  const Reply openai = server.post("/v1/completions", {{"prompt", "x"}});
  EXPECT_EQ(openai.status, 429) << openai.body;
  handle.reset();  // the client leaves: its slot frees
  for (int i = 0; i < 200 && server.service->stats().in_flight > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  expect_still_serving(server);
  EXPECT_GE(server.metric("lorax_adapter_request_count{adapter=\"base\",outcome=\"overloaded\"}")
                .value_or(0),
            1.0);
}

}  // namespace
}  // namespace lorax::testing
