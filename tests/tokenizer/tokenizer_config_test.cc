// TokenizerConfig: tokenizer_config.json, generation_config.json and chat template files.
#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = LORAX_FIXTURES_DIR;

// A scratch model directory, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() / ("lorax_tokenizer_config_" + std::to_string(::getpid()) +
                                         "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

TEST(TokenizerConfig, Llama3HasTemplateAndSpecialTokens) {
  const TokenizerConfig c = TokenizerConfig::from_model_dir(kFixtures + "/tokenizers/llama3");
  EXPECT_EQ(c.bos_token, "<|begin_of_text|>");
  EXPECT_EQ(c.eos_token, "<|end_of_text|>");
  EXPECT_FALSE(c.add_bos_token.has_value());
  EXPECT_TRUE(c.clean_up_tokenization_spaces);
  EXPECT_FALSE(c.model_max_length.has_value());  // 1e30, "no limit"
  ASSERT_NE(c.chat_template(), nullptr);
  EXPECT_NE(c.chat_template()->find("<|start_header_id|>"), std::string::npos);
  EXPECT_EQ(c.chat_templates.size(), 1u);
  EXPECT_TRUE(c.eos_token_ids.empty());  // no generation_config.json beside it

  const Tokenizer tok = Tokenizer::from_file(kFixtures + "/tokenizers/llama3/tokenizer.json");
  EXPECT_EQ(c.stop_token_ids(tok), (std::vector<int32_t>{128001}));
}

TEST(TokenizerConfig, GemmaFlagsAndTemplate) {
  const TokenizerConfig c = TokenizerConfig::from_model_dir(kFixtures + "/tokenizers/gemma");
  EXPECT_EQ(c.bos_token, "<bos>");
  EXPECT_EQ(c.eos_token, "<eos>");
  EXPECT_EQ(c.pad_token, "<pad>");
  EXPECT_EQ(c.unk_token, "<unk>");
  EXPECT_EQ(c.add_bos_token, true);
  EXPECT_EQ(c.add_eos_token, false);
  ASSERT_NE(c.chat_template(), nullptr);
  EXPECT_NE(c.chat_template()->find("<start_of_turn>"), std::string::npos);
}

TEST(TokenizerConfig, Llama2HasNoTemplate) {
  const TokenizerConfig c = TokenizerConfig::from_model_dir(kFixtures + "/tokenizers/llama2");
  EXPECT_EQ(c.bos_token, "<s>");
  EXPECT_EQ(c.model_max_length, 4096);
  EXPECT_EQ(c.chat_template(), nullptr);
  EXPECT_TRUE(c.chat_templates.empty());
}

TEST(TokenizerConfig, Stories260KReadsGenerationConfig) {
  const std::string dir = kFixtures + "/models/stories260K";
  const TokenizerConfig c = TokenizerConfig::from_model_dir(dir);
  EXPECT_EQ(c.bos_token, "<s>");
  EXPECT_EQ(c.eos_token, "</s>");
  EXPECT_EQ(c.add_bos_token, true);
  EXPECT_EQ(c.model_max_length, 512);
  EXPECT_EQ(c.chat_template(), nullptr);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{2}));
  const Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  EXPECT_EQ(c.stop_token_ids(tok), (std::vector<int32_t>{2}));
}

TEST(TokenizerConfig, AddedTokenObjectsTemplateListAndEosList) {
  ScratchDir dir;
  dir.write("tokenizer_config.json", R"({
    "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
    "eos_token": {"content": "</s>"},
    "pad_token": null,
    "add_bos_token": true,
    "chat_template": [{"name": "default", "template": "{{ messages }}"},
                      {"name": "tool_use", "template": "{{ tools }}"}]
  })");
  dir.write("generation_config.json", R"({"bos_token_id": 1, "eos_token_id": [2, 32007]})");
  const TokenizerConfig c = TokenizerConfig::from_model_dir(dir.path());
  EXPECT_EQ(c.bos_token, "<s>");
  EXPECT_EQ(c.eos_token, "</s>");
  EXPECT_FALSE(c.pad_token.has_value());
  ASSERT_NE(c.chat_template(), nullptr);
  EXPECT_EQ(*c.chat_template(), "{{ messages }}");
  ASSERT_NE(c.chat_template("tool_use"), nullptr);
  EXPECT_EQ(*c.chat_template("tool_use"), "{{ tools }}");
  EXPECT_EQ(c.chat_template("rag"), nullptr);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{2, 32007}));

  const Tokenizer tok =
      Tokenizer::from_file(kFixtures + "/models/stories260K/tokenizer.json");  // "</s>" is 2
  EXPECT_EQ(c.stop_token_ids(tok), (std::vector<int32_t>{2, 32007}));
}

TEST(TokenizerConfig, ChatTemplateJinjaFileWins) {
  ScratchDir dir;
  dir.write("tokenizer_config.json", R"({"chat_template": "old"})");
  dir.write("chat_template.jinja", "{% for m in messages %}{{ m.content }}{% endfor %}");
  const TokenizerConfig c = TokenizerConfig::from_model_dir(dir.path());
  ASSERT_NE(c.chat_template(), nullptr);
  EXPECT_EQ(*c.chat_template(), "{% for m in messages %}{{ m.content }}{% endfor %}");
}

TEST(TokenizerConfig, EmptyDirectoryGivesEmptyConfig) {
  ScratchDir dir;
  const TokenizerConfig c = TokenizerConfig::from_model_dir(dir.path());
  EXPECT_FALSE(c.bos_token.has_value());
  EXPECT_TRUE(c.chat_templates.empty());
  EXPECT_TRUE(c.eos_token_ids.empty());
}

TEST(TokenizerConfig, MalformedFilesNameTheFile) {
  ScratchDir dir;
  dir.write("tokenizer_config.json", "{\"bos_token\": ");
  try {
    TokenizerConfig::from_model_dir(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json: invalid JSON"), std::string::npos)
        << e.what();
  }
  dir.write("tokenizer_config.json", R"({"chat_template": 5})");
  try {
    TokenizerConfig::from_model_dir(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'chat_template'"), std::string::npos) << e.what();
  }
  dir.write("tokenizer_config.json", "{}");
  dir.write("generation_config.json", R"({"eos_token_id": "two"})");
  try {
    TokenizerConfig::from_model_dir(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("generation_config.json: field 'eos_token_id'"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace lorax
