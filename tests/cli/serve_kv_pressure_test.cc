// The server under KV-cache pressure: concurrent long requests need more blocks than the cache
// holds, so the engine preempts and recomputes; every request still completes with exactly the
// tokens it gets alone, and nothing is lost. (HTTP API details are covered in tests/server.)
#include <gtest/gtest.h>

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "adapters/adapter_store.h"
#include "backend/cpu/cpu_backend.h"
#include "engine/engine_service.h"
#include "server/http_server.h"
#include "support/fixtures.h"
#include "tokenizer/text_processor.h"

namespace lorax {
namespace {

using nlohmann::json;

TEST(ServeUnderKvPressure, ConcurrentLongRequestsAllCompleteThroughPreemption) {
  const std::string dir = testing::model_dir("stories260K");
  CpuBackend backend(2);
  auto model = CausalLM::load(dir, backend);
  auto text = TextProcessor::from_model_dir(dir);
  AdapterStore adapters(model->config(), size_t(64) << 20);
  for (const char* name : {"lora-ben", "lora-beach"})
    adapters.register_adapter(name, dir + "/adapters/" + name);

  // What each request gives alone, with plenty of cache.
  const std::vector<std::string> adapter_of = {"", "lora-ben", "lora-beach", "", "lora-ben",
                                               "lora-beach", "", "lora-ben"};
  const auto prompt = text->encode_prompt("Once upon a time");
  std::vector<std::vector<int32_t>> alone;
  for (const auto& a : adapter_of) {
    Engine engine(*model, EngineOptions{});
    GenerationRequest r;
    r.prompt_ids = prompt;
    r.max_new_tokens = 60;
    r.ignore_eos = true;
    if (!a.empty()) r.adapter = adapters.get(a);
    engine.add(r);
    std::vector<int32_t> ids;
    while (engine.has_work())
      for (const auto& o : engine.step())
        if (o.token) ids.push_back(o.token->id);
    alone.push_back(ids);
  }

  ServiceOptions options;
  options.engine.kv.block_size = 16;
  options.engine.kv.num_blocks = 12;  // 192 tokens for 8 x 65: far too few at once
  EngineService service(*model, options);
  ServerContext context{service, &*text, adapters, "stories260K", "f32", std::nullopt,
                        std::nullopt, false, ServerLimits{}};
  HttpServer server(std::move(context));
  const int port = server.start("127.0.0.1", 0);

  std::vector<json> replies(adapter_of.size());
  std::vector<int> status(adapter_of.size(), 0);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < adapter_of.size(); ++i)
    clients.emplace_back([&, i] {
      httplib::Client http("127.0.0.1", port);
      http.set_read_timeout(std::chrono::seconds(120));
      json params = {{"max_new_tokens", 60}, {"ignore_eos_token", true}, {"details", true}};
      if (!adapter_of[i].empty()) params["adapter_id"] = adapter_of[i];
      const json body = {{"inputs", "Once upon a time"}, {"parameters", params}};
      auto res = http.Post("/generate", body.dump(), "application/json");
      if (!res) return;
      status[i] = res->status;
      replies[i] = json::parse(res->body, nullptr, false);
    });
  for (auto& c : clients) c.join();
  for (size_t i = 0; i < adapter_of.size(); ++i) {
    ASSERT_EQ(status[i], 200) << replies[i].dump();
    std::vector<int32_t> ids;
    for (const auto& t : replies[i]["details"]["tokens"]) ids.push_back(t["id"].get<int32_t>());
    EXPECT_EQ(ids, alone[i]) << "request " << i << " (" << adapter_of[i] << ")";
  }
  const ServiceStats stats = service.stats();
  EXPECT_GT(stats.engine.preemptions, 0);
  EXPECT_EQ(stats.in_flight, 0);
  EXPECT_EQ(stats.engine.kv_blocks_free, stats.engine.kv_blocks_total);
  server.stop();
}

}  // namespace
}  // namespace lorax
