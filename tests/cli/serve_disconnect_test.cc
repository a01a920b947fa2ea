// A client that gives up on a non-streaming request: the server notices (its connection keeps a
// read in flight while the answer is pending), cancels the request and frees its KV blocks long
// before the generation would have ended.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "adapters/adapter_store.h"
#include "backend/cpu/cpu_backend.h"
#include "cli/bench_command.h"
#include "cli/demo_model.h"
#include "engine/engine_service.h"
#include "server/http_server.h"

namespace lorax {
namespace {

using namespace std::chrono_literals;

// Sends a request on a raw socket and closes it without reading the answer.
void post_and_leave(int port, const std::string& body) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              "application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(send(fd, request.data(), request.size(), 0), ssize_t(request.size()));
  std::this_thread::sleep_for(300ms);  // it is generating now
  close(fd);
}

TEST(ServeDisconnect, NonStreamingRequestIsCancelledWhenItsClientLeaves) {
  // A model slow enough that 3000 tokens take far longer than the test waits.
  ModelConfig config = synthetic_config("tiny");
  config.hidden_size = 512, config.intermediate_size = 1024, config.num_layers = 8;
  config.num_heads = 8, config.num_kv_heads = 8, config.head_dim = 64;
  config.max_position_embeddings = 4096;
  config.vocab_size = 258;  // the demo's byte-level tokenizer
  CpuBackend backend(1);
  const DemoModel demo = build_demo_model(backend);
  CausalLM model(config, ModelWeights::random(config, DType::F32, 3, backend), backend);
  AdapterStore adapters(config, 1 << 20);
  ServiceOptions options;
  options.engine.kv.num_blocks = 256;
  EngineService service(model, options);
  ServerLimits limits;
  limits.max_new_tokens = 4000;
  limits.max_total_tokens = 4096;
  HttpServer server(ServerContext{service, &demo.text, adapters, "slow", "f32", std::nullopt,
                                  std::nullopt, false, limits});
  const int port = server.start("127.0.0.1", 0);

  const nlohmann::json body = {
      {"inputs", "Once upon a time"},
      {"parameters", {{"max_new_tokens", 3000}, {"ignore_eos_token", true}}}};
  post_and_leave(port, body.dump());
  ASSERT_GT(service.stats().engine.generated_tokens, 0) << "the request never started";
  const auto left = std::chrono::steady_clock::now();
  while (service.stats().in_flight > 0 && std::chrono::steady_clock::now() - left < 5s)
    std::this_thread::sleep_for(20ms);
  const ServiceStats stats = service.stats();
  EXPECT_EQ(stats.in_flight, 0);
  EXPECT_EQ(stats.engine.kv_blocks_free, stats.engine.kv_blocks_total);
  EXPECT_LT(stats.engine.generated_tokens, 3000);  // stopped early
  server.stop();
}

}  // namespace
}  // namespace lorax
