// Every base case of every fixture model: full-vocabulary log-probabilities at every prompt
// position within 1e-4 of the float64 reference, through the paged prefill path.
#include <gtest/gtest.h>

#include <cmath>

#include "adapters/lora_adapter.h"
#include "backend/cpu/cpu_backend.h"
#include "engine/paged_kv_cache.h"
#include "model/causal_lm.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

constexpr double kLogprobTolerance = 1e-4;

// Prefill of one prompt with logits for every position.
Tensor prompt_logits(CausalLM& model, const std::vector<int32_t>& ids, DType kv_dtype,
                     std::shared_ptr<const LoraWeightSet> adapter = nullptr) {
  KvCacheOptions kv;
  kv.block_size = 16;
  kv.num_blocks = int64_t(ids.size()) / 16 + 2;
  kv.dtype = kv_dtype;
  PagedKvCache cache(model, kv);
  ForwardBatch batch;
  std::vector<int32_t> table;
  cache.blocks().allocate(cache.blocks_for(int64_t(ids.size())), table);
  for (size_t p = 0; p < ids.size(); ++p) {
    batch.input_ids.push_back(ids[p]);
    batch.position_ids.push_back(int32_t(p));
    batch.slots.push_back(table[p / 16] * 16 + int32_t(p % 16));
    batch.lm_head_indices.push_back(int32_t(p));
  }
  batch.cu_seqlen_prefill = {0, int32_t(ids.size())};
  batch.block_tables = table;
  batch.max_blocks = int64_t(table.size());
  batch.seqlen = {int32_t(ids.size())};
  batch.max_s = int64_t(ids.size());
  if (adapter) {
    if (model.adapter_slots() == 0) model.configure_adapter_slots(1);
    model.load_adapter(0, adapter);
    batch.adapter_data.token_slot.assign(ids.size(), 0);
  }
  // The logits are a view of the model's workspace: copy them out before the next forward.
  return model.backend().download(model.forward(batch, cache.layers()).logits).clone();
}

double max_logprob_error(const Tensor& ours, const Tensor& reference) {
  const auto a = testing::log_softmax_rows(ours);
  const auto b = testing::log_softmax_rows(reference);
  double worst = 0;
  for (size_t r = 0; r < a.size(); ++r)
    for (size_t i = 0; i < a[r].size(); ++i) worst = std::max(worst, std::fabs(a[r][i] - b[r][i]));
  return worst;
}

class FixtureLogits : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureLogits, BaseCasesMatchReference) {
  CpuBackend backend(2);
  auto model = CausalLM::load(testing::model_dir(GetParam()), backend);
  const auto cases = testing::base_cases(GetParam());
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    const Tensor logits = prompt_logits(*model, c.input_ids, DType::F32);
    ASSERT_EQ(logits.shape(), c.logits.shape());
    const double err = max_logprob_error(logits, c.logits);
    EXPECT_LT(err, kLogprobTolerance) << GetParam() << " prompt " << c.prompt;
    RecordProperty("max_err_prompt_" + std::to_string(c.prompt), std::to_string(err));
  }
}

TEST_P(FixtureLogits, AdapterCasesMatchReference) {
  CpuBackend backend(2);
  const std::string dir = testing::model_dir(GetParam());
  auto model = CausalLM::load(dir, backend);
  for (const auto& c : testing::load_cases(GetParam())) {
    if (!c.adapter) continue;
    const auto adapter =
        LoraAdapter::load(*c.adapter, dir + "/adapters/" + *c.adapter, model->config());
    const Tensor logits = prompt_logits(*model, c.input_ids, DType::F32, adapter->weights());
    const double err = max_logprob_error(logits, c.logits);
    EXPECT_LT(err, kLogprobTolerance) << GetParam() << " " << *c.adapter << " prompt " << c.prompt;
    // and the adapter really changes the output
    const double base_err =
        max_logprob_error(prompt_logits(*model, c.input_ids, DType::F32), c.logits);
    EXPECT_GT(base_err, 1e-3) << *c.adapter;
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, FixtureLogits, ::testing::ValuesIn(testing::fixture_models()),
                         [](const auto& info) { return testing::model_param_name(info.param); });

}  // namespace
}  // namespace lorax
