// Medusa heads: speculative_logits of both layouts (v1: own output matrices, v2: the model's LM
// head) at every prompt position against the float64 reference, the model's own logits
// unchanged beside them, and clear refusals of heads that do not fit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "adapters/lora_adapter.h"
#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "engine/paged_kv_cache.h"
#include "io/safetensors.h"
#include "model/causal_lm.h"
#include "model/medusa.h"
#include "support/devices.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

std::string medusa_dir(const std::string& name) {
  return testing::fixtures_dir() + "/medusa/" + name;
}

// Prefill of one prompt with logits (and speculative logits) at every position.
ForwardOutput prompt_forward(CausalLM& model, PagedKvCache& cache,
                             const std::vector<int32_t>& ids) {
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
  ForwardOutput out = model.forward(batch, cache.layers());
  cache.blocks().release(table);
  return out;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::fabs(double(a.data<float>()[i]) - double(b.data<float>()[i])));
  return worst;
}

// (heads, device): the CPU and CUDA at full precision within 1e-4 in log-probability (the CPU
// also in raw logits); CUDA in bf16 to the bf16 tolerance of the fixtures' GPU runs: each row's
// reference choice within 2e-2 in log-probability, and the same choice wherever the reference's
// top-2 margin exceeds 0.1.
using MedusaCase = std::tuple<std::string, testing::TestDevice>;
class MedusaFixtures : public ::testing::TestWithParam<MedusaCase> {};

TEST_P(MedusaFixtures, SpeculativeLogitsMatchTheReferenceAtEveryPosition) {
  const auto& [name, device] = GetParam();
  const std::string why = testing::unavailable_reason(device);
  if (!why.empty()) GTEST_SKIP() << why;
  auto backend = testing::make_test_backend(device);
  auto model = CausalLM::load(testing::model_dir("llama-tiny"), *backend, device.activation);
  auto heads =
      MedusaHeads::load(name, medusa_dir(name), model->config(), *backend, device.activation);
  model->set_speculative_heads(heads);
  const auto reference =
      SafetensorsFile::open(testing::fixtures_dir() + "/medusa/reference.safetensors");
  KvCacheOptions kv;
  kv.num_blocks = 64;
  kv.dtype = device.activation;
  PagedKvCache cache(*model, kv);
  const auto cases = testing::base_cases("llama-tiny");
  ASSERT_FALSE(cases.empty());
  const bool full = device.activation == DType::F32;
  double worst_logprob = 0, worst_chosen = 0;
  for (const auto& c : cases) {
    const std::string key = name + ".prompt." + std::to_string(c.prompt) + ".speculative_logits";
    ASSERT_TRUE(reference.contains(key)) << key;
    const Tensor want = reference.get(key);
    const ForwardOutput out = prompt_forward(*model, cache, c.input_ids);
    const Tensor got = testing::fetch_f32(*backend, out.speculative_logits);
    ASSERT_EQ(got.shape(), want.shape()) << key;
    EXPECT_EQ(got.dim(1), heads->num_heads());
    if (device.name == "cpu") {
      EXPECT_LT(max_abs_diff(got, want), 1e-4) << key;
    }
    const Tensor flat_got = got.reshape({got.dim(0) * got.dim(1), got.dim(2)});
    const Tensor flat_want = want.reshape({want.dim(0) * want.dim(1), want.dim(2)});
    const auto a = testing::log_softmax_rows(flat_got), b = testing::log_softmax_rows(flat_want);
    for (size_t r = 0; r < a.size(); ++r) {
      for (size_t i = 0; i < a[r].size(); ++i)
        worst_logprob = std::max(worst_logprob, std::fabs(a[r][i] - b[r][i]));
      const size_t best = size_t(std::max_element(b[r].begin(), b[r].end()) - b[r].begin());
      worst_chosen = std::max(worst_chosen, std::fabs(a[r][best] - b[r][best]));
      std::vector<double> sorted = b[r];
      std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
      if (sorted[0] - sorted[1] > 0.1) {
        const size_t ours = size_t(std::max_element(a[r].begin(), a[r].end()) - a[r].begin());
        EXPECT_EQ(ours, best) << key << " row " << r;
      }
    }
    // The model's own logits are what they are without heads.
    if (full) {
      const auto l = testing::log_softmax_rows(testing::fetch_f32(*backend, out.logits));
      const auto ref = testing::log_softmax_rows(c.logits);
      double logit_err = 0;
      for (size_t row = 0; row < l.size(); ++row)
        for (size_t i = 0; i < l[row].size(); ++i)
          logit_err = std::max(logit_err, std::fabs(l[row][i] - ref[row][i]));
      EXPECT_LT(logit_err, 1e-4) << key;
    }
  }
  if (full) {
    EXPECT_LT(worst_logprob, 1e-4) << name << " on " << device.name;
  }
  EXPECT_LT(worst_chosen, full ? 1e-4 : 2e-2) << name << " on " << device.name;
  std::printf("Medusa %s on %s: worst log-probability error %.3g, of the reference's choice %.3g\n",
              name.c_str(), device.name.c_str(), worst_logprob, worst_chosen);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, MedusaFixtures,
    ::testing::Combine(::testing::Values("llama-tiny-medusa-v1", "llama-tiny-medusa-v2"),
                       ::testing::ValuesIn(testing::all_test_devices())),
    [](const auto& info) {
      std::string device = std::get<1>(info.param).name;
      std::replace(device.begin(), device.end(), '-', '_');
      return std::string(std::get<0>(info.param) == "llama-tiny-medusa-v1" ? "v1_" : "v2_") +
             device;
    });

void expect_refused(const std::function<void()>& f, const std::string& words) {
  try {
    f();
    ADD_FAILURE() << "not refused; expected: " << words;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(MedusaHeads, RefusesHeadsThatDoNotFit) {
  CpuBackend backend(1);
  auto llama = CausalLM::load(testing::model_dir("llama-tiny"), backend);
  auto gemma = CausalLM::load(testing::model_dir("gemma-tiny"), backend);
  const std::string v2 = medusa_dir("llama-tiny-medusa-v2");
  EXPECT_TRUE(MedusaHeads::is_medusa_dir(v2));
  EXPECT_FALSE(MedusaHeads::is_medusa_dir(testing::model_dir("llama-tiny") + "/adapters/lora-qv"));
  auto heads = MedusaHeads::load("v2", v2, llama->config(), backend, DType::F32);
  // Gemma's forward has no speculative logits.
  expect_refused([&] { gemma->set_speculative_heads(heads); }, "cannot be used with a gemma model");
  // Heads made for another width, broken configs, missing tensors.
  // A request's adapter must be a LoRA adapter: Medusa heads are given at start.
  expect_refused([&] { LoraAdapter::load("heads", v2, llama->config()); },
                 "holds Medusa heads, not a LoRA adapter");
  testing::TempDir dir;
  auto write_config = [&](const std::string& text) {
    std::ofstream(dir.file("config.json")) << text;
  };
  write_config("{\"medusa_num_heads\": 2, \"medusa_num_layers\": 1, \"hidden_size\": 96}");
  expect_refused([&] { MedusaHeads::load("x", dir.path(), llama->config(), backend, DType::F32); },
                 "\"hidden_size\" is 96 but the model's is 64");
  write_config("{\"medusa_num_heads\": 0, \"medusa_num_layers\": 1, \"version\": 2}");
  expect_refused([&] { MedusaHeads::load("x", dir.path(), llama->config(), backend, DType::F32); },
                 "\"medusa_num_heads\" must be an integer from 1 to 64");
  write_config("{\"medusa_num_heads\": 2, \"medusa_num_layers\": 1, \"version\": 3}");
  expect_refused([&] { MedusaHeads::load("x", dir.path(), llama->config(), backend, DType::F32); },
                 "\"version\" must be 1 or 2");
  write_config("{\"medusa_num_heads\": 2, \"medusa_num_layers\": 1, \"version\": 2}");
  expect_refused([&] { MedusaHeads::load("x", dir.path(), llama->config(), backend, DType::F32); },
                 "no medusa_lm_head.safetensors");
  write_config("{\"medusa_num_heads\": 4, \"medusa_num_layers\": 1, \"version\": 2}");
  std::filesystem::copy_file(v2 + "/medusa_lm_head.safetensors",
                             dir.file("medusa_lm_head.safetensors"));
  expect_refused([&] { MedusaHeads::load("x", dir.path(), llama->config(), backend, DType::F32); },
                 "missing tensor '3.0.linear.weight'");
  write_config("{\"medusa_num_heads\": 2,");
  expect_refused([&] { MedusaHeads::load("x", dir.path(), llama->config(), backend, DType::F32); },
                 "not valid JSON");
}

}  // namespace
}  // namespace lorax
