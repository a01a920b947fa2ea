// Decode through the paged cache gives what a full recompute gives, and the FP8 cache's error
// against the float64 reference stays within its stated tolerance.
#include <gtest/gtest.h>

#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "engine/paged_kv_cache.h"
#include "model/causal_lm.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

// Runs prompt[0, split) as a prefill, then each later token as a decode step, and returns the
// logits row of every position from split - 1 on: [len - split + 1, vocab].
std::vector<std::vector<float>> prefill_then_decode(CausalLM& model,
                                                    const std::vector<int32_t>& ids, size_t split,
                                                    DType kv_dtype, int64_t block_size) {
  KvCacheOptions kv;
  kv.block_size = block_size;
  kv.num_blocks = int64_t(ids.size()) / block_size + 2;
  kv.dtype = kv_dtype;
  PagedKvCache cache(model, kv);
  std::vector<int32_t> table;
  cache.blocks().allocate(cache.blocks_for(int64_t(ids.size())), table);
  auto slot = [&](size_t p) {
    return table[p / block_size] * int32_t(block_size) + int32_t(p % block_size);
  };
  std::vector<std::vector<float>> rows;
  auto keep = [&](const Tensor& logits) {
    rows.emplace_back(logits.data<float>(), logits.data<float>() + logits.dim(1));
  };
  ForwardBatch prefill;
  for (size_t p = 0; p < split; ++p) {
    prefill.input_ids.push_back(ids[p]);
    prefill.position_ids.push_back(int32_t(p));
    prefill.slots.push_back(slot(p));
  }
  prefill.cu_seqlen_prefill = {0, int32_t(split)};
  prefill.block_tables = table;
  prefill.max_blocks = int64_t(table.size());
  prefill.seqlen = {int32_t(split)};
  prefill.max_s = int64_t(split);
  keep(model.forward(prefill, cache.layers()).logits);
  for (size_t p = split; p < ids.size(); ++p) {
    ForwardBatch decode;
    decode.input_ids = {ids[p]};
    decode.position_ids = {int32_t(p)};
    decode.slots = {slot(p)};
    decode.block_tables = table;
    decode.max_blocks = int64_t(table.size());
    decode.seqlen = {int32_t(p + 1)};
    decode.max_s = int64_t(p + 1);
    keep(model.forward(decode, cache.layers()).logits);
  }
  return rows;
}

struct ErrorStats {
  double max = 0;       // worst |logprob error| over every vocabulary entry
  double top1_max = 0;  // worst error on the reference's most likely token
  int argmax_mismatches = 0;
};

ErrorStats error_stats(const std::vector<std::vector<float>>& rows, size_t first,
                       const Tensor& reference) {
  const auto ref = testing::log_softmax_rows(reference);
  ErrorStats s;
  for (size_t r = 0; r < rows.size(); ++r) {
    Tensor one = Tensor::empty({1, int64_t(rows[r].size())}, DType::F32);
    std::copy(rows[r].begin(), rows[r].end(), one.data<float>());
    const auto ours = testing::log_softmax_rows(one)[0];
    const auto& expected = ref[first + r];
    const size_t best =
        size_t(std::max_element(expected.begin(), expected.end()) - expected.begin());
    const size_t ours_best = size_t(std::max_element(ours.begin(), ours.end()) - ours.begin());
    s.argmax_mismatches += best != ours_best;
    s.top1_max = std::max(s.top1_max, std::fabs(ours[best] - expected[best]));
    for (size_t i = 0; i < ours.size(); ++i)
      s.max = std::max(s.max, std::fabs(ours[i] - expected[i]));
  }
  return s;
}

double max_error_vs_reference(const std::vector<std::vector<float>>& rows, size_t first,
                              const Tensor& reference) {
  const auto ref = testing::log_softmax_rows(reference);
  double worst = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    Tensor one = Tensor::empty({1, int64_t(rows[r].size())}, DType::F32);
    std::copy(rows[r].begin(), rows[r].end(), one.data<float>());
    const auto ours = testing::log_softmax_rows(one)[0];
    for (size_t i = 0; i < ours.size(); ++i)
      worst = std::max(worst, std::fabs(ours[i] - ref[first + r][i]));
  }
  return worst;
}

class DecodePath : public ::testing::TestWithParam<std::string> {};

TEST_P(DecodePath, DecodeAfterPrefillMatchesRecompute) {
  CpuBackend backend(2);
  auto model = CausalLM::load(testing::model_dir(GetParam()), backend);
  for (const auto& c : testing::base_cases(GetParam())) {
    if (c.input_ids.size() < 4) continue;
    const size_t split = c.input_ids.size() / 2;
    // block size 4 makes every sequence span several blocks, exercising the tables
    const auto rows = prefill_then_decode(*model, c.input_ids, split, DType::F32, 4);
    EXPECT_LT(max_error_vs_reference(rows, split - 1, c.logits), 1e-4)
        << GetParam() << " prompt " << c.prompt;
  }
}

// Reduced-precision KV caches. Attention reads every key and value through the cache, the
// prefill's own included (a prefill chunk may follow cached tokens), so the last prefill row and
// every decode row see the stored values. First measured when prefill still read its own f32
// keys (decode of every prompt token after the first two):
//   bf16:      most-likely token's logprob within 0.012, any vocabulary entry within 0.093
//   fp8 e4m3:  most-likely token's logprob within 0.198, any vocabulary entry within 2.82
//              (rare tokens far down the tail), argmax agreeing
//              at 97% of positions or more (llama-tiny: 9 mismatches out of 356)
// Since prefill reads the cache: fp8 top-token error up to 0.225 (stories260K), argmax agreement
// 96.4% or more (llama-tiny-linearrope-bf16, 1 of 28; llama-tiny 11 of 356); bf16 0.017.
// The bounds below sit just above those figures; they are what the caches are documented to
// reach, not a loosened f32 check (the f32 path on the same steps stays within 1e-4).
struct CacheTolerance {
  DType dtype;
  double top1;
  double any;
  double argmax_agreement;
};

TEST_P(DecodePath, ReducedPrecisionCachesStayWithinTheirTolerance) {
  CpuBackend backend(2);
  auto model = CausalLM::load(testing::model_dir(GetParam()), backend);
  const CacheTolerance tolerances[] = {{DType::BF16, 0.02, 0.1, 0.99},
                                       {DType::F8E4M3, 0.25, 3.0, 0.95}};
  for (const auto& tol : tolerances) {
    ErrorStats worst;
    size_t positions = 0;
    for (const auto& c : testing::base_cases(GetParam())) {
      if (c.input_ids.size() < 4) continue;
      const size_t split = 2;
      const auto rows = prefill_then_decode(*model, c.input_ids, split, tol.dtype, 16);
      const ErrorStats s = error_stats(rows, split - 1, c.logits);
      worst.max = std::max(worst.max, s.max);
      worst.top1_max = std::max(worst.top1_max, s.top1_max);
      worst.argmax_mismatches += s.argmax_mismatches;
      positions += rows.size();
      const auto exact = prefill_then_decode(*model, c.input_ids, split, DType::F32, 16);
      EXPECT_LT(max_error_vs_reference(exact, split - 1, c.logits), 1e-4);
    }
    const std::string name(dtype_name(tol.dtype));
    std::printf("%s %s cache: top1 %.4f, any %.4f, argmax mismatches %d/%zu\n", GetParam().c_str(),
                name.c_str(), worst.top1_max, worst.max, worst.argmax_mismatches, positions);
    EXPECT_LT(worst.top1_max, tol.top1) << name;
    EXPECT_LT(worst.max, tol.any) << name;
    EXPECT_GE(1.0 - double(worst.argmax_mismatches) / double(positions), tol.argmax_agreement)
        << name;
    EXPECT_GT(worst.max, 1e-6) << name << ": the cache did not quantise";
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, DecodePath, ::testing::ValuesIn(testing::fixture_models()),
                         [](const auto& info) { return testing::model_param_name(info.param); });

}  // namespace
}  // namespace lorax
