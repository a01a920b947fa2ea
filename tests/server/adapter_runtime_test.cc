// Adapters at run time: --preloaded-adapter-ids and --adapter-id, vLLM's load and unload routes
// (paths inside the adapter root, the API key, /v1/models), clear errors for broken adapters on
// every route, and loads that never hold up the streams of other adapters.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

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
  for (int cycle = 0; cycle < 10; ++cycle) {
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
