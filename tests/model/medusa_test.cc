// Medusa heads: speculative_logits of both layouts (v1: own output matrices, v2: the model's LM
// head) at every prompt position against the float64 reference, the model's own logits
// unchanged beside them, and clear refusals of heads that do not fit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>

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

// Medusa v2 heads derived from the fixture's: the first `num_heads`, every weight times
// `scale`, written under `dir` (with a LoRA adapter's files beside them when `lora` names one).
std::string derived_heads(testing::TempDir& dir, int64_t num_heads, float scale,
                          const std::string& lora = "") {
  const std::string v2 = medusa_dir("llama-tiny-medusa-v2");
  const CheckpointTensors src = CheckpointTensors::open_file(v2 + "/medusa_lm_head.safetensors");
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const std::string& name : src.names()) {
    if (std::stoll(name.substr(0, name.find('.'))) >= num_heads) continue;
    const Tensor t = src.get(name);
    Tensor copy = Tensor::empty(t.shape(), DType::F32);
    for (int64_t i = 0; i < t.numel(); ++i) copy.data<float>()[i] = t.data<float>()[i] * scale;
    tensors.emplace_back(name, copy);
  }
  const std::string out = dir.file("heads-" + std::to_string(num_heads));
  std::filesystem::create_directories(out);
  testing::write_safetensors(out + "/medusa_lm_head.safetensors", tensors);
  nlohmann::json config = nlohmann::json::parse(testing::read_file(v2 + "/config.json"));
  config["medusa_num_heads"] = num_heads;
  std::ofstream(out + "/config.json") << config.dump();
  if (!lora.empty())
    for (const char* file : {"adapter_config.json", "adapter_model.safetensors"})
      std::filesystem::copy_file(lora + "/" + file, out + "/" + file);
  return out;
}

// A request's Medusa adapter scores its own rows; the server's heads score the others, in the
// same step, each row as it would be alone.
class MedusaAdapterHeads : public ::testing::TestWithParam<testing::TestDevice> {};

TEST_P(MedusaAdapterHeads, ScoreTheirOwnRowsInAMixedStep) {
  const testing::TestDevice& device = GetParam();
  const std::string why = testing::unavailable_reason(device);
  if (!why.empty()) GTEST_SKIP() << why;
  auto backend_owner = testing::make_test_backend(device);
  Backend& backend = *backend_owner;
  auto model = CausalLM::load(testing::model_dir("llama-tiny"), backend);
  // Each row as it would be alone: the same arithmetic on the CPU; on the GPU another row
  // count may pick another GEMM, so within f32 rounding.
  const double tolerance = device.spec.device == Device::CPU ? 1e-5 : 1e-4;
  // A host copy that the next forward (which reuses the workspace) leaves alone.
  auto kept = [&](const Tensor& t) { return testing::fetch_f32(backend, t); };
  testing::TempDir dir;
  const std::string other = derived_heads(dir, 3, 0.5f);
  const auto server_heads = MedusaHeads::load("v2", medusa_dir("llama-tiny-medusa-v2"),
                                              model->config(), backend, DType::F32);
  const auto adapter = LoraAdapter::load("other", other, model->config());
  ASSERT_TRUE(adapter->medusa());
  model->set_speculative_heads(server_heads);
  model->configure_adapter_slots(2);
  model->load_adapter(1, nullptr, adapter->medusa());

  const auto cases = testing::base_cases("llama-tiny");
  ASSERT_GE(cases.size(), 2u);
  const std::vector<int32_t>& a = cases[0].input_ids;
  const std::vector<int32_t>& b = cases[1].input_ids;
  KvCacheOptions kv;
  kv.block_size = 16;
  kv.num_blocks = 64;
  PagedKvCache cache(*model, kv);
  // Rows 0..|b|-1: b with the adapter's heads; then a with the server's, b first so the two
  // groups are not in row order.
  ForwardBatch batch;
  std::vector<int32_t> table_b, table_a;
  cache.blocks().allocate(cache.blocks_for(int64_t(b.size())), table_b);
  cache.blocks().allocate(cache.blocks_for(int64_t(a.size())), table_a);
  const int64_t width = int64_t(std::max(table_a.size(), table_b.size()));
  for (const auto& [ids, table, slot] :
       {std::tuple(&b, &table_b, 1), std::tuple(&a, &table_a, -1)}) {
    for (size_t p = 0; p < ids->size(); ++p) {
      batch.input_ids.push_back((*ids)[p]);
      batch.position_ids.push_back(int32_t(p));
      batch.slots.push_back((*table)[p / 16] * 16 + int32_t(p % 16));
      batch.lm_head_indices.push_back(int32_t(batch.input_ids.size()) - 1);
      batch.adapter_data.head_slot.push_back(slot);
    }
    std::vector<int32_t> row(size_t(width), 0);
    std::copy(table->begin(), table->end(), row.begin());
    batch.block_tables.insert(batch.block_tables.end(), row.begin(), row.end());
    batch.seqlen.push_back(int32_t(ids->size()));
  }
  batch.cu_seqlen_prefill = {0, int32_t(b.size()), int32_t(a.size() + b.size())};
  batch.max_blocks = width;
  batch.max_s = int64_t(std::max(a.size(), b.size()));
  const ForwardOutput mixed = model->forward(batch, cache.layers());
  const Tensor mixed_spec = kept(mixed.speculative_logits);
  const int64_t S = 3, V = model->config().vocab_size, nb = int64_t(b.size());
  ASSERT_EQ(mixed.speculative_logits.shape(), Shape({int64_t(a.size() + b.size()), S, V}));

  PagedKvCache alone_cache(*model, kv);
  const Tensor want_a = kept(prompt_forward(*model, alone_cache, a).speculative_logits);
  const Tensor server_b = kept(prompt_forward(*model, alone_cache, b).speculative_logits);
  model->set_speculative_heads(
      MedusaHeads::load("other", other, model->config(), backend, DType::F32));
  const Tensor want_b = kept(prompt_forward(*model, alone_cache, b).speculative_logits);
  const Tensor got = mixed_spec.reshape({int64_t(a.size() + b.size()), S * V});
  EXPECT_LT(max_abs_diff(got.rows(0, nb), want_b.reshape({nb, S * V})), tolerance);
  EXPECT_LT(max_abs_diff(got.rows(nb, nb + int64_t(a.size())),
                         want_a.reshape({int64_t(a.size()), S * V})),
            tolerance);
  // The two sets of heads differ, so the rows could not pass by scoring both with one.
  EXPECT_GT(max_abs_diff(want_b, server_b), 1e-2);
}

// f32 devices only: in bf16 a row's rounding depends on the rows beside it.
INSTANTIATE_TEST_SUITE_P(Devices, MedusaAdapterHeads, ::testing::ValuesIn([] {
                           std::vector<testing::TestDevice> f32;
                           for (const auto& d : testing::all_test_devices())
                             if (d.activation == DType::F32) f32.push_back(d);
                           return f32;
                         }()),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// Heads beside a LoRA adapter's files (LoRAX's combined Medusa adapters) load as both; heads in
// another number than the server's are refused naming both counts.
TEST(MedusaHeads, AdapterHeadsBesideLoraAndTheirCount) {
  CpuBackend backend(1);
  auto model = CausalLM::load(testing::model_dir("llama-tiny"), backend);
  testing::TempDir dir;
  const auto combined = LoraAdapter::load(
      "combined",
      derived_heads(dir, 3, 1.0f, testing::model_dir("llama-tiny") + "/adapters/lora-qv"),
      model->config());
  EXPECT_GT(combined->max_rank(), 0);
  ASSERT_TRUE(combined->medusa());
  EXPECT_EQ(combined->medusa()->num_heads(), 3);
  model->set_speculative_heads(MedusaHeads::load("v2", medusa_dir("llama-tiny-medusa-v2"),
                                                 model->config(), backend, DType::F32));
  const auto two = LoraAdapter::load("two", derived_heads(dir, 2, 1.0f), model->config());
  EXPECT_NE(model->adapter_heads_refusal(*two->medusa())
                .find("as many heads as the server's (3); this one has 2"),
            std::string::npos)
      << model->adapter_heads_refusal(*two->medusa());
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
  // As a request's adapter, heads ride only beside the server's own, in kind and number.
  auto as_adapter = LoraAdapter::load("heads", v2, llama->config());
  ASSERT_TRUE(as_adapter->medusa());
  EXPECT_EQ(as_adapter->max_rank(), 0);
  EXPECT_NE(llama->adapter_heads_refusal(*as_adapter->medusa()).find("--speculative-adapter"),
            std::string::npos);
  llama->set_speculative_heads(heads);
  EXPECT_EQ(llama->adapter_heads_refusal(*as_adapter->medusa()), "");
  const auto v1 = LoraAdapter::load("v1", medusa_dir("llama-tiny-medusa-v1"), llama->config());
  EXPECT_NE(llama->adapter_heads_refusal(*v1->medusa()).find("only version 2"), std::string::npos);
  llama->configure_adapter_slots(1);
  expect_refused([&] { llama->load_adapter(0, nullptr, v1->medusa()); }, "only version 2");
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
