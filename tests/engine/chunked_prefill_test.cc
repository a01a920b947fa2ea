// Chunked prefill: the step budget rule on its own, and a model's answers that do not depend on
// how prompts are cut into chunks or mixed with decodes.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "engine/engine.h"
#include "engine/step_budget.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

TEST(StepTokenBudget, ChunkedSplitsThePromptsThatDoNotFit) {
  StepTokenBudget budget(7, /*chunked=*/true);
  EXPECT_EQ(budget.take(3, false), 3);
  EXPECT_EQ(budget.take(10, false), 4);  // a chunk of what is left
  EXPECT_TRUE(budget.exhausted());
  EXPECT_EQ(budget.take(5, false), 0);  // waits for the next step
}

TEST(StepTokenBudget, ChunkedReadsALongPromptOverSeveralSteps) {
  int64_t pending = 18, steps = 0;
  while (pending > 0) {
    StepTokenBudget budget(7, true);
    pending -= budget.take(pending, true);
    ++steps;
  }
  EXPECT_EQ(steps, 3);  // 7 + 7 + 4
}

TEST(StepTokenBudget, UnchunkedTakesWholePromptsOrNone) {
  StepTokenBudget budget(10, /*chunked=*/false);
  EXPECT_EQ(budget.take(6, false), 6);
  EXPECT_EQ(budget.take(6, false), 0);  // does not fit in the 4 left: waits whole
  EXPECT_EQ(budget.take(4, false), 4);
  EXPECT_EQ(budget.take(1, true), 0);
}

TEST(StepTokenBudget, UnchunkedLetsALongPromptRunAlone) {
  StepTokenBudget alone(10, false);
  EXPECT_EQ(alone.take(25, /*alone=*/true), 25);
  EXPECT_EQ(alone.take(1, true), 0);  // the step is over budget already
  StepTokenBudget busy(10, false);
  EXPECT_EQ(busy.take(25, /*alone=*/false), 0);
  StepTokenBudget after(10, false);
  EXPECT_EQ(after.take(2, true), 2);
  EXPECT_EQ(after.take(25, true), 0);  // alone only for the step's first prompt
}

TEST(DecodePace, OffOrUnmeasuredLeavesTheBudget) {
  DecodePace off(0.0);
  off.observe(0, 32, 0.010);
  off.observe(1000, 0, 0.100);
  EXPECT_EQ(off.allowance(32, 4096), 4096);
  DecodePace pace(1.5);
  EXPECT_EQ(pace.allowance(32, 4096), 4096);  // nothing measured
  pace.observe(1000, 0, 0.100);
  EXPECT_EQ(pace.allowance(32, 4096), 4096);  // no decode step measured
  pace.observe(0, 32, 0.010);
  EXPECT_EQ(pace.allowance(0, 4096), 4096);  // nobody decodes: nothing to keep pace with
}

TEST(DecodePace, ChunksAimBelowTheFactorOfADecodeStep) {
  DecodePace pace(1.5);  // a chunk may add 5 ms to a 10 ms decode step; the plan aims at 4 ms
  pace.observe(0, 32, 0.010);
  pace.observe(1000, 0, 0.100);  // a prompt-only step: 0.1 ms a token, its fixed cost included
  EXPECT_NEAR(double(pace.allowance(32, 4096)), 40.0, 1.0);
  pace.observe(40, 32, 0.0124);             // measured: 2.4 ms for 40 tokens
  EXPECT_EQ(pace.allowance(32, 4096), 60);  // the fit says 66: at most 1.5x the last chunk
  pace.observe(60, 32, 0.0136);             // 0.06 ms a token, as predicted
  EXPECT_EQ(pace.allowance(32, 4096), 66);  // where 4 ms are added
  EXPECT_EQ(pace.allowance(32, 30), 30);    // never over the budget
  pace.observe(66, 32, 0.0150);             // later chunks attend to more: 5 ms
  EXPECT_LT(pace.allowance(32, 4096), 60);  // so the next one is smaller
}

TEST(DecodePace, APromptAlwaysProgresses) {
  DecodePace pace(1.5);
  pace.observe(0, 32, 0.001);
  pace.observe(10, 32, 0.011);  // 1 ms a token: the fit says no token at all
  EXPECT_EQ(pace.allowance(32, 4096), 1);
  pace.observe(1, 32, 0.002);
  EXPECT_EQ(pace.allowance(32, 4096), 1);
}

TEST(DecodePace, OneSlowStepDoesNotPinTheChunksSmall) {
  DecodePace pace(1.5);
  pace.observe(0, 32, 0.010);
  pace.observe(40, 32, 0.0124);  // 0.06 ms a token
  pace.observe(41, 32, 0.060);   // a hiccup: 50 ms for the same tokens
  EXPECT_LE(pace.allowance(32, 4096), 4);
  int64_t tokens = 0;
  for (int i = 0; i < 20; ++i) {  // then steps cost what they did before
    tokens = pace.allowance(32, 4096);
    pace.observe(tokens, 32, 0.010 + 0.00006 * double(tokens));
  }
  EXPECT_NEAR(double(tokens), 66.0, 2.0);
}

// On machines whose step time is linear in its tokens, the chunks settle where a step lasts the
// factor of a decode step: a CPU (every token costs) and a GPU (prompt tokens beside a
// memory-bound decode are nearly free until compute takes over).
TEST(DecodePace, SettlesAtTheFactorOnModelledMachines) {
  struct Machine {
    double decode_s, free_tokens, token_s;
    double step(int64_t tokens) const {
      return decode_s + std::max(0.0, double(tokens) - free_tokens) * token_s;
    }
  };
  for (const Machine m : {Machine{0.43, 0, 0.013}, Machine{0.0074, 150, 32e-6}}) {
    DecodePace pace(1.5);
    pace.observe(1024, 0, 1024 * m.token_s + 0.001);  // the streams' prompts
    for (int i = 0; i < 5; ++i) pace.observe(0, 32, m.step(0));
    std::vector<double> ratios;
    for (int i = 0; i < 30; ++i) {
      const int64_t tokens = pace.allowance(32, 4096);
      ratios.push_back(m.step(tokens) / m.decode_s);
      pace.observe(tokens, 32, m.step(tokens));
    }
    for (size_t i = 0; i < ratios.size(); ++i) EXPECT_LE(ratios[i], 1.5 + 1e-9) << i;
    EXPECT_GT(ratios.back(), 1.3);  // and uses most of what the factor allows
  }
}

struct Answer {
  std::vector<int32_t> ids;
  std::vector<float> logprobs;
  std::vector<float> prompt_logprobs;  // entries 1.. (entry 0 has no context)
  int64_t first_token_step = -1;
  FinishReason finish = FinishReason::None;
};

struct RunResult {
  std::map<uint64_t, Answer> answers;
  int64_t steps = 0;
};

void record(RunResult& run, const std::vector<StepOutput>& outputs) {
  for (const StepOutput& o : outputs) {
    Answer& a = run.answers[o.request_id];
    if (o.prompt_logprobs)
      for (size_t j = 1; j < o.prompt_logprobs->size(); ++j)
        a.prompt_logprobs.push_back((*o.prompt_logprobs)[j]->logprob);
    if (o.token) {
      if (a.ids.empty()) a.first_token_step = run.steps;
      a.ids.push_back(o.token->id);
      a.logprobs.push_back(o.token->logprob);
    }
    if (o.finish != FinishReason::None) a.finish = o.finish;
  }
  ++run.steps;
}

RunResult run_all(Engine& engine, RunResult run = {}) {
  for (int guard = 0; engine.has_work() && guard < 100000; ++guard) record(run, engine.step());
  return run;
}

void expect_same(const Answer& got, const Answer& want, const std::string& what) {
  EXPECT_EQ(got.ids, want.ids) << what;
  ASSERT_EQ(got.logprobs.size(), want.logprobs.size()) << what;
  for (size_t t = 0; t < want.logprobs.size(); ++t)
    EXPECT_NEAR(got.logprobs[t], want.logprobs[t], 1e-4) << what << " token " << t;
  ASSERT_EQ(got.prompt_logprobs.size(), want.prompt_logprobs.size()) << what;
  for (size_t j = 0; j < want.prompt_logprobs.size(); ++j)
    EXPECT_NEAR(got.prompt_logprobs[j], want.prompt_logprobs[j], 1e-4) << what << " prompt " << j;
}

class ChunkedPrefillFixtures : public ::testing::TestWithParam<std::string> {
 protected:
  CpuBackend backend{2};
  std::unique_ptr<CausalLM> model = CausalLM::load(testing::model_dir(GetParam()), backend);
  std::map<std::string, std::shared_ptr<const LoraAdapter>> adapters;

  GenerationRequest request_for(const testing::FixtureCase& c, bool prompt_logprobs) {
    GenerationRequest r;
    r.prompt_ids = c.input_ids;
    r.max_new_tokens = 8;
    r.ignore_eos = true;
    r.prompt_logprobs = prompt_logprobs;
    if (c.adapter) {
      auto& a = adapters[*c.adapter];
      if (!a)
        a = LoraAdapter::load(*c.adapter,
                              testing::model_dir(GetParam()) + "/adapters/" + *c.adapter,
                              model->config());
      r.adapter = a;
    }
    return r;
  }
};

TEST_P(ChunkedPrefillFixtures, TinyChunksMixedWithDecodesGiveTheSameAnswers) {
  const auto cases = testing::load_cases(GetParam());
  ASSERT_FALSE(cases.empty());
  EngineOptions whole;
  whole.chunked_prefill = false;
  std::vector<Answer> alone;
  for (const auto& c : cases) {
    Engine engine(*model, whole);
    engine.add(request_for(c, true));
    alone.push_back(run_all(engine).answers.begin()->second);
  }
  EngineOptions tiny;
  tiny.max_batch_prefill_tokens = 7;
  Engine engine(*model, tiny);
  // Two streams are already decoding when the fixture prompts arrive, so every later step mixes
  // decodes with prompt chunks (some of which end mid-prompt).
  RunResult run;
  GenerationRequest stream = request_for(cases.front(), false);
  stream.max_new_tokens = 40;
  const uint64_t s1 = engine.add(stream);
  const uint64_t s2 = engine.add(stream);
  for (int i = 0; i < 6; ++i) record(run, engine.step());
  std::vector<std::pair<uint64_t, uint64_t>> ids;  // with and without prompt logprobs
  for (const auto& c : cases)
    ids.push_back({engine.add(request_for(c, true)), engine.add(request_for(c, false))});
  run = run_all(engine, std::move(run));
  EXPECT_EQ(engine.stats().kv_blocks_free, engine.stats().kv_blocks_total);
  EXPECT_EQ(run.answers[s1].ids, run.answers[s2].ids);
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string what = "case " + std::to_string(i);
    expect_same(run.answers[ids[i].first], alone[i], what + " with prompt logprobs");
    Answer tokens_only = alone[i];
    tokens_only.prompt_logprobs.clear();
    expect_same(run.answers[ids[i].second], tokens_only, what);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ChunkedPrefillFixtures,
                         ::testing::ValuesIn(testing::fixture_models()),
                         [](const auto& info) { return testing::model_param_name(info.param); });

class ChunkedPrefillEngine : public ::testing::Test {
 protected:
  CpuBackend backend{2};
  std::unique_ptr<CausalLM> model = CausalLM::load(testing::model_dir("stories260K"), backend);
  static GenerationRequest request(std::vector<int32_t> prompt, int64_t max_new) {
    GenerationRequest r;
    r.prompt_ids = std::move(prompt);
    r.max_new_tokens = max_new;
    r.ignore_eos = true;
    return r;
  }
  static std::vector<int32_t> long_prompt(size_t n) {
    std::vector<int32_t> p{1};
    while (p.size() < n) p.push_back(int32_t(260 + p.size() % 200));
    return p;
  }
  // Steps until request `big` yields its first token; every one of them must give streams `a`
  // and `b` a token too. `each_step` checks more after every step.
  static int64_t steps_until_first_token(
      Engine& engine, uint64_t big, uint64_t a, uint64_t b,
      const std::function<void()>& each_step = [] {}) {
    int64_t steps = 0;
    for (bool started = false; !started; ++steps) {
      std::set<uint64_t> got;
      for (const auto& o : engine.step())
        if (o.token) got.insert(o.request_id);
      EXPECT_TRUE(got.count(a) && got.count(b)) << "step " << steps;
      started = got.count(big) > 0;
      each_step();
    }
    return steps;
  }
};

TEST_F(ChunkedPrefillEngine, RunningStreamsGetATokenEveryStepWhileAPromptIsRead) {
  EngineOptions options;
  options.max_batch_prefill_tokens = 7;
  Engine engine(*model, options);
  const uint64_t a = engine.add(request({1, 403}, 30));
  const uint64_t b = engine.add(request({1, 407}, 30));
  engine.step();
  const uint64_t big = engine.add(request(long_prompt(40), 3));
  const int64_t steps = steps_until_first_token(
      engine, big, a, b, [&] { EXPECT_LE(engine.stats().last_batch_tokens, 7 + 2); });
  EXPECT_EQ(steps, 6);  // 40 tokens, 7 a step
  while (engine.has_work()) engine.step();
}

// With the pace on, a prompt that fits the budget is still read in chunks beside decoding
// streams. At 1.5x a step may add half a decode step of two streams; on this model 300 prompt
// tokens cost many decode steps, so no plan takes them in one step (and at worst, a token a
// step, the prompt is read before the streams end).
TEST_F(ChunkedPrefillEngine, ThePaceCutsPromptsBesideDecodingStreams) {
  EngineOptions options;
  options.max_itl_factor = 1.5;
  Engine engine(*model, options);
  const uint64_t a = engine.add(request({1, 403}, 500));
  const uint64_t b = engine.add(request({1, 407}, 500));
  for (int i = 0; i < 6; ++i) engine.step();  // their prompts, then decode steps to measure
  const uint64_t big = engine.add(request(long_prompt(300), 2));
  const int64_t steps = steps_until_first_token(engine, big, a, b);
  EXPECT_GT(steps, 1);
  std::printf("300 prompt tokens read in %lld steps\n", (long long)steps);
  while (engine.has_work()) engine.step();
  EXPECT_EQ(engine.stats().kv_blocks_free, engine.stats().kv_blocks_total);
}

TEST_F(ChunkedPrefillEngine, APaceFactorThatCannotHoldIsRefused) {
  EngineOptions options;
  options.max_itl_factor = 0.5;  // a step can never be shorter than a decode-only one
  try {
    Engine engine(*model, options);
    FAIL() << "accepted max_itl_factor 0.5";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_itl_factor 0.5 must be 0 (off) or above 1"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ChunkedPrefillEngine, CancellingAPartlyReadPromptFreesItsBlocks) {
  EngineOptions options;
  options.max_batch_prefill_tokens = 7;
  Engine engine(*model, options);
  const uint64_t id = engine.add(request(long_prompt(40), 5));
  EXPECT_TRUE(engine.step().empty());  // the first chunk yields nothing yet
  EXPECT_LT(engine.stats().kv_blocks_free, engine.stats().kv_blocks_total);
  engine.cancel(id);
  EXPECT_EQ(engine.stats().kv_blocks_free, engine.stats().kv_blocks_total);
  EXPECT_FALSE(engine.has_work());
}

TEST_F(ChunkedPrefillEngine, PreemptedChunkedSequencesRecomputeTheSameTokens) {
  std::vector<std::vector<int32_t>> prompts{
      long_prompt(30), long_prompt(25), {1, 403}, long_prompt(12)};
  std::vector<Answer> alone;
  for (const auto& p : prompts) {
    Engine engine(*model, EngineOptions{});
    engine.add(request(p, 40));
    alone.push_back(run_all(engine).answers.begin()->second);
  }
  EngineOptions tight;
  tight.max_batch_prefill_tokens = 7;
  tight.kv.num_blocks = 8;  // 128 tokens for ~230: must preempt, mid-prompt too
  Engine engine(*model, tight);
  std::vector<uint64_t> ids;
  for (const auto& p : prompts) ids.push_back(engine.add(request(p, 40)));
  RunResult run = run_all(engine);
  EXPECT_GT(engine.stats().preemptions, 0);
  EXPECT_EQ(engine.stats().kv_blocks_free, 8);
  for (size_t i = 0; i < prompts.size(); ++i)
    expect_same(run.answers[ids[i]], alone[i], "prompt " + std::to_string(i));
}

}  // namespace
}  // namespace lorax
