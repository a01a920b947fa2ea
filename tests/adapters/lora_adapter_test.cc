// PEFT adapter loading: what is accepted, what is rejected (with the adapter and the field or
// tensor named), and the engine serving others after each rejection.
#include "adapters/lora_adapter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "adapters/adapter_store.h"
#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "engine/engine.h"
#include "io/safetensors.h"
#include "model/causal_lm.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kModel = "llama-tiny";

// A writable copy of one of llama-tiny's adapters, to be altered by each test.
struct AdapterCopy {
  testing::TempDir dir;
  explicit AdapterCopy(const std::string& name = "lora-qv") {
    const std::string src = testing::model_dir(kModel) + "/adapters/" + name;
    for (const char* f : {"adapter_config.json", "adapter_model.safetensors"})
      fs::copy_file(src + "/" + f, dir.file(f));
  }
  json config() const { return json::parse(testing::read_file(dir.file("adapter_config.json"))); }
  void set_config(const json& c) const {
    testing::write_file(dir.file("adapter_config.json"), c.dump());
  }
  std::vector<std::pair<std::string, Tensor>> tensors() const {
    auto file = CheckpointTensors::open_file(dir.file("adapter_model.safetensors"));
    std::vector<std::pair<std::string, Tensor>> out;
    for (const auto& n : file.names()) out.emplace_back(n, file.get(n).clone());
    return out;
  }
  void set_tensors(const std::vector<std::pair<std::string, Tensor>>& t) const {
    testing::write_safetensors(dir.file("adapter_model.safetensors"), t);
  }
};

class AdapterLoading : public ::testing::Test {
 protected:
  CpuBackend backend{1};
  std::unique_ptr<CausalLM> model = CausalLM::load(testing::model_dir(kModel), backend);

  std::shared_ptr<const LoraAdapter> load(const AdapterCopy& a) {
    return LoraAdapter::load("test-adapter", a.dir.path(), model->config());
  }
  void expect_rejected(const AdapterCopy& a, std::initializer_list<std::string> parts) {
    try {
      load(a);
      ADD_FAILURE() << "adapter was accepted";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("test-adapter"), std::string::npos) << msg;
      for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg;
    }
    still_serves_others();
  }
  // After a rejection the engine still serves a good adapter and the base side by side.
  void still_serves_others() {
    Engine engine(*model, EngineOptions{});
    GenerationRequest with, without;
    with.prompt_ids = without.prompt_ids = {1, 5, 9};
    with.max_new_tokens = without.max_new_tokens = 3;
    with.adapter = LoraAdapter::load("lora-all", testing::model_dir(kModel) + "/adapters/lora-all",
                                     model->config());
    engine.add(with);
    engine.add(without);
    int tokens = 0;
    while (engine.has_work())
      for (const auto& o : engine.step()) tokens += o.token ? 1 : 0;
    EXPECT_EQ(tokens, 6);
  }
};

TEST_F(AdapterLoading, ReadsScalesRanksAndTargets) {
  const auto qv = load(AdapterCopy("lora-qv"));
  EXPECT_EQ(qv->targets(), (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(qv->max_rank(), 8);
  EXPECT_FLOAT_EQ(qv->weights()->at(0, LoraTarget::QProj).scale, 16.0f / 8.0f);
  EXPECT_FALSE(qv->weights()->at(0, LoraTarget::KProj).defined());
  const auto rs = load(AdapterCopy("lora-rslora-head"));
  EXPECT_FLOAT_EQ(rs->weights()->lm_head.scale, float(8.0 / std::sqrt(4.0)));  // rsLoRA
  EXPECT_TRUE(rs->weights()->lm_head.defined());
  const auto all = load(AdapterCopy("lora-all"));  // stored bf16, widened to f32
  EXPECT_EQ(all->weights()->at(1, LoraTarget::DownProj).a.dtype(), DType::F32);
}

TEST_F(AdapterLoading, TargetModulesAsRegexAndLayersToTransform) {
  AdapterCopy a("lora-all");
  json c = a.config();
  c["target_modules"] = ".*\\.(q_proj|v_proj)";
  c["layers_to_transform"] = {1};
  a.set_config(c);
  auto tensors = a.tensors();
  std::erase_if(tensors, [](const auto& t) {
    return t.first.find("layers.1.self_attn.q_proj") == std::string::npos &&
           t.first.find("layers.1.self_attn.v_proj") == std::string::npos;
  });
  a.set_tensors(tensors);
  const auto adapter = load(a);
  EXPECT_TRUE(adapter->weights()->at(1, LoraTarget::QProj).defined());
  EXPECT_FALSE(adapter->weights()->at(0, LoraTarget::QProj).defined());
  EXPECT_FALSE(adapter->weights()->at(1, LoraTarget::KProj).defined());
}

TEST_F(AdapterLoading, RankAndAlphaPatterns) {
  AdapterCopy a("lora-qv");
  json c = a.config();
  c["r"] = 4;  // the stored rank-8 pairs must then come from rank_pattern
  c["rank_pattern"] = {{"q_proj", 8}, {"v_proj", 8}};
  c["alpha_pattern"] = {{"model.layers.1.self_attn.v_proj", 64}};
  a.set_config(c);
  const auto adapter = load(a);
  EXPECT_FLOAT_EQ(adapter->weights()->at(0, LoraTarget::VProj).scale, 16.0f / 8.0f);
  EXPECT_FLOAT_EQ(adapter->weights()->at(1, LoraTarget::VProj).scale, 64.0f / 8.0f);
}

TEST_F(AdapterLoading, RejectsDora) {
  AdapterCopy a;
  json c = a.config();
  c["use_dora"] = true;
  a.set_config(c);
  expect_rejected(a, {"DoRA"});
}

TEST_F(AdapterLoading, RejectsModulesToSave) {
  AdapterCopy a;
  json c = a.config();
  c["modules_to_save"] = {"lm_head"};
  a.set_config(c);
  expect_rejected(a, {"modules_to_save"});
}

TEST_F(AdapterLoading, RejectsBias) {
  AdapterCopy a;
  json c = a.config();
  c["bias"] = "lora_only";
  a.set_config(c);
  expect_rejected(a, {"bias", "lora_only"});
}

TEST_F(AdapterLoading, RejectsEmbeddingLora) {
  AdapterCopy a;
  json c = a.config();
  c["target_modules"] = {"q_proj", "v_proj", "embed_tokens"};
  a.set_config(c);
  expect_rejected(a, {"embed_tokens"});
  AdapterCopy b;
  auto t = b.tensors();
  t.emplace_back("base_model.model.model.embed_tokens.lora_embedding_A",
                 Tensor::zeros({8, 512}, DType::F32));
  b.set_tensors(t);
  expect_rejected(b, {"lora_embedding_A", "unsupported tensor"});
}

TEST_F(AdapterLoading, RejectsPickleOnlyAdapters) {
  AdapterCopy a;
  fs::remove(a.dir.file("adapter_model.safetensors"));
  testing::write_file(a.dir.file("adapter_model.bin"), "pickle");
  expect_rejected(a, {"adapter_model.bin", "safetensors"});
}

TEST_F(AdapterLoading, RejectsCorruptedFiles) {
  AdapterCopy a;
  const std::string bytes = testing::read_file(a.dir.file("adapter_model.safetensors"));
  testing::write_file(a.dir.file("adapter_model.safetensors"), bytes.substr(0, bytes.size() / 2));
  expect_rejected(a, {"adapter_model.safetensors"});
  AdapterCopy b;
  testing::write_file(b.dir.file("adapter_config.json"), "{\"r\": 8,");
  expect_rejected(b, {"adapter_config.json", "malformed JSON"});
}

TEST_F(AdapterLoading, RejectsRanksThatDoNotMatchTheConfig) {
  AdapterCopy a;
  json c = a.config();
  c["r"] = 4;
  a.set_config(c);
  expect_rejected(a, {"lora_A.weight", "[8, 64]", "expected [4, 64]"});
}

TEST_F(AdapterLoading, RejectsShapesThatDoNotFitTheBase) {
  AdapterCopy a;
  auto t = a.tensors();
  for (auto& [name, tensor] : t)
    if (name == "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight")
      tensor = Tensor::zeros({64, 8}, DType::F32);  // v_proj has 32 outputs (2 kv heads x 16)
  a.set_tensors(t);
  expect_rejected(a, {"v_proj.lora_B.weight", "[64, 8]", "expected [32, 8]"});
}

TEST_F(AdapterLoading, RejectsLayersTheBaseDoesNotHave) {
  AdapterCopy a;
  auto t = a.tensors();
  t.emplace_back("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight",
                 Tensor::zeros({8, 64}, DType::F32));
  t.emplace_back("base_model.model.model.layers.7.self_attn.q_proj.lora_B.weight",
                 Tensor::zeros({64, 8}, DType::F32));
  a.set_tensors(t);
  expect_rejected(a, {"layers.7", "does not match any projection", "2 layers"});
}

TEST_F(AdapterLoading, RejectsUnknownModulesAndMissingTensors) {
  AdapterCopy a;
  json c = a.config();
  c["target_modules"] = {"q_proj", "fc1"};
  a.set_config(c);
  expect_rejected(a, {"fc1", "not a projection"});
  AdapterCopy b;
  auto t = b.tensors();
  std::erase_if(t, [](const auto& x) {
    return x.first.find("layers.1.self_attn.v_proj.lora_B") != std::string::npos;
  });
  b.set_tensors(t);
  expect_rejected(b, {"missing tensor", "layers.1.self_attn.v_proj.lora_B.weight"});
}

// Sets one value of one of the adapter's tensors (found by a part of its name).
void poison(const AdapterCopy& a, const std::string& tensor, float value) {
  auto t = a.tensors();
  for (auto& [name, data] : t)
    if (name.find(tensor) != std::string::npos) data.data<float>()[data.numel() / 2] = value;
  a.set_tensors(t);
}

TEST_F(AdapterLoading, RejectsNonFiniteWeightsNamingTheTensor) {
  AdapterCopy nan;
  poison(nan, "layers.1.self_attn.q_proj.lora_A", std::nanf(""));
  expect_rejected(nan, {"base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", "NaN"});
  AdapterCopy inf;
  poison(inf, "layers.0.self_attn.v_proj.lora_B", -INFINITY);
  expect_rejected(inf,
                  {"base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", "infinite"});
}

TEST_F(AdapterLoading, RejectsScalesThatCouldOverflow) {
  AdapterCopy a;
  json c = a.config();
  c["lora_alpha"] = 1e38;
  a.set_config(c);
  expect_rejected(a, {"lora_alpha", "scale"});
  AdapterCopy b;
  c = b.config();
  c["alpha_pattern"] = {{"v_proj", -1e12}};
  b.set_config(c);
  expect_rejected(b, {"alpha_pattern", "v_proj"});
  // finite but huge weights: the product of scale and weights is what is bounded
  AdapterCopy d;
  poison(d, "layers.0.self_attn.q_proj.lora_B", 1e30f);
  expect_rejected(d, {"layers.0.self_attn.q_proj.lora_B.weight", "overflow"});
  // rsLoRA and ordinary large-but-sane scales still load
  AdapterCopy ok;
  c = ok.config();
  c["lora_alpha"] = 4096;
  c["use_rslora"] = true;
  ok.set_config(c);
  EXPECT_NO_THROW(load(ok));
}

// A file that is not an adapter's and must never be quoted back (what /etc/passwd looks like).
constexpr const char* kSecret = "root:x:0:0:root:/root:/bin/bash\n";

// Loads the adapter in `dir` confined to `root`, expecting a refusal; returns the message.
std::string refusal(const std::string& dir, const std::string& root, const ModelConfig& base) {
  LoraAdapter::Files files;
  files.root = root;
  try {
    LoraAdapter::load("trap", dir, base, files);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "the adapter in " << dir << " loaded";
  return {};
}

TEST_F(AdapterLoading, FilesNeverLeadOutsideTheirRoot) {
  testing::TempDir outside;
  testing::write_file(outside.file("passwd"), kSecret);
  AdapterCopy a;
  fs::remove(a.dir.file("adapter_model.safetensors"));
  fs::create_symlink(outside.file("passwd"), a.dir.file("adapter_model.safetensors"));
  const std::string message = refusal(a.dir.path(), "", model->config());
  EXPECT_NE(message.find("'trap'"), std::string::npos) << message;
  EXPECT_NE(message.find("adapter_model.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("outside"), std::string::npos) << message;
  EXPECT_EQ(message.find("root:"), std::string::npos) << message;
  EXPECT_EQ(message.find(outside.path()), std::string::npos) << message;
  EXPECT_EQ(message.find(a.dir.path()), std::string::npos) << message;
  // a relative link climbing out, and the config file, are refused the same way
  AdapterCopy b;
  fs::remove(b.dir.file("adapter_config.json"));
  fs::create_symlink(fs::relative(outside.file("passwd"), b.dir.path()),
                     b.dir.file("adapter_config.json"));
  const std::string config_message = refusal(b.dir.path(), "", model->config());
  EXPECT_NE(config_message.find("adapter_config.json"), std::string::npos) << config_message;
  EXPECT_EQ(config_message.find("root:"), std::string::npos) << config_message;
  // the operator may allow links out of a registered adapter's directory
  AdapterCopy c;
  fs::rename(c.dir.file("adapter_model.safetensors"), outside.file("weights.safetensors"));
  fs::create_symlink(outside.file("weights.safetensors"), c.dir.file("adapter_model.safetensors"));
  refusal(c.dir.path(), "", model->config());
  LoraAdapter::Files allowed;
  allowed.follow_symlinks_anywhere = true;
  EXPECT_NO_THROW(LoraAdapter::load("linked", c.dir.path(), model->config(), allowed));
  still_serves_others();
}

TEST_F(AdapterLoading, SymlinksThatStayInsideTheRootAreFollowed) {
  testing::TempDir root;
  const std::string src = testing::model_dir(kModel) + "/adapters/lora-qv";
  fs::create_directories(root.file("store"));
  fs::create_directories(root.file("relative"));
  fs::create_directories(root.file("absolute"));
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors"}) {
    fs::copy_file(src + "/" + f, root.file("store/") + f);
    fs::create_symlink(std::string("../store/") + f, root.file("relative/") + f);
    fs::create_symlink(root.file("store/") + f, root.file("absolute/") + f);
  }
  LoraAdapter::Files files;
  files.root = root.path();
  const auto direct = LoraAdapter::load("store", root.file("store"), model->config(), files);
  for (const char* dir : {"relative", "absolute"}) {
    const auto linked = LoraAdapter::load(dir, root.file(dir), model->config(), files);
    EXPECT_EQ(linked->nbytes(), direct->nbytes()) << dir;
  }
  // ...but confined to the adapter's own directory, the same links lead outside it
  EXPECT_NE(refusal(root.file("relative"), "", model->config()).find("outside"), std::string::npos);
}

TEST_F(AdapterLoading, BrokenFilesAreDescribedNeverQuoted) {
  // a header length made of text, and a short header whose JSON is a secret's text
  for (const std::string& bytes :
       {std::string(kSecret), std::string("\x20\0\0\0\0\0\0\0\"", 9) + kSecret}) {
    AdapterCopy a;
    testing::write_file(a.dir.file("adapter_model.safetensors"), bytes);
    const std::string message = refusal(a.dir.path(), "", model->config());
    EXPECT_NE(message.find("adapter_model.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find("not a safetensors file"), std::string::npos) << message;
    EXPECT_EQ(message.find("root:"), std::string::npos) << message;
    EXPECT_EQ(message.find(a.dir.path()), std::string::npos) << message;
  }
  AdapterCopy b;
  testing::write_file(b.dir.file("adapter_config.json"), std::string("{\"") + kSecret);
  const std::string message = refusal(b.dir.path(), "", model->config());
  EXPECT_NE(message.find("adapter_config.json"), std::string::npos) << message;
  EXPECT_EQ(message.find("root:"), std::string::npos) << message;
}

TEST_F(AdapterLoading, StoreEvictsLeastRecentlyUsedAndReloadsOnReregister) {
  const std::string root = testing::model_dir(kModel) + "/adapters/";
  const auto qv_bytes = load(AdapterCopy("lora-qv"))->nbytes();
  const auto head_bytes = load(AdapterCopy("lora-rslora-head"))->nbytes();
  AdapterStore store(model->config(), qv_bytes + head_bytes);
  store.register_adapter("qv", root + "lora-qv");
  store.register_adapter("head", root + "lora-rslora-head");
  store.register_adapter("all", root + "lora-all");
  EXPECT_THROW(store.get("missing"), Error);
  const auto qv = store.get("qv");
  store.get("head");
  EXPECT_EQ(store.cached(), (std::vector<std::string>{"head", "qv"}));
  EXPECT_EQ(store.get("qv"), qv);  // cached: same object
  EXPECT_EQ(store.cached(), (std::vector<std::string>{"qv", "head"}));
  EXPECT_THROW(store.get("all"), Error);  // larger than the whole budget
  AdapterStore roomy(model->config(), qv_bytes + head_bytes + 1);
  roomy.register_adapter("qv", root + "lora-qv");
  roomy.register_adapter("head", root + "lora-rslora-head");
  roomy.get("qv");
  roomy.get("head");
  roomy.register_adapter("x", root + "lora-qv");
  roomy.get("x");  // over budget: the least recently used (qv) goes
  EXPECT_EQ(roomy.cached(), (std::vector<std::string>{"x", "head"}));
  EXPECT_LE(roomy.cached_bytes(), roomy.memory_budget());
  // Re-registering "head" with another directory drops the stale copy and loads the new one.
  const auto old_head = roomy.get("head");
  roomy.register_adapter("head", root + "lora-qv");
  const auto new_head = roomy.get("head");
  EXPECT_NE(old_head, new_head);
  EXPECT_EQ(new_head->dir(), root + "lora-qv");
}

TEST_F(AdapterLoading, StoreBoundsTheNumberOfAdaptersItKeeps) {
  const std::string root = testing::model_dir(kModel) + "/adapters/";
  AdapterLimits limits;
  limits.max_cached_adapters = 2;
  AdapterStore store(model->config(), size_t(1) << 30, limits);
  // Unregistered adapters (adapter_source "local") are cached, counted and forgotten like any.
  for (const char* n : {"lora-qv", "lora-all", "lora-rslora-head"})
    store.get_unregistered(std::string("local:") + n, root + n);
  EXPECT_EQ(store.cached(), (std::vector<std::string>{"local:lora-rslora-head", "local:lora-all"}));
  EXPECT_TRUE(store.registered().empty());  // nothing left behind by the evicted one
  EXPECT_FALSE(store.is_registered("local:lora-qv"));
  EXPECT_THROW(store.get("local:lora-qv"), Error);  // unregistered ids are not looked up by get
  EXPECT_THROW(AdapterStore(model->config(), 1 << 20, AdapterLimits{0, 1 << 20}), Error);
}

TEST_F(AdapterLoading, WeightsFileOverTheSizeLimitIsRefusedBeforeReading) {
  AdapterCopy a;
  const auto bytes = fs::file_size(a.dir.file("adapter_model.safetensors"));
  LoraAdapter::Files files;
  files.max_file_bytes = bytes;
  EXPECT_NO_THROW(LoraAdapter::load("fits", a.dir.path(), model->config(), files));
  try {
    files.max_file_bytes = bytes - 1;
    LoraAdapter::load("big", a.dir.path(), model->config(), files);
    FAIL() << "an adapter over the size limit loaded";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("adapter_model.safetensors is " + std::to_string(bytes) + " bytes"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("'big'"), std::string::npos) << message;
  }
  // The store applies its limit the same way.
  AdapterLimits limits;
  limits.max_file_bytes = bytes - 1;
  AdapterStore store(model->config(), size_t(1) << 30, limits);
  store.register_adapter("qv", a.dir.path());
  EXPECT_THROW(store.get("qv"), Error);
}

TEST_F(AdapterLoading, StoreIsSafeAcrossThreads) {
  const std::string root = testing::model_dir(kModel) + "/adapters/";
  AdapterStore store(model->config(), size_t(1) << 30);
  for (const char* n : {"lora-qv", "lora-all", "lora-rslora-head"})
    store.register_adapter(n, root + n);
  std::vector<std::thread> threads;
  std::atomic<int> loaded{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const char* names[] = {"lora-qv", "lora-all", "lora-rslora-head"};
        if (store.get(names[(t + i) % 3])) ++loaded;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(loaded.load(), 80);
  EXPECT_EQ(store.cached().size(), 3u);
}

}  // namespace
}  // namespace lorax
