#include "cli/demo_model.h"

#include <nlohmann/json.hpp>

namespace lorax {

namespace {

using nlohmann::ordered_json;

constexpr int32_t kBos = 256;
constexpr int32_t kEos = 257;

// GPT-2's reversible map from bytes to printable code points, as UTF-8 strings.
std::vector<std::string> byte_alphabet() {
  std::vector<int> printable;
  for (int b = '!'; b <= '~'; ++b) printable.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) printable.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) printable.push_back(b);
  std::vector<int> code(256, -1);
  for (int b : printable) code[size_t(b)] = b;
  int next = 256;
  for (int b = 0; b < 256; ++b)
    if (code[size_t(b)] < 0) code[size_t(b)] = next++;
  std::vector<std::string> out;
  for (int cp : code) {
    std::string s;
    if (cp < 0x80) {
      s += char(cp);
    } else {  // all code points here are below 0x800: two UTF-8 bytes
      s += char(0xC0 | (cp >> 6));
      s += char(0x80 | (cp & 0x3F));
    }
    out.push_back(s);
  }
  return out;
}

ordered_json added_token(int32_t id, const std::string& content) {
  return {{"id", id},         {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false},  {"normalized", false}, {"special", true}};
}

ModelConfig demo_config() {
  ModelConfig c;
  c.model_type = "llama";
  c.vocab_size = 258;
  c.hidden_size = 128;
  c.intermediate_size = 256;
  c.num_layers = 4;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 32;
  c.max_position_embeddings = 4096;
  c.rms_norm_eps = 1e-5;
  c.bos_token_id = kBos;
  c.eos_token_ids = {kEos};
  c.rope.original_max_position_embeddings = c.max_position_embeddings;
  c.validate("built-in demo model");
  return c;
}

}  // namespace

std::string demo_tokenizer_json() {
  ordered_json vocab = ordered_json::object();
  const auto alphabet = byte_alphabet();
  for (int b = 0; b < 256; ++b) vocab[alphabet[size_t(b)]] = b;
  const ordered_json bos = {{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}};
  ordered_json tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       {added_token(kBos, "<|begin_of_text|>"), added_token(kEos, "<|end_of_text|>")}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
        {"use_regex", true}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {bos, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair",
         {bos, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens",
         {{"<|begin_of_text|>",
           {{"id", "<|begin_of_text|>"}, {"ids", {kBos}}, {"tokens", {"<|begin_of_text|>"}}}}}}}},
      {"decoder",
       {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true},
        {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
        {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", ordered_json::array()}}}};
  return tokenizer.dump();
}

DemoModel build_demo_model(Backend& backend, DType activation) {
  const ModelConfig config = demo_config();
  const nlohmann::json tokenizer_config = {
      {"bos_token", "<|begin_of_text|>"},
      {"eos_token", "<|end_of_text|>"},
      {"chat_template",
       "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n"
       "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"}};
  const nlohmann::json generation_config = {{"bos_token_id", kBos}, {"eos_token_id", kEos}};
  DemoModel demo{
      std::make_unique<CausalLM>(
          config, ModelWeights::random(config, DType::F32, 20260101, backend, activation), backend,
          activation),
      TextProcessor(Tokenizer::from_json_string(demo_tokenizer_json(), "built-in demo tokenizer"),
                    TokenizerConfig::from_json(&tokenizer_config, &generation_config)),
      {}};
  for (int i = 0; i < 2; ++i) {
    const std::string name = i == 0 ? "demo-adapter-a" : "demo-adapter-b";
    demo.adapters.emplace_back(
        name, LoraAdapter::from_weights(name, random_lora_weights(config, 8, uint64_t(i + 7), 0.5f)));
  }
  return demo;
}

}  // namespace lorax
