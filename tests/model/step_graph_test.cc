// Recorded decode steps (step graphs) give exactly what running each op eagerly gives.
//
// The CPU backend cannot record CUDA graphs, so this test gives it the same contract through a
// recording backend: between begin_step_graph and end_step_graph every op is stored (with the
// tensor views it was called on) instead of run, and a replay runs the stored ops again. Like a
// CUDA graph, a replay sees only what the model rewrote in the recorded buffers, so the test
// catches a step input that moves, a padding row that writes the cache, or a bucket whose
// layout differs from the one recorded.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "engine/engine.h"
#include "engine/paged_kv_cache.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

class RecordedOps final : public StepGraph {
 public:
  explicit RecordedOps(std::vector<std::function<void()>> ops) : ops_(std::move(ops)) {}
  void replay() override {
    ++replays;
    for (auto& op : ops_) op();
  }
  int replays = 0;

 private:
  std::vector<std::function<void()>> ops_;
};

class RecordingCpuBackend final : public CpuBackend {
 public:
  RecordingCpuBackend() : CpuBackend(2) {}

  bool supports_step_graphs() const override { return true; }
  void begin_step_graph() override {
    LORAX_CHECK(!recording_, "already recording");
    recording_ = true;
  }
  std::unique_ptr<StepGraph> end_step_graph() override {
    LORAX_CHECK(recording_, "not recording");
    recording_ = false;
    ++recorded;
    return std::make_unique<RecordedOps>(std::move(ops_));
  }

  // A CUDA graph records no transfers or waits of the host: neither may happen while recording.
  void copy(const Tensor& src, Tensor& dst) override {
    LORAX_CHECK(!recording_, "copy while recording a step graph");
    CpuBackend::copy(src, dst);
  }
  void synchronize() override { LORAX_CHECK(!recording_, "synchronize while recording"); }

  void linear(const Tensor& x, const Tensor& w, Tensor& y) override {
    run([=, this]() mutable { CpuBackend::linear(x, w, y); });
  }
  void rms_norm(const Tensor& x, const Tensor& w, float eps, float offset, Tensor& out) override {
    run([=, this]() mutable { CpuBackend::rms_norm(x, w, eps, offset, out); });
  }
  void add_rms_norm(Tensor& residual, const Tensor& x, const Tensor& w, float eps, float offset,
                    Tensor& out) override {
    run([=, this]() mutable { CpuBackend::add_rms_norm(residual, x, w, eps, offset, out); });
  }
  void add(Tensor& x, const Tensor& y) override {
    run([=, this]() mutable { CpuBackend::add(x, y); });
  }
  void embedding(const Tensor& ids, const Tensor& table, float scale, Tensor& out) override {
    run([=, this]() mutable { CpuBackend::embedding(ids, table, scale, out); });
  }
  void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out) override {
    run([=, this]() mutable { CpuBackend::gather_rows(x, indices, out); });
  }
  void rotary_kv_write(Tensor& qkv, const Tensor& positions, const Tensor& cos_sin,
                       const HeadLayout& heads, const Tensor& slots, KvCacheLayer& cache) override {
    KvCacheLayer* layer = &cache;
    run([=, this]() mutable {
      CpuBackend::rotary_kv_write(qkv, positions, cos_sin, heads, slots, *layer);
    });
  }
  void gated_activation(const Tensor& gate_up, Activation act, Tensor& out) override {
    run([=, this]() mutable { CpuBackend::gated_activation(gate_up, act, out); });
  }
  void attention(const Tensor& qkv, const KvCacheLayer& cache, const AttentionChunks& chunks,
                 const HeadLayout& heads, float scale, Tensor& out) override {
    const KvCacheLayer* layer = &cache;
    run([=, this]() mutable { CpuBackend::attention(qkv, *layer, chunks, heads, scale, out); });
  }
  void lora(const Tensor& x, const LoraStep& step, int64_t layer, std::span<const LoraSlice> slices,
            Tensor& y) override {
    LORAX_CHECK(!recording_, "LoRA steps are not recorded");
    CpuBackend::lora(x, step, layer, slices, y);
  }

  int recorded = 0;

 private:
  template <typename Op>
  void run(Op op) {
    if (recording_)
      ops_.emplace_back(std::move(op));
    else
      op();
  }
  bool recording_ = false;
  std::vector<std::function<void()>> ops_;
};

struct Run {
  std::vector<int32_t> ids;
  std::vector<float> logprobs;
};

// Requests whose lengths make the decode batch shrink through several buckets (5 -> 8 padded,
// 4, 3 -> 4, 2, 1) and whose contexts cross the 256- and 512-token context buckets.
std::map<uint64_t, Run> generate(CausalLM& model) {
  EngineOptions options;
  options.kv.block_size = 16;
  options.kv.num_blocks = 256;
  Engine engine(model, options);
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {1, 4}, {30, 12}, {120, 40}, {240, 60}, {250, 300}};
  for (size_t i = 0; i < shapes.size(); ++i) {
    GenerationRequest r;
    for (int64_t t = 0; t < shapes[i].first; ++t)
      r.prompt_ids.push_back(int32_t((t * 37 + int64_t(i) * 101 + 1) % 512));
    r.max_new_tokens = shapes[i].second;
    r.ignore_eos = true;
    if (i % 2 == 1) {  // sampled rows too: the sampler reads the replayed logits
      r.sampling.temperature = 0.8f;
      r.sampling.seed = 7 + i;
    }
    engine.add(r);
  }
  std::map<uint64_t, Run> runs;
  while (engine.has_work())
    for (const StepOutput& o : engine.step())
      if (o.token) {
        runs[o.request_id].ids.push_back(o.token->id);
        runs[o.request_id].logprobs.push_back(o.token->logprob);
      }
  return runs;
}

TEST(StepGraphs, ReplayedDecodeStepsEqualEagerOnes) {
  CpuBackend eager_backend(2);
  auto eager = CausalLM::load(testing::model_dir("llama-tiny"), eager_backend);
  ASSERT_FALSE(eager->step_graphs());  // the plain CPU backend records nothing
  const auto expected = generate(*eager);

  RecordingCpuBackend backend;
  auto model = CausalLM::load(testing::model_dir("llama-tiny"), backend);
  ASSERT_TRUE(model->step_graphs());
  const auto got = generate(*model);

  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [id, run] : expected) {
    EXPECT_EQ(got.at(id).ids, run.ids) << "request " << id;
    EXPECT_EQ(got.at(id).logprobs, run.logprobs) << "request " << id;
  }
  // One recording per (batch bucket, context bucket) met: 8, 4, 2 and 1 rows; 256, 512 and
  // 1024 tokens of context; far fewer than the decode steps replayed.
  EXPECT_GE(backend.recorded, 4);
  EXPECT_LE(backend.recorded, 12);
  EXPECT_EQ(model->recorded_step_graphs(), backend.recorded);
}

// A prefill of `ids` then one decode step per `decodes` token, through `layers` (blocks 0, 1,
// ...); returns the decode steps' logits.
std::vector<std::vector<float>> decode_logits(CausalLM& model, std::vector<KvCacheLayer>& layers,
                                              const std::vector<int32_t>& ids, int decodes) {
  const int64_t block_size = layers.front().block_size();
  std::vector<int32_t> table;
  for (int32_t b = 0; b < int32_t(layers.front().num_blocks()); ++b) table.push_back(b);
  ForwardBatch prefill;
  for (size_t p = 0; p < ids.size(); ++p) {
    prefill.input_ids.push_back(ids[p]);
    prefill.position_ids.push_back(int32_t(p));
    prefill.slots.push_back(int32_t(p));
  }
  prefill.cu_seqlen_prefill = {0, int32_t(ids.size())};
  prefill.block_tables = table;
  prefill.max_blocks = int64_t(table.size());
  prefill.seqlen = {int32_t(ids.size())};
  prefill.max_s = int64_t(ids.size());
  model.forward(prefill, layers);
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < decodes; ++i) {
    const int32_t p = int32_t(ids.size()) + i;
    ForwardBatch decode;
    decode.input_ids = {int32_t((p * 13 + 5) % 512)};
    decode.position_ids = {p};
    decode.slots = {p};
    decode.block_tables = table;
    decode.max_blocks = int64_t(table.size());
    decode.seqlen = {p + 1};
    decode.max_s = p + 1;
    EXPECT_LT(p + 1, block_size * int64_t(table.size()));
    const Tensor logits = model.forward(decode, layers).logits;
    rows.emplace_back(logits.data<float>(), logits.data<float>() + logits.dim(1));
  }
  return rows;
}

// A new cache may be allocated where the old one's first layer was while its other layers
// land elsewhere: the steps recorded with the old cache must not be replayed on it.
TEST(StepGraphs, ACacheSharingOnlyItsFirstLayerIsRecordedAgain) {
  KvCacheOptions kv;
  kv.block_size = 16;
  kv.num_blocks = 4;
  const std::vector<int32_t> first = {1, 50, 90, 7, 300, 12};
  const std::vector<int32_t> second = {2, 400, 33, 81, 5, 260};  // no longer: no growth

  CpuBackend eager_backend(2);
  auto eager = CausalLM::load(testing::model_dir("llama-tiny"), eager_backend);
  PagedKvCache eager_cache(*eager, kv);
  const auto expected = decode_logits(*eager, eager_cache.layers(), second, 3);

  RecordingCpuBackend backend;
  auto model = CausalLM::load(testing::model_dir("llama-tiny"), backend);
  PagedKvCache recorded_with(*model, kv), other(*model, kv);
  decode_logits(*model, recorded_with.layers(), first, 3);
  const int recordings = backend.recorded;
  ASSERT_GE(recordings, 1);
  std::vector<KvCacheLayer> sharing = other.layers();
  sharing.front() = recorded_with.layers().front();
  const auto got = decode_logits(*model, sharing, second, 3);
  EXPECT_GT(backend.recorded, recordings);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "decode step " << i;
}

TEST(StepGraphs, NothingRecordedWhenTurnedOff) {
  RecordingCpuBackend backend;
  auto model = CausalLM::load(testing::model_dir("llama-tiny"), backend);
  model->set_step_graphs(false);
  EXPECT_FALSE(model->step_graphs());
  generate(*model);
  EXPECT_EQ(backend.recorded, 0);
}

}  // namespace
}  // namespace lorax
