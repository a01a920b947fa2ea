// Bad checkpoints give one clear error naming the file, tensor or field.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "engine/paged_kv_cache.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "model/causal_lm.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Expects `fn` to throw lorax::Error whose message contains every one of `parts`.
template <typename Fn>
void expect_error(Fn fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error raised";
  } catch (const Error& e) {
    for (const auto& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message '" << e.what() << "' lacks '" << part << "'";
  }
}

// A copy of stories260K's config and weights in a temp dir, for breaking one piece at a time.
struct BrokenCheckpoint {
  testing::TempDir dir;
  BrokenCheckpoint() {
    const std::string src = testing::model_dir("stories260K");
    fs::copy_file(src + "/config.json", dir.file("config.json"));
    fs::copy_file(src + "/model.safetensors", dir.file("model.safetensors"));
  }
  json config() const { return json::parse(testing::read_file(dir.file("config.json"))); }
  void set_config(const json& c) const { testing::write_file(dir.file("config.json"), c.dump()); }
  std::vector<std::pair<std::string, Tensor>> tensors() const {
    auto ckpt = CheckpointTensors::open_dir(testing::model_dir("stories260K"));
    std::vector<std::pair<std::string, Tensor>> out;
    for (const auto& name : ckpt.names()) out.emplace_back(name, ckpt.get(name).clone());
    return out;
  }
  void load() const {
    CpuBackend backend(1);
    CausalLM::load(dir.path(), backend);
  }
};

TEST(CheckpointErrors, TruncatedSafetensors) {
  BrokenCheckpoint ckpt;
  const std::string bytes = testing::read_file(ckpt.dir.file("model.safetensors"));
  testing::write_file(ckpt.dir.file("model.safetensors"), bytes.substr(0, bytes.size() - 1000));
  expect_error([&] { ckpt.load(); }, {"model.safetensors", "outside", "truncated"});
  testing::write_file(ckpt.dir.file("model.safetensors"), bytes.substr(0, 100));
  expect_error([&] { ckpt.load(); }, {"model.safetensors", "header length"});
  testing::write_file(ckpt.dir.file("model.safetensors"), bytes.substr(0, 5));
  expect_error([&] { ckpt.load(); }, {"model.safetensors", "not a safetensors file"});
}

TEST(CheckpointErrors, MalformedHeader) {
  BrokenCheckpoint ckpt;
  std::string header = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 9]}}";
  std::string file(8, '\0');
  file[0] = char(header.size());
  testing::write_file(ckpt.dir.file("model.safetensors"), file + header + std::string(9, '\0'));
  expect_error([&] { ckpt.load(); }, {"tensor 'a'", "holds 9 bytes", "needs 8"});
  header = "{not json";
  file = std::string(8, '\0');
  file[0] = char(header.size());
  testing::write_file(ckpt.dir.file("model.safetensors"), file + header);
  expect_error([&] { ckpt.load(); }, {"model.safetensors", "malformed safetensors header"});
}

TEST(Safetensors, MisalignedDataIsCopiedToAlignedMemory) {
  testing::TempDir dir;
  // A 61-byte header puts the data at offset 69: not 4-byte aligned for f32.
  std::string header = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}";
  header.resize(61, ' ');
  std::string file(8, '\0');
  file[0] = char(header.size());
  const float values[2] = {1.5f, -2.25f};
  file += header + std::string(reinterpret_cast<const char*>(values), sizeof(values));
  testing::write_file(dir.file("m.safetensors"), file);
  const SafetensorsFile st = SafetensorsFile::open(dir.file("m.safetensors"));
  const Tensor a = st.get("a");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.raw()) % alignof(float), 0u);
  EXPECT_EQ(a.data<float>()[0], 1.5f);
  EXPECT_EQ(a.data<float>()[1], -2.25f);
}

TEST(CheckpointErrors, MissingTensor) {
  BrokenCheckpoint ckpt;
  auto tensors = ckpt.tensors();
  std::erase_if(tensors,
                [](const auto& t) { return t.first == "model.layers.3.mlp.up_proj.weight"; });
  testing::write_safetensors(ckpt.dir.file("model.safetensors"), tensors);
  expect_error([&] { ckpt.load(); }, {"missing tensor", "model.layers.3.mlp.up_proj.weight"});
}

TEST(CheckpointErrors, WrongShape) {
  BrokenCheckpoint ckpt;
  auto tensors = ckpt.tensors();
  for (auto& [name, t] : tensors)
    if (name == "model.layers.1.self_attn.k_proj.weight") t = Tensor::zeros({16, 64}, DType::F32);
  testing::write_safetensors(ckpt.dir.file("model.safetensors"), tensors);
  expect_error([&] { ckpt.load(); },
               {"model.layers.1.self_attn.k_proj.weight", "[16, 64]", "expected [32, 64]"});
}

TEST(CheckpointErrors, UnknownModelType) {
  BrokenCheckpoint ckpt;
  json c = ckpt.config();
  c["model_type"] = "mamba";
  ckpt.set_config(c);
  expect_error([&] { ckpt.load(); }, {"config.json", "unsupported model_type 'mamba'"});
}

TEST(CheckpointErrors, BadJsonAndBadFields) {
  BrokenCheckpoint ckpt;
  testing::write_file(ckpt.dir.file("config.json"), "{\"model_type\": \"llama\",");
  expect_error([&] { ckpt.load(); }, {"config.json", "malformed JSON"});
  BrokenCheckpoint missing;
  json c = missing.config();
  c.erase("hidden_size");
  missing.set_config(c);
  expect_error([&] { missing.load(); }, {"config.json", "missing field \"hidden_size\""});
  BrokenCheckpoint wrong_type;
  c = wrong_type.config();
  c["num_attention_heads"] = "eight";
  wrong_type.set_config(c);
  expect_error([&] { wrong_type.load(); }, {"num_attention_heads", "must be an integer"});
  BrokenCheckpoint gqa;
  c = gqa.config();
  c["num_key_value_heads"] = 3;
  gqa.set_config(c);
  expect_error([&] { gqa.load(); }, {"multiple of num_key_value_heads"});
}

TEST(CheckpointErrors, MissingFilesAndDirectories) {
  CpuBackend backend(1);
  expect_error([&] { CausalLM::load("/nonexistent/model", backend); }, {"/nonexistent/model"});
  BrokenCheckpoint ckpt;
  fs::remove(ckpt.dir.file("model.safetensors"));
  expect_error([&] { ckpt.load(); }, {"no model.safetensors"});
}

TEST(CheckpointErrors, CliPrintsOneErrorLineAndFails) {
  BrokenCheckpoint ckpt;
  json c = ckpt.config();
  c["model_type"] = "mamba";
  ckpt.set_config(c);
  testing::write_file(ckpt.dir.file("r.jsonl"), "{\"prompt_ids\": [1]}\n");
  const auto result =
      testing::run_command(testing::lorax_binary() + " generate --model " + ckpt.dir.path() +
                           " --requests " + ckpt.dir.file("r.jsonl") + " 2>&1");
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  EXPECT_NE(result.output.find("unsupported model_type 'mamba'"), std::string::npos);
}

TEST(KvScales, FromCheckpointForFp8CachesOnly) {
  BrokenCheckpoint ckpt;
  auto tensors = ckpt.tensors();
  auto scalar = [](float v) {
    Tensor t = Tensor::empty({}, DType::F32);
    *t.data<float>() = v;
    return t;
  };
  tensors.emplace_back("model.layers.0.self_attn.k_scale", scalar(0.5f));
  tensors.emplace_back("model.layers.0.self_attn.v_scale", scalar(0.25f));
  tensors.emplace_back("model.layers.1.self_attn.kv_scale", scalar(2.0f));  // older spelling
  testing::write_safetensors(ckpt.dir.file("model.safetensors"), tensors);
  CpuBackend backend(1);
  auto model = CausalLM::load(ckpt.dir.path(), backend);
  KvCacheOptions fp8{4, 16, DType::F8E4M3};
  PagedKvCache cache(*model, fp8);
  EXPECT_EQ(cache.layers()[0].k_scale, 0.5f);
  EXPECT_EQ(cache.layers()[0].v_scale, 0.25f);
  EXPECT_EQ(cache.layers()[1].k_scale, 2.0f);
  EXPECT_EQ(cache.layers()[1].v_scale, 2.0f);
  EXPECT_EQ(cache.layers()[2].k_scale, 1.0f);  // absent: 1.0
  PagedKvCache plain(*model, KvCacheOptions{4, 16, DType::F32});
  EXPECT_EQ(plain.layers()[0].k_scale, 1.0f);  // scales only apply to fp8 storage

  tensors.back().second = scalar(-1.0f);
  testing::write_safetensors(ckpt.dir.file("model.safetensors"), tensors);
  expect_error([&] { ckpt.load(); }, {"model.layers.1.self_attn.kv_scale", "positive"});
}

TEST(ShardedCheckpoint, IndexJsonMapsTensorsToShards) {
  BrokenCheckpoint ckpt;
  auto tensors = ckpt.tensors();
  fs::remove(ckpt.dir.file("model.safetensors"));
  std::vector<std::pair<std::string, Tensor>> first, second;
  json map;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const bool in_first = i % 2 == 0;
    (in_first ? first : second).push_back(tensors[i]);
    map["weight_map"][tensors[i].first] =
        in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  testing::write_safetensors(ckpt.dir.file("model-00001-of-00002.safetensors"), first);
  testing::write_safetensors(ckpt.dir.file("model-00002-of-00002.safetensors"), second);
  testing::write_file(ckpt.dir.file("model.safetensors.index.json"), map.dump());
  auto loaded = CheckpointTensors::open_dir(ckpt.dir.path());
  EXPECT_EQ(loaded.names().size(), tensors.size());
  ckpt.load();  // the model loads from shards
  map["weight_map"]["model.norm.weight"] = "../escape.safetensors";
  testing::write_file(ckpt.dir.file("model.safetensors.index.json"), map.dump());
  expect_error([&] { ckpt.load(); }, {"plain file name"});
  for (const char* bad : {".", "", "a/b"})
    expect_error(
        [&] {
          parse_safetensors_index(json{{"weight_map", {{"t", bad}}}}.dump(), "index.json");
        },
        {"index.json", "must be a plain file name"});
  expect_error([] { parse_safetensors_index(R"({"weight_map": {"t": 5}})", "index.json"); },
               {"index.json", "'t' is not a file name"});
}

TEST(CheckpointErrors, OversizedSideFilesAreRefusedBeforeReading) {
  BrokenCheckpoint ckpt;
  const auto bytes = fs::file_size(ckpt.dir.file("config.json"));
  EXPECT_EQ(read_text_file(ckpt.dir.file("config.json"), bytes).size(), bytes);
  expect_error([&] { read_text_file(ckpt.dir.file("config.json"), bytes - 1); },
               {"config.json is " + std::to_string(bytes) + " bytes, more than the " +
                std::to_string(bytes - 1)});
}

TEST(Safetensors, ParsesBytesHeldInMemory) {
  testing::TempDir dir;
  Tensor t = Tensor::empty({2, 3}, DType::F32);
  for (int i = 0; i < 6; ++i) t.data<float>()[i] = float(i);
  testing::write_safetensors(dir.file("t.safetensors"), {{"w", t}});
  auto file = SafetensorsFile::parse(
      MappedFile::from_bytes("memory", testing::read_file(dir.file("t.safetensors"))));
  EXPECT_EQ(file.path(), "memory");
  EXPECT_EQ(file.get("w").data<float>()[5], 5.0f);
  expect_error([] { SafetensorsFile::parse(MappedFile::from_bytes("short", "abc")); }, {"short"});
}

}  // namespace
}  // namespace lorax
