// The engine thread behind a server: concurrent submissions, per-request event streams,
// cancellation freeing blocks, overload refusal and shutdown.
#include "engine/engine_service.h"

#include <gtest/gtest.h>

#include <thread>

#include "backend/cpu/cpu_backend.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

using namespace std::chrono_literals;

GenerationRequest request(std::vector<int32_t> prompt, int64_t max_new) {
  GenerationRequest r;
  r.prompt_ids = std::move(prompt);
  r.max_new_tokens = max_new;
  r.ignore_eos = true;
  return r;
}

std::vector<int32_t> drain(RequestHandle& handle, FinishReason* reason = nullptr) {
  std::vector<int32_t> ids;
  for (;;) {
    auto event = handle.next(10s);
    if (!event) {
      ADD_FAILURE() << "no event within 10 s";
      return ids;
    }
    if (event->token) ids.push_back(event->token->id);
    if (event->finish != FinishReason::None) {
      if (reason) *reason = event->finish;
      return ids;
    }
  }
}

class EngineServiceTest : public ::testing::Test {
 protected:
  CpuBackend backend{2};
  std::unique_ptr<CausalLM> model = CausalLM::load(testing::model_dir("stories260K"), backend);
};

TEST_F(EngineServiceTest, ConcurrentClientsGetWhatTheyGetAlone) {
  Engine alone(*model, EngineOptions{});
  alone.add(request({1, 403}, 20));
  std::vector<int32_t> expected;
  while (alone.has_work())
    for (const auto& o : alone.step())
      if (o.token) expected.push_back(o.token->id);

  EngineService service(*model, ServiceOptions{});
  std::vector<std::thread> clients;
  std::vector<std::vector<int32_t>> got(6);
  for (int i = 0; i < 6; ++i)
    clients.emplace_back([&, i] {
      auto handle = service.submit(request({1, 403}, 20));
      got[size_t(i)] = drain(*handle);
    });
  for (auto& c : clients) c.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
  EXPECT_EQ(service.stats().in_flight, 0);
}

TEST_F(EngineServiceTest, DroppingAHandleCancelsAndFreesBlocks) {
  EngineService service(*model, ServiceOptions{});
  {
    auto handle = service.submit(request({1}, 400));
    ASSERT_TRUE(handle->next(10s));  // running now
  }  // the client goes away
  for (int i = 0; i < 100 && service.stats().in_flight > 0; ++i) std::this_thread::sleep_for(10ms);
  const ServiceStats s = service.stats();
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.engine.kv_blocks_free, s.engine.kv_blocks_total);
}

TEST_F(EngineServiceTest, ExplicitCancelEndsTheStream) {
  EngineService service(*model, ServiceOptions{});
  auto handle = service.submit(request({1}, 400));
  ASSERT_TRUE(handle->next(10s));
  handle->cancel();
  FinishReason reason = FinishReason::None;
  drain(*handle, &reason);
  EXPECT_EQ(reason, FinishReason::Cancelled);
}

TEST_F(EngineServiceTest, RefusesBadRequestsAndOverload) {
  ServiceOptions options;
  options.max_concurrent_requests = 2;
  EngineService service(*model, options);
  EXPECT_THROW(service.submit(request({}, 5)), Error);
  auto a = service.submit(request({1}, 300));
  auto b = service.submit(request({1}, 300));
  EXPECT_THROW(service.submit(request({1}, 5)), OverloadedError);
  a->cancel();
  b->cancel();
  drain(*a);
  drain(*b);
  for (int i = 0; i < 100 && service.stats().in_flight > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_NO_THROW(drain(*service.submit(request({1}, 2))));
}

TEST_F(EngineServiceTest, ShutdownFinishesInFlightWithinGrace) {
  EngineService service(*model, ServiceOptions{});
  auto short_one = service.submit(request({1}, 5));
  auto long_one = service.submit(request({1}, 100000 / 300));
  service.shutdown(5s);
  FinishReason a = FinishReason::None, b = FinishReason::None;
  EXPECT_EQ(drain(*short_one, &a).size(), 5u);
  drain(*long_one, &b);
  EXPECT_EQ(a, FinishReason::Length);
  EXPECT_NE(b, FinishReason::None);
  EXPECT_THROW(service.submit(request({1}, 1)), ShuttingDownError);
}

}  // namespace
}  // namespace lorax

namespace lorax {
namespace {

// A CPU backend whose device "fails for good" at the first matmul after arm(), as a GPU does
// after an illegal address.
class LosingBackend : public CpuBackend {
 public:
  LosingBackend() : CpuBackend(1) {}
  void arm() { armed_ = true; }
  void linear(const Tensor& x, const Tensor& w, Tensor& y) override {
    if (armed_) throw DeviceLostError("illegal address (simulated)");
    CpuBackend::linear(x, w, y);
  }

 private:
  bool armed_ = false;
};

// A failing step of an ordinary kind cancels what ran and serves on (tested above); a lost
// device stops the process with a line saying so.
TEST(EngineServiceDeath, ALostDeviceStopsTheServerWithAClearMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        LosingBackend backend;
        auto model = CausalLM::load(testing::model_dir("stories260K"), backend);
        EngineService service(*model, ServiceOptions{});
        backend.arm();
        auto handle = service.submit(request({1, 403}, 4));
        handle->next(std::chrono::seconds(30));
      },
      ::testing::ExitedWithCode(EXIT_FAILURE), "the device is unusable, stopping the server");
}

}  // namespace
}  // namespace lorax
