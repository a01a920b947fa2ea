// Adapters at run time: --preloaded-adapter-ids and --adapter-id, vLLM's load and unload routes
// (paths inside the adapter root, the API key, /v1/models), clear errors for broken adapters on
// every route, and loads that never hold up the streams of other adapters.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>

#include "io/safetensors.h"
#include "server/api_error.h"
#include "server_fixture.h"
#include "support/fixtures.h"

namespace lorax::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string message_of(const Reply& reply) {
  if (!reply.json.is_object() || !reply.json.contains("error")) return reply.body;
  const Json& error = reply.json["error"];
  return error.is_string() ? error.get<std::string>() : error.value("message", "");
}

// An adapter root holding copies of the fixture's adapters, and a broken one.
struct AdapterRoot {
  AdapterRoot() {
    const std::string adapters = model_dir("stories260K") + "/adapters";
    fs::copy(adapters + "/lora-ben", dir.file("ben"), fs::copy_options::recursive);
    fs::copy(adapters + "/lora-beach", dir.file("beach"), fs::copy_options::recursive);
    fs::create_directory(dir.file("broken"));
    write_file(dir.file("broken/adapter_config.json"), R"({"r": 8, "lora_alpha": 16})");
    write_file(dir.file("broken/adapter_model.safetensors"), "not a safetensors file");
  }
  TempDir dir;
};

Json story(const std::string& adapter, int64_t max_new_tokens = 12) {
  Json body = {{"inputs", "Once upon a time"},
               {"parameters", {{"max_new_tokens", max_new_tokens}}}};
  if (!adapter.empty()) body["parameters"]["adapter_id"] = adapter;
  return body;
}

TEST(AdapterRuntime, LoadServeAndUnloadThroughVllmRoutes) {
  AdapterRoot root;
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  TestServer server(options);
  const Reply loaded =
      server.post("/v1/load_lora_adapter", {{"lora_name", "ben-live"}, {"lora_path", "ben"}});
  ASSERT_EQ(loaded.status, 200) << loaded.body;
  const Reply models = server.get("/v1/models");
  bool listed = false;
  for (const Json& m : models.json["data"]) listed = listed || m["id"] == "ben-live";
  EXPECT_TRUE(listed) << models.body;
  const Reply lorax = server.post("/generate", story("ben-live"));
  const Reply registered = server.post("/generate", story("lora-ben"));
  ASSERT_EQ(lorax.status, 200) << lorax.body;
  EXPECT_EQ(lorax.json["generated_text"], registered.json["generated_text"]);
  const Reply openai = server.post("/v1/completions", {{"model", "ben-live"},
                                                       {"prompt", "Once upon a time"},
                                                       {"max_tokens", 12},
                                                       {"temperature", 0}});
  EXPECT_EQ(openai.json["choices"][0]["text"], registered.json["generated_text"]);
  // an absolute path inside the root works too; a name is served once
  EXPECT_EQ(server
                .post("/v1/load_lora_adapter",
                      {{"lora_name", "beach-live"}, {"lora_path", root.dir.file("beach")}})
                .status,
            200);
  const Reply twice =
      server.post("/v1/load_lora_adapter", {{"lora_name", "ben-live"}, {"lora_path", "ben"}});
  EXPECT_EQ(twice.status, 400);
  EXPECT_NE(message_of(twice).find("already been loaded"), std::string::npos) << twice.body;

  ASSERT_EQ(server.post("/v1/unload_lora_adapter", {{"lora_name", "ben-live"}}).status, 200);
  EXPECT_EQ(server.post("/generate", story("ben-live")).status, 424);
  EXPECT_EQ(server.post("/v1/unload_lora_adapter", {{"lora_name", "ben-live"}}).status, 404);
}

TEST(AdapterRuntime, PathsStayInsideTheRootAndBrokenAdaptersSayWhy) {
  AdapterRoot root;
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  TestServer server(options);
  for (const std::string& path : {std::string("../x"), std::string("/etc"),
                                  model_dir("stories260K") + "/adapters/lora-ben"}) {
    const Reply refused =
        server.post("/v1/load_lora_adapter", {{"lora_name", "x"}, {"lora_path", path}});
    EXPECT_EQ(refused.status, 403) << path << " -> " << refused.body;
  }
  // a broken adapter: the same clear 4xx, naming the file, on every route that can load it
  const Reply api =
      server.post("/v1/load_lora_adapter", {{"lora_name", "b"}, {"lora_path", "broken"}});
  Json local = story("broken");
  local["parameters"]["adapter_source"] = "local";
  const Reply lorax = server.post("/generate", local);
  const Reply openai = server.post(
      "/v1/completions", {{"model", "broken"}, {"adapter_source", "local"}, {"prompt", "x"}});
  for (const Reply* reply : {&api, &lorax, &openai}) {
    EXPECT_EQ(reply->status, 424) << reply->body;
    EXPECT_NE(message_of(*reply).find("adapter_model.safetensors"), std::string::npos)
        << reply->body;
  }
  EXPECT_EQ(server.post("/generate", story("")).status, 200);
}

// What /etc/passwd looks like: a file outside the root that must never be read or quoted.
constexpr const char* kSecret = "root:x:0:0:root:/root:/bin/bash\n";

// Copies `adapter` of the root to `name`, with one value of every tensor whose name holds
// `tensor` set to `value`.
void poisoned_copy(const AdapterRoot& root, const std::string& name, const std::string& tensor,
                   float value) {
  fs::copy(root.dir.file("ben"), root.dir.file(name), fs::copy_options::recursive);
  const std::string weights = root.dir.file(name + "/adapter_model.safetensors");
  const auto file = CheckpointTensors::open_file(weights);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& n : file.names()) {
    Tensor t = file.get(n).clone();
    if (n.find(tensor) != std::string::npos) t.data<float>()[t.numel() / 2] = value;
    tensors.emplace_back(n, std::move(t));
  }
  write_safetensors(weights, tensors);
}

Json local_story(const std::string& adapter) {
  Json body = story(adapter);
  body["parameters"]["adapter_source"] = "local";
  return body;
}

TEST(AdapterRuntime, FilesLinkedOutOfTheRootAreRefusedWithoutQuotingThem) {
  AdapterRoot root;
  TempDir outside;
  write_file(outside.file("passwd"), kSecret);
  fs::create_directory(root.dir.file("trap"));
  fs::copy_file(root.dir.file("ben/adapter_config.json"),
                root.dir.file("trap/adapter_config.json"));
  fs::create_symlink(outside.file("passwd"), root.dir.file("trap/adapter_model.safetensors"));
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  TestServer server(options);
  server.adapters->register_adapter("registered-trap", root.dir.file("trap"));
  const Reply lorax = server.post("/generate", local_story("trap"));
  const Reply registered = server.post("/generate", story("registered-trap"));
  const Reply openai = server.post(
      "/v1/completions", {{"model", "trap"}, {"adapter_source", "local"}, {"prompt", "x"}});
  const Reply api =
      server.post("/v1/load_lora_adapter", {{"lora_name", "t"}, {"lora_path", "trap"}});
  for (const Reply* reply : {&lorax, &registered, &openai, &api}) {
    EXPECT_GE(reply->status, 400) << reply->body;
    EXPECT_LT(reply->status, 500) << reply->body;
    const std::string message = message_of(*reply);
    EXPECT_NE(message.find("adapter_model.safetensors"), std::string::npos) << reply->body;
    EXPECT_NE(message.find("outside"), std::string::npos) << reply->body;
    EXPECT_EQ(reply->body.find("root:"), std::string::npos) << reply->body;
    EXPECT_EQ(reply->body.find(outside.path()), std::string::npos) << reply->body;
    EXPECT_EQ(reply->body.find(root.dir.path()), std::string::npos) << reply->body;
  }
  // the server keeps serving every other adapter
  const Reply ben = server.post("/generate", local_story("ben"));
  ASSERT_EQ(ben.status, 200) << ben.body;
  EXPECT_EQ(server.post("/generate", story("lora-ben")).status, 200);
  // a file that is not safetensors at all is described, never quoted
  fs::create_directory(root.dir.file("passwd"));
  fs::copy_file(root.dir.file("ben/adapter_config.json"),
                root.dir.file("passwd/adapter_config.json"));
  write_file(root.dir.file("passwd/adapter_model.safetensors"), kSecret);
  const Reply text = server.post("/generate", local_story("passwd"));
  EXPECT_EQ(text.status, 424) << text.body;
  EXPECT_NE(message_of(text).find("not a safetensors file"), std::string::npos) << text.body;
  EXPECT_EQ(text.body.find("root:"), std::string::npos) << text.body;
  EXPECT_EQ(text.body.find(root.dir.path()), std::string::npos) << text.body;
}

TEST(AdapterRuntime, SymlinksThatStayInsideTheRootStillWork) {
  AdapterRoot root;
  fs::create_directory(root.dir.file("linked"));
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors"})
    fs::create_symlink(std::string("../ben/") + f, root.dir.file("linked/") + f);
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  TestServer server(options);
  const Reply linked = server.post("/generate", local_story("linked"));
  const Reply ben = server.post("/generate", local_story("ben"));
  ASSERT_EQ(linked.status, 200) << linked.body;
  EXPECT_EQ(linked.json["generated_text"], ben.json["generated_text"]);
}

TEST(AdapterRuntime, NonFiniteWeightsAndOverflowingScalesAreRefused) {
  AdapterRoot root;
  poisoned_copy(root, "nan", "layers.0.self_attn.q_proj.lora_A", std::nanf(""));
  poisoned_copy(root, "inf", "layers.1.mlp.down_proj.lora_B", INFINITY);
  fs::copy(root.dir.file("ben"), root.dir.file("alpha"), fs::copy_options::recursive);
  Json config = Json::parse(read_file(root.dir.file("alpha/adapter_config.json")));
  config["lora_alpha"] = 1e38;
  write_file(root.dir.file("alpha/adapter_config.json"), config.dump());
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  TestServer server(options);
  const std::pair<const char*, const char*> cases[] = {
      {"nan", "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"},
      {"inf", "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"},
      {"alpha", "lora_alpha"}};
  for (const auto& [name, names] : cases) {
    const Reply lorax = server.post("/generate", local_story(name));
    const Reply openai = server.post(
        "/v1/completions", {{"model", name}, {"adapter_source", "local"}, {"prompt", "x"}});
    for (const Reply* reply : {&lorax, &openai}) {
      EXPECT_EQ(reply->status, 424) << name << ": " << reply->body;
      EXPECT_NE(message_of(*reply).find(names), std::string::npos) << reply->body;
      EXPECT_NE(message_of(*reply).find(std::string(name) + "'"), std::string::npos) << reply->body;
    }
  }
  EXPECT_EQ(server.post("/generate", local_story("ben")).status, 200);
}

TEST(AdapterRuntime, AdapterIdsWithControlCharactersAreRefused) {
  AdapterRoot root;
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  TestServer server(options);
  const std::string nul("ben\0/../x", 9);
  for (const std::string& id : {nul, std::string("ben\n"), std::string("lora-ben\x7f")}) {
    for (const bool local : {true, false}) {
      const Json body = local ? local_story(id) : story(id);
      const Reply lorax = server.post("/generate", body);
      EXPECT_EQ(lorax.status, 422) << lorax.body;
      EXPECT_EQ(lorax.json.value("error_type", ""), "validation") << lorax.body;
      EXPECT_NE(message_of(lorax).find("adapter_id"), std::string::npos) << lorax.body;
      // streams refuse as LoRAX's do: one error event
      const Reply stream = server.post("/generate_stream", body);
      EXPECT_NE(stream.body.find(R"("error_type":"validation")"), std::string::npos) << stream.body;
      EXPECT_NE(stream.body.find("adapter_id"), std::string::npos) << stream.body;
    }
    const Reply openai = server.post("/v1/completions", {{"model", id}, {"prompt", "x"}});
    EXPECT_EQ(openai.status, 400) << openai.body;
    EXPECT_EQ(openai.json["error"]["param"], "model") << openai.body;
    const Reply chat =
        server.post("/v1/chat/completions",
                    {{"model", id}, {"messages", {{{"role", "user"}, {"content", "x"}}}}});
    EXPECT_EQ(chat.status, 400) << chat.body;
    const Reply load =
        server.post("/v1/load_lora_adapter", {{"lora_name", id}, {"lora_path", "ben"}});
    EXPECT_EQ(load.status, 400) << load.body;
    EXPECT_EQ(load.json["error"]["param"], "lora_name") << load.body;
    const Reply path =
        server.post("/v1/load_lora_adapter", {{"lora_name", "ok"}, {"lora_path", id}});
    EXPECT_EQ(path.status, 400) << path.body;
    EXPECT_EQ(server.post("/v1/unload_lora_adapter", {{"lora_name", id}}).status, 400);
  }
  EXPECT_NE(message_of(server.post("/generate", local_story(nul))).find("NUL"), std::string::npos);
  EXPECT_EQ(server.post("/generate", local_story("ben")).status, 200);
}

TEST(AdapterRuntime, RoutesNeedTheApiKey) {
  AdapterRoot root;
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  options.api_key = "k";
  TestServer server(options);
  const Json body = {{"lora_name", "ben-live"}, {"lora_path", "ben"}};
  EXPECT_EQ(server.post("/v1/load_lora_adapter", body).status, 401);
  EXPECT_EQ(server.post("/v1/load_lora_adapter", body, {{"Authorization", "Bearer k"}}).status,
            200);
  EXPECT_EQ(server.post("/v1/unload_lora_adapter", {{"lora_name", "ben-live"}}).status, 401);
}

TEST(AdapterRuntime, PreloadedAdaptersAndTheDefaultAdapter) {
  AdapterRoot root;
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  options.preloaded_adapters = {"lora-beach", "ben"};  // registered; a directory under the root
  options.default_adapter_id = "lora-ben";
  TestServer server(options);
  EXPECT_EQ(server.metric("lorax_adapter_pinned{adapter=\"lora-beach\"}"), 1.0);
  EXPECT_EQ(server.metric("lorax_adapter_pinned{adapter=\"ben\"}"), 1.0);
  const Reply preloaded = server.post("/generate", story("ben"));
  const Reply by_default = server.post("/generate", story(""));
  ASSERT_EQ(preloaded.status, 200) << preloaded.body;
  EXPECT_NE(by_default.json["generated_text"].get<std::string>().find("Ben"), std::string::npos)
      << by_default.body;
  EXPECT_EQ(preloaded.json["generated_text"], by_default.json["generated_text"]);
  EXPECT_EQ(server.post("/v1/unload_lora_adapter", {{"lora_name", "ben"}}).status, 400);

  TestServerOptions bad = options;
  bad.preloaded_adapters = {"broken"};
  EXPECT_THROW(TestServer{bad}, lorax::ApiError);
}

// Streams one request over a raw socket; records when each event arrived. `started` counts the
// streams that have had their first event.
std::vector<Clock::time_point> stream_arrivals(int port, const Json& body,
                                               std::atomic<int>& started) {
  const std::string payload = body.dump();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<Clock::time_point> arrivals;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request =
        "POST /generate_stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nContent-Length: " +
        std::to_string(payload.size()) + "\r\n\r\n" + payload;
    ::send(fd, request.data(), request.size(), 0);
    char buffer[8192];
    for (;;) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      const std::string chunk(buffer, size_t(n));
      for (size_t at = chunk.find("data:"); at != std::string::npos;
           at = chunk.find("data:", at + 1)) {
        if (arrivals.empty()) ++started;
        arrivals.push_back(Clock::now());
      }
    }
  }
  ::close(fd);
  return arrivals;
}

double longest_gap_ms(const std::vector<Clock::time_point>& arrivals, Clock::time_point from,
                      Clock::time_point to) {
  double longest = 0;
  for (size_t i = 1; i < arrivals.size(); ++i)
    if (arrivals[i] >= from && arrivals[i - 1] <= to)
      longest = std::max(
          longest,
          std::chrono::duration<double, std::milli>(arrivals[i] - arrivals[i - 1]).count());
  return longest;
}

TEST(AdapterRuntime, LoadingAndUnloadingNeverStallsOtherAdaptersStreams) {
  AdapterRoot root;
  TestServerOptions options;
  options.adapter_root = root.dir.path();
  TestServer server(options);
  constexpr int kStreams = 32;
  constexpr int64_t kTokens = 480;  // long enough to outlast the loads
  std::vector<std::vector<Clock::time_point>> arrivals(kStreams);
  std::vector<std::thread> streams;
  std::atomic<int> started{0};
  for (int i = 0; i < kStreams; ++i) {
    Json body = story(i % 3 == 0 ? "" : i % 3 == 1 ? "lora-ben" : "lora-beach", kTokens);
    body["parameters"]["ignore_eos_token"] = true;
    streams.emplace_back(
        [&, i, body] { arrivals[i] = stream_arrivals(server.port, body, started); });
  }
  // wait until every stream decodes, then load and unload other adapters while they do
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (started < kStreams && Clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(started, kStreams);
  const double steps_before =
      server.metric("lorax_batch_inference_count{method=\"decode\"}").value();
  const Clock::time_point from = Clock::now();
  std::vector<double> load_ms;
  // At least 10 load/unload cycles, and cycles for at least 300 ms: a load takes about a
  // millisecond, so ten alone can fall between two decode steps of a loaded machine, and the
  // window must hold several steps to show that the engine kept stepping.
  const auto min_window = std::chrono::milliseconds(300);
  for (int cycle = 0; cycle < 10 || (Clock::now() - from < min_window && cycle < 1000); ++cycle) {
    const std::string name = "live-" + std::to_string(cycle);
    const auto t0 = Clock::now();
    ASSERT_EQ(server
                  .post("/v1/load_lora_adapter",
                        {{"lora_name", name}, {"lora_path", cycle % 2 ? "ben" : "beach"}})
                  .status,
              200);
    load_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ASSERT_EQ(server.post("/v1/unload_lora_adapter", {{"lora_name", name}}).status, 200);
  }
  const Clock::time_point to = Clock::now();
  const double steps_during =
      server.metric("lorax_batch_inference_count{method=\"decode\"}").value() - steps_before;
  for (std::thread& t : streams) t.join();

  // the engine kept stepping while the adapters were read, and no stream waited longer than the
  // slowest step of the whole run would explain: gaps during the loads are compared with the
  // gaps of the same streams before them
  EXPECT_GT(steps_during, 0);
  double before = 0, during = 0;
  for (const auto& a : arrivals) {
    ASSERT_EQ(a.size(), size_t(kTokens)) << "a stream ended early";
    before = std::max(before, longest_gap_ms(a, a.front(), from));
    during = std::max(during, longest_gap_ms(a, from, to));
  }
  std::printf("longest gap before the loads %.1f ms, during %.1f ms; loads took %.1f..%.1f ms\n",
              before, during, *std::min_element(load_ms.begin(), load_ms.end()),
              *std::max_element(load_ms.begin(), load_ms.end()));
  EXPECT_LE(during, 2 * before + 20.0);
}

}  // namespace
}  // namespace lorax::testing
