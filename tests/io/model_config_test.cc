// config.json parsing: both rope spellings, explicit head_dim, activations, eos lists.
#include "io/model_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lorax {
namespace {

using nlohmann::json;

json base_config() {
  return {{"model_type", "llama"},    {"vocab_size", 100},      {"hidden_size", 64},
          {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 4}};
}

TEST(ModelConfig, DefaultsFollowTransformers) {
  const ModelConfig c = ModelConfig::from_json(base_config(), "config.json");
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.rope.type, RopeScaling::Type::Default);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.activation, Activation::Silu);
}

TEST(ModelConfig, ClassicRopeScalingWithTypeOrRopeType) {
  json j = base_config();
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  ModelConfig c = ModelConfig::from_json(j, "config.json");
  EXPECT_EQ(c.rope.type, RopeScaling::Type::Linear);
  EXPECT_EQ(c.rope.factor, 2.0);
  EXPECT_EQ(c.rope_theta, 500000.0);
  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 8.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  c = ModelConfig::from_json(j, "config.json");
  EXPECT_EQ(c.rope.type, RopeScaling::Type::Llama3);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
}

TEST(ModelConfig, RopeParametersCarryTheta) {
  json j = base_config();
  j["rope_parameters"] = {{"rope_type", "yarn"},
                          {"rope_theta", 1e6},
                          {"factor", 4.0},
                          {"original_max_position_embeddings", 4096},
                          {"beta_fast", 16}};
  const ModelConfig c = ModelConfig::from_json(j, "config.json");
  EXPECT_EQ(c.rope.type, RopeScaling::Type::Yarn);
  EXPECT_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.rope.beta_fast, 16.0);
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 12345.0}};
  EXPECT_EQ(ModelConfig::from_json(j, "config.json").rope_theta, 12345.0);
}

TEST(ModelConfig, GemmaHeadDimActivationAndTiedHead) {
  json j = base_config();
  j["model_type"] = "gemma";
  j["head_dim"] = 32;  // not hidden / heads
  j["hidden_act"] = "gelu";
  j["hidden_activation"] = "gelu_pytorch_tanh";  // wins when present
  ModelConfig c = ModelConfig::from_json(j, "config.json");
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.activation, Activation::GeluTanh);
  EXPECT_TRUE(c.tie_word_embeddings);
  j.erase("hidden_activation");
  EXPECT_EQ(ModelConfig::from_json(j, "config.json").activation, Activation::GeluErf);
}

TEST(ModelConfig, EosIdOrList) {
  json j = base_config();
  j["eos_token_id"] = {2, 7};
  EXPECT_EQ(ModelConfig::from_json(j, "c").eos_token_ids, (std::vector<int32_t>{2, 7}));
  j["eos_token_id"] = 5;
  EXPECT_EQ(ModelConfig::from_json(j, "c").eos_token_ids, (std::vector<int32_t>{5}));
}

TEST(ModelConfig, RejectsWhatItCannotRun) {
  json j = base_config();
  j["rope_scaling"] = {{"type", "longrope"}, {"factor", 2.0}};
  EXPECT_THROW(ModelConfig::from_json(j, "c"), Error);
  j = base_config();
  j["rope_scaling"] = {{"type", "linear"}};  // no factor
  EXPECT_THROW(ModelConfig::from_json(j, "c"), Error);
  j = base_config();
  j["hidden_act"] = "relu2";
  EXPECT_THROW(ModelConfig::from_json(j, "c"), Error);
  j = base_config();
  j["attention_bias"] = true;
  EXPECT_THROW(ModelConfig::from_json(j, "c"), Error);
  j = base_config();
  j["vocab_size"] = -1;
  EXPECT_THROW(ModelConfig::from_json(j, "c"), Error);
}

}  // namespace
}  // namespace lorax
