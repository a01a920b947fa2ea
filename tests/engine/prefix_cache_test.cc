// The engine's prefix cache: the same answers with it as without, blocks shared only within one
// adapter (and one load of it), and no block lost to preemption, eviction, cancellation or an
// adapter unloaded while the cache is full.
#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "backend/cpu/cpu_backend.h"
#include "engine/engine.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

struct Answer {
  std::vector<int32_t> ids;
  std::vector<float> logprobs;
  int64_t cached_tokens = 0;
};

std::map<uint64_t, Answer> run_all(Engine& engine) {
  std::map<uint64_t, Answer> answers;
  for (int guard = 0; engine.has_work() && guard < 100000; ++guard)
    for (const StepOutput& o : engine.step()) {
      Answer& a = answers[o.request_id];
      a.cached_tokens = std::max(a.cached_tokens, o.cached_tokens);
      if (!o.token) continue;
      a.ids.push_back(o.token->id);
      a.logprobs.push_back(o.token->logprob);
    }
  return answers;
}

void expect_same(const Answer& got, const Answer& want, const std::string& what) {
  EXPECT_EQ(got.ids, want.ids) << what;
  ASSERT_EQ(got.logprobs.size(), want.logprobs.size()) << what;
  for (size_t t = 0; t < want.logprobs.size(); ++t)
    EXPECT_NEAR(got.logprobs[t], want.logprobs[t], 1e-4) << what << " token " << t;
}

EngineOptions options(bool prefix_caching) {
  EngineOptions o;
  o.kv.block_size = 4;  // small, so that the fixtures' short prompts fill some blocks
  o.prefix_caching = prefix_caching;
  return o;
}

class PrefixCacheFixtures : public ::testing::TestWithParam<std::string> {
 protected:
  CpuBackend backend{2};
  std::unique_ptr<CausalLM> model = CausalLM::load(testing::model_dir(GetParam()), backend);
  std::map<std::string, std::shared_ptr<const LoraAdapter>> adapters;

  std::shared_ptr<const LoraAdapter> adapter(const std::optional<std::string>& name) {
    if (!name) return nullptr;
    auto& a = adapters[*name];
    if (!a)
      a = LoraAdapter::load(*name, testing::model_dir(GetParam()) + "/adapters/" + *name,
                            model->config());
    return a;
  }
  GenerationRequest request(const std::vector<int32_t>& prompt,
                            std::shared_ptr<const LoraAdapter> a) {
    GenerationRequest r;
    r.prompt_ids = prompt;
    r.max_new_tokens = 8;
    r.ignore_eos = true;
    r.adapter = std::move(a);
    return r;
  }
};

TEST_P(PrefixCacheFixtures, CachedPrefixesGiveTheSameAnswers) {
  const auto cases = testing::load_cases(GetParam());
  std::vector<std::optional<std::string>> owners{std::nullopt};
  for (const auto& c : cases)
    if (c.adapter && std::find(owners.begin(), owners.end(), c.adapter) == owners.end())
      owners.push_back(c.adapter);
  for (const auto& c : cases) {
    const std::string what = "case " + std::to_string(c.prompt) + " " + c.adapter.value_or("base");
    Engine off(*model, options(false));
    off.add(request(c.input_ids, adapter(c.adapter)));
    const Answer want = run_all(off).begin()->second;
    // The same prompt was served before for every adapter and the base, and a longer one that
    // starts with it is running beside it; whole prompts, chunks, and chunks of 3 tokens.
    for (const auto& [chunked, budget] : {std::pair{false, 4096}, {true, 4096}, {true, 3}}) {
      EngineOptions o = options(true);
      o.chunked_prefill = chunked;
      o.max_batch_prefill_tokens = budget;
      const std::string how = what + (chunked ? " chunks of " + std::to_string(budget) : " whole");
      Engine on(*model, o);
      for (const auto& owner : owners) on.add(request(c.input_ids, adapter(owner)));
      run_all(on);
      EXPECT_EQ(on.stats().prefix_cache_hit_tokens, 0) << how;  // no owner shares another's
      std::vector<int32_t> longer = c.input_ids;
      longer.insert(longer.end(), {5, 6, 7, 8, 9});
      on.add(request(longer, adapter(c.adapter)));
      const uint64_t id = on.add(request(c.input_ids, adapter(c.adapter)));
      auto answers = run_all(on);
      expect_same(answers[id], want, how);
      // Every full block before the one holding its last token.
      const int64_t blocks = (int64_t(c.input_ids.size()) - 1) / 4;
      EXPECT_EQ(answers[id].cached_tokens, blocks * 4) << how;
      EXPECT_EQ(on.stats().kv_blocks_free, on.stats().kv_blocks_total) << how;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, PrefixCacheFixtures,
                         ::testing::ValuesIn(testing::fixture_models()),
                         [](const auto& info) { return testing::model_param_name(info.param); });

class PrefixCacheEngine : public ::testing::Test {
 protected:
  CpuBackend backend{2};
  std::unique_ptr<CausalLM> model = CausalLM::load(testing::model_dir("stories260K"), backend);
  std::shared_ptr<const LoraAdapter> load(const std::string& name) {
    return LoraAdapter::load(name, testing::model_dir("stories260K") + "/adapters/" + name,
                             model->config());
  }
  static GenerationRequest request(std::vector<int32_t> prompt, int64_t max_new,
                                   std::shared_ptr<const LoraAdapter> a = nullptr) {
    GenerationRequest r;
    r.prompt_ids = std::move(prompt);
    r.max_new_tokens = max_new;
    r.ignore_eos = true;
    r.adapter = std::move(a);
    return r;
  }
  static std::vector<int32_t> prompt(size_t n, int32_t salt = 0) {
    std::vector<int32_t> p{1};
    while (p.size() < n) p.push_back(int32_t(260 + (p.size() * 7 + size_t(salt)) % 200));
    return p;
  }
};

TEST_F(PrefixCacheEngine, TwoAdaptersWithOnePromptNeverShareBlocks) {
  Engine engine(*model, options(true));
  const auto ben = load("lora-ben"), beach = load("lora-beach");
  engine.add(request(prompt(18), 2, ben));
  engine.add(request(prompt(18), 2, beach));
  run_all(engine);
  // Each published its own 4 prompt blocks (19 tokens computed: 4 full blocks each).
  EXPECT_EQ(engine.stats().prefix_cache_hit_tokens, 0);
  EXPECT_EQ(engine.stats().prefix_cache_blocks, 8);
  engine.add(request(prompt(18), 2, beach));
  run_all(engine);
  EXPECT_EQ(engine.stats().prefix_cache_hit_tokens, 16);
}

TEST_F(PrefixCacheEngine, PromptLogprobsComputeTheWholePrompt) {
  Engine engine(*model, options(true));
  engine.add(request(prompt(18), 2));
  run_all(engine);
  GenerationRequest r = request(prompt(18), 2);
  r.prompt_logprobs = true;
  engine.add(r);
  EXPECT_EQ(run_all(engine).begin()->second.cached_tokens, 0);
  EXPECT_EQ(engine.stats().prefix_cache_hit_tokens, 0);
}

TEST_F(PrefixCacheEngine, ReloadedAdapterMatchesNoneOfItsOldBlocks) {
  Engine engine(*model, options(true));
  auto ben = load("lora-ben");
  engine.add(request(prompt(18), 3, ben));
  const Answer first = run_all(engine).begin()->second;
  EXPECT_GT(engine.stats().prefix_cache_blocks, 0);
  ben.reset();    // unloaded: only the engine's adapter slot still held it
  engine.step();  // nothing to run; the unloaded adapter's blocks are retired
  EXPECT_EQ(engine.stats().prefix_cache_blocks, 0);
  EXPECT_EQ(engine.stats().kv_blocks_free, engine.stats().kv_blocks_total);
  engine.add(request(prompt(18), 3, load("lora-ben")));
  const Answer again = run_all(engine).begin()->second;
  EXPECT_EQ(again.cached_tokens, 0);
  expect_same(again, first, "reloaded");
}

TEST_F(PrefixCacheEngine, FullCacheLosesNoBlockToPreemptionEvictionCancelOrUnload) {
  EngineOptions tight = options(true);
  tight.kv.num_blocks = 24;  // 96 tokens: evicts and preempts
  tight.max_batch_prefill_tokens = 7;
  Engine engine(*model, tight);
  const int64_t start = engine.stats().kv_blocks_free;
  auto ben = load("lora-ben"), beach = load("lora-beach");
  std::vector<std::pair<std::vector<int32_t>, std::shared_ptr<const LoraAdapter>>> work;
  for (int round = 0; round < 3; ++round)
    for (const auto& a : {std::shared_ptr<const LoraAdapter>(), ben, beach}) {
      std::vector<int32_t> p = prompt(20);  // one shared 20-token prefix, own 6-token tails
      const std::vector<int32_t> tail = prompt(7, round * 31 + (a ? int32_t(a->name().size()) : 0));
      p.insert(p.end(), tail.begin() + 1, tail.end());
      work.push_back({p, a});
    }
  std::vector<uint64_t> ids;
  for (const auto& [p, a] : work) ids.push_back(engine.add(request(p, 30, a)));
  for (int i = 0; i < 6; ++i) engine.step();
  engine.cancel(ids[1]);  // mid-run
  engine.cancel(ids[7]);  // perhaps still waiting
  ben.reset();            // unloaded while its requests run: they keep their own reference
  for (auto& [p, a] : work) a.reset();
  run_all(engine);
  engine.step();
  const EngineStats s = engine.stats();
  EXPECT_GT(s.preemptions, 0);
  EXPECT_GT(s.prefix_cache_hit_tokens, 0);
  EXPECT_GT(s.prefix_cache_evictions, 0);
  EXPECT_EQ(s.kv_blocks_free, start);
  EXPECT_LE(s.prefix_cache_blocks, s.kv_blocks_total);
}

TEST_F(PrefixCacheEngine, PreemptedSequencesRecomputeTheSameTokens) {
  std::vector<std::vector<int32_t>> prompts{prompt(30), prompt(30), prompt(25, 3), prompt(12)};
  std::vector<Answer> alone;
  for (const auto& p : prompts) {
    Engine engine(*model, options(false));
    engine.add(request(p, 40));
    alone.push_back(run_all(engine).begin()->second);
  }
  EngineOptions tight = options(true);
  tight.kv.num_blocks = 32;  // 128 tokens for ~240: must preempt
  Engine engine(*model, tight);
  std::vector<uint64_t> ids;
  for (const auto& p : prompts) ids.push_back(engine.add(request(p, 40)));
  auto answers = run_all(engine);
  EXPECT_GT(engine.stats().preemptions, 0);
  EXPECT_EQ(engine.stats().kv_blocks_free, 32);
  for (size_t i = 0; i < prompts.size(); ++i)
    expect_same(answers[ids[i]], alone[i], "prompt " + std::to_string(i));
}

}  // namespace
}  // namespace lorax
