// The engine's scheduling: continuous batching, preemption under KV pressure, cancellation, and
// results that do not depend on batching.
#include "engine/engine.h"

#include <chrono>
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

struct SequenceRun {
  std::vector<int32_t> ids;
  std::vector<float> logprobs;
  FinishReason finish = FinishReason::None;
};

std::map<uint64_t, SequenceRun> run_all(Engine& engine) {
  std::map<uint64_t, SequenceRun> runs;
  int guard = 0;
  while (engine.has_work() && ++guard < 100000)
    for (const auto& o : engine.step()) {
      SequenceRun& r = runs[o.request_id];
      if (o.token) {
        r.ids.push_back(o.token->id);
        r.logprobs.push_back(o.token->logprob);
      }
      if (o.finish != FinishReason::None) r.finish = o.finish;
    }
  return runs;
}

GenerationRequest request(std::vector<int32_t> prompt, int64_t max_new) {
  GenerationRequest r;
  r.prompt_ids = std::move(prompt);
  r.max_new_tokens = max_new;
  r.ignore_eos = true;
  return r;
}

class EngineTest : public ::testing::Test {
 protected:
  CpuBackend backend{2};
  std::unique_ptr<CausalLM> model = CausalLM::load(testing::model_dir("stories260K"), backend);
  std::vector<std::vector<int32_t>> prompts() {
    std::vector<std::vector<int32_t>> out;
    for (const auto& c : testing::base_cases("stories260K")) out.push_back(c.input_ids);
    out.push_back({1});
    out.push_back({1, 403});
    return out;
  }
};

TEST_F(EngineTest, PreemptionUnderKvPressureGivesTheSameTokens) {
  const auto ps = prompts();
  std::vector<SequenceRun> alone;
  for (const auto& p : ps) {
    Engine engine(*model, EngineOptions{});
    engine.add(request(p, 60));
    alone.push_back(run_all(engine).begin()->second);
  }
  EngineOptions tight;
  tight.kv.num_blocks = 8;  // 128 tokens for six sequences of up to ~70: must preempt
  tight.kv.block_size = 16;
  Engine engine(*model, tight);
  std::vector<uint64_t> ids;
  for (const auto& p : ps) ids.push_back(engine.add(request(p, 60)));
  auto runs = run_all(engine);
  EXPECT_GT(engine.stats().preemptions, 0);
  EXPECT_EQ(engine.stats().kv_blocks_free, 8);  // everything returned
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_EQ(runs[ids[i]].ids, alone[i].ids) << "prompt " << i;
    EXPECT_EQ(runs[ids[i]].finish, FinishReason::Length);
    ASSERT_EQ(runs[ids[i]].logprobs.size(), alone[i].logprobs.size());
    for (size_t t = 0; t < alone[i].logprobs.size(); ++t)
      EXPECT_NEAR(runs[ids[i]].logprobs[t], alone[i].logprobs[t], 1e-4);
  }
}

TEST_F(EngineTest, LateArrivalsJoinARunningBatch) {
  const auto ps = prompts();
  Engine engine(*model, EngineOptions{});
  const uint64_t first = engine.add(request(ps[0], 30));
  std::map<uint64_t, SequenceRun> runs;
  auto record = [&](const std::vector<StepOutput>& outs) {
    for (const auto& o : outs)
      if (o.token) runs[o.request_id].ids.push_back(o.token->id);
  };
  for (int i = 0; i < 5; ++i) record(engine.step());
  const uint64_t second = engine.add(request(ps[1], 10));
  while (engine.has_work()) record(engine.step());
  EXPECT_EQ(runs[first].ids.size(), 30u);
  EXPECT_EQ(runs[second].ids.size(), 10u);
  Engine solo(*model, EngineOptions{});
  solo.add(request(ps[1], 10));
  EXPECT_EQ(run_all(solo).begin()->second.ids, runs[second].ids);
  EXPECT_GT(engine.stats().prefill_steps, 1);
}

TEST_F(EngineTest, CancelFreesBlocksAtOnce) {
  Engine engine(*model, EngineOptions{});
  const uint64_t id = engine.add(request(prompts()[0], 100));
  engine.step();
  EXPECT_LT(engine.stats().kv_blocks_free, engine.stats().kv_blocks_total);
  engine.cancel(id);
  EXPECT_EQ(engine.stats().kv_blocks_free, engine.stats().kv_blocks_total);
  EXPECT_FALSE(engine.has_work());
}

TEST_F(EngineTest, RejectsRequestsItCannotServe) {
  EngineOptions small;
  small.kv.num_blocks = 2;
  Engine engine(*model, small);
  EXPECT_THROW(engine.add(request({}, 5)), Error);
  EXPECT_THROW(engine.add(request({1, 600}, 5)), Error);     // vocabulary is 512
  EXPECT_THROW(engine.add(request({1, 2, 3}, 100)), Error);  // 103 tokens > 32 in cache
  GenerationRequest r = request({1}, 5);
  r.top_logprobs = 21;
  EXPECT_THROW(engine.add(r), Error);
  r.top_logprobs = 0;
  r.logit_bias = {{512, 1.0f}};  // outside the vocabulary
  EXPECT_THROW(engine.add(r), Error);
  r.logit_bias = {{5, 1.0f}, {5, 2.0f}};  // twice
  EXPECT_THROW(engine.add(r), Error);
  r.logit_bias = {{5, INFINITY}};
  EXPECT_THROW(engine.add(r), Error);
  EXPECT_NO_THROW(engine.add(request({1, 2, 3}, 20)));
}

TEST_F(EngineTest, LogitBiasReachesTheSampler) {
  Engine engine(*model, EngineOptions{});
  GenerationRequest r = request({1, 403}, 6);
  r.logit_bias = {{300, 100.0f}};
  const uint64_t id = engine.add(r);
  const uint64_t plain = engine.add(request({1, 403}, 6));  // a batch mate without bias
  auto runs = run_all(engine);
  EXPECT_EQ(runs[id].ids, std::vector<int32_t>(6, 300));
  EXPECT_NE(runs[plain].ids, std::vector<int32_t>(6, 300));
}

// A request's queue time ends when the step that admits it begins: with room for one sequence,
// the second request starts only in the step after the first one ends.
TEST_F(EngineTest, OutputsSayWhenTheAdmittingStepBegan) {
  EngineOptions one;
  one.max_running = 1;
  Engine engine(*model, one);
  const uint64_t first = engine.add(request({1, 403}, 3));
  const uint64_t second = engine.add(request({1, 403, 9}, 3));
  std::map<uint64_t, std::vector<std::chrono::steady_clock::time_point>> started;
  std::map<uint64_t, std::chrono::steady_clock::time_point> before_first_token;
  std::chrono::steady_clock::time_point first_ended;
  while (engine.has_work()) {
    const auto before = std::chrono::steady_clock::now();
    for (const StepOutput& o : engine.step()) {
      started[o.request_id].push_back(o.started_at);
      if (!before_first_token.count(o.request_id)) before_first_token[o.request_id] = before;
      if (o.request_id == first && o.finish != FinishReason::None)
        first_ended = std::chrono::steady_clock::now();
    }
  }
  for (uint64_t id : {first, second}) {
    ASSERT_EQ(started[id].size(), 3u);
    for (const auto& t : started[id]) EXPECT_EQ(t, started[id][0]);  // the same on every output
    // Admitted in the step that produced its first token (its short prompt fits one step).
    EXPECT_GE(started[id][0], before_first_token[id]);
  }
  EXPECT_GT(started[second][0], first_ended);
}

TEST_F(EngineTest, SeededSamplingIsReproducible) {
  auto sample = [&](uint64_t seed) {
    Engine engine(*model, EngineOptions{});
    GenerationRequest r = request({1}, 40);
    r.sampling.temperature = 1.0f;
    r.sampling.top_k = 50;
    r.sampling.top_p = 0.9f;
    r.sampling.seed = seed;
    engine.add(r);
    engine.add(request({1, 403}, 40));  // a batch mate must not disturb it
    return run_all(engine).begin()->second.ids;
  };
  EXPECT_EQ(sample(7), sample(7));
  EXPECT_NE(sample(7), sample(8));
}

TEST(KvBlockAllocator, HandsOutAndTakesBackBlocks) {
  KvBlockAllocator blocks(4);
  std::vector<int32_t> a, b;
  blocks.allocate(3, a);
  EXPECT_EQ(blocks.num_free(), 1);
  EXPECT_FALSE(blocks.can_allocate(2));
  EXPECT_THROW(blocks.allocate(2, b), Error);
  blocks.release(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(blocks.num_free(), 4);
  blocks.allocate(4, b);
  std::sort(b.begin(), b.end());
  EXPECT_EQ(b, (std::vector<int32_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace lorax

namespace lorax {
namespace {

class AdapterScheduling : public EngineTest {
 protected:
  std::shared_ptr<const LoraAdapter> adapter(const std::string& name) {
    return LoraAdapter::load(name, testing::model_dir("stories260K") + "/adapters/" + name,
                             model->config());
  }
  GenerationRequest for_adapter(std::shared_ptr<const LoraAdapter> a, int64_t max_new) {
    GenerationRequest r = request({1, 403, 407}, max_new);
    r.adapter = std::move(a);
    return r;
  }
};

TEST_F(AdapterScheduling, AdmissionIsRoundRobinAcrossAdapters) {
  EngineOptions options;
  options.max_batch_prefill_tokens = 6;  // two 3-token prompts per prefill
  Engine engine(*model, options);
  const auto ben = adapter("lora-ben"), beach = adapter("lora-beach");
  const uint64_t a1 = engine.add(for_adapter(ben, 4));
  engine.add(for_adapter(ben, 4));
  engine.add(for_adapter(ben, 4));
  const uint64_t b1 = engine.add(for_adapter(beach, 4));
  std::set<uint64_t> first;
  for (const auto& o : engine.step()) first.insert(o.request_id);
  EXPECT_EQ(first, (std::set<uint64_t>{a1, b1}));  // not the three ben requests in a row
}

TEST_F(AdapterScheduling, BusyAdapterCannotStarveAnotherWhenSlotsRunOut) {
  EngineOptions options;
  options.max_active_adapters = 1;
  options.adapter_cycle_time = std::chrono::milliseconds(0);
  Engine engine(*model, options);
  const auto ben = adapter("lora-ben"), beach = adapter("lora-beach");
  engine.add(for_adapter(ben, 10));
  const uint64_t waiting_beach = engine.add(for_adapter(beach, 3));
  engine.step();  // ben takes the only slot
  EXPECT_EQ(engine.stats().running, 1);
  // ben keeps receiving work; beach must still get in once ben's first request drains
  std::vector<uint64_t> late_ben;
  std::vector<uint64_t> first_token_order;
  std::set<uint64_t> started;
  for (int step = 0; step < 200 && engine.has_work(); ++step) {
    if (step < 20) late_ben.push_back(engine.add(for_adapter(ben, 3)));
    for (const auto& o : engine.step())
      if (o.token && started.insert(o.request_id).second) first_token_order.push_back(o.request_id);
  }
  EXPECT_FALSE(engine.has_work());
  auto pos = [&](uint64_t id) {
    return std::find(first_token_order.begin(), first_token_order.end(), id) -
           first_token_order.begin();
  };
  // beach started before the ben requests that arrived while it waited
  EXPECT_LT(pos(waiting_beach), pos(late_ben.back()));
  EXPECT_LT(pos(waiting_beach), int64_t(first_token_order.size()));
}

TEST_F(AdapterScheduling, TotalTokenBudgetLimitsTheBatch) {
  EngineOptions options;
  options.max_batch_total_tokens = 8;
  Engine engine(*model, options);
  engine.add(request({1, 403, 407, 261, 378}, 3));
  engine.add(request({1, 403, 407, 261, 378}, 3));
  engine.step();
  EXPECT_EQ(engine.stats().running, 1);  // 5 + 5 > 8: the second waits
  EXPECT_EQ(engine.stats().waiting, 1);
  while (engine.has_work()) engine.step();
}

}  // namespace
}  // namespace lorax

namespace lorax {
namespace {

// The adapter pool has fewer slots than adapters seen over time: slots are reused, least
// recently used first, warmed ahead or loaded on demand, and every request still gets what it
// gets alone.
class AdapterSlots : public AdapterScheduling {
 protected:
  // The request's tokens and their log-probabilities (adapters may agree on the tokens).
  std::vector<std::pair<int32_t, float>> tokens_of(Engine& engine, GenerationRequest r) {
    const uint64_t id = engine.add(std::move(r));
    std::vector<std::pair<int32_t, float>> out;
    while (engine.has_work())
      for (const auto& o : engine.step())
        if (o.request_id == id && o.token) out.emplace_back(o.token->id, o.token->logprob);
    return out;
  }
};

TEST_F(AdapterSlots, SlotsAreReusedAndWarmedWithoutChangingOutputs) {
  const auto ben = adapter("lora-ben"), beach = adapter("lora-beach");
  EngineOptions roomy;
  Engine reference(*model, roomy);
  const auto ben_alone = tokens_of(reference, for_adapter(ben, 6));
  const auto beach_alone = tokens_of(reference, for_adapter(beach, 6));
  ASSERT_NE(ben_alone, beach_alone);

  EngineOptions one_slot;
  one_slot.max_active_adapters = 1;
  Engine engine(*model, one_slot);
  engine.warm_adapters({beach});
  EXPECT_EQ(tokens_of(engine, for_adapter(ben, 6)), ben_alone);  // evicts beach from the slot
  EXPECT_EQ(tokens_of(engine, for_adapter(beach, 6)), beach_alone);
  EXPECT_EQ(tokens_of(engine, for_adapter(ben, 6)), ben_alone);
  EXPECT_THROW(engine.warm_adapters({ben, beach}), Error);  // more adapters than slots
}

}  // namespace
}  // namespace lorax
