// tokenizer.json is read by a quick path for the usual file shape and by a general SAX reader
// for anything else; both must give the same tokenizer.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_json_reader.h"

namespace lorax {
namespace {

using nlohmann::json;

const std::string kFixtures = LORAX_FIXTURES_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The same document with the "model" key spelled with an escape: valid JSON with the same
// meaning, which the quick path (it compares raw keys) leaves to the general reader.
std::string with_escaped_model_key(std::string text) {
  const size_t at = text.find("\"model\"");
  EXPECT_NE(at, std::string::npos);
  text.replace(at, 7, "\"mod\\u0065l\"");
  return text;
}

TEST(TokenizerReader, QuickPathTakesTheUsualShape) {
  const std::string text = read_text(kFixtures + "/models/stories260K/tokenizer.json");
  const auto quick = read_tokenizer_json_fast(text);
  ASSERT_TRUE(quick.has_value());
  EXPECT_EQ(quick->vocab->ids.size(), 512u);
  EXPECT_FALSE(read_tokenizer_json_fast(with_escaped_model_key(text)).has_value());
}

TEST(TokenizerReader, BothPathsGiveTheSameTokenizer) {
  for (const char* path :
       {"/models/stories260K/tokenizer.json", "/tokenizers/llama3/tokenizer.json"}) {
    SCOPED_TRACE(path);
    const std::string text = read_text(kFixtures + path);
    const Tokenizer quick = Tokenizer::from_json_string(text);
    const Tokenizer general = Tokenizer::from_json_string(with_escaped_model_key(text));
    EXPECT_EQ(quick.vocab_size(), general.vocab_size());
    for (const char* s : {"Once upon a time, there was a little girl named Lily.",
                          " 🦙 日本語\n\t x", "<s>Hi</s><|eot_id|>", "Ünïcödé 12345"}) {
      const std::vector<int32_t> ids = quick.encode(s, true);
      EXPECT_EQ(general.encode(s, true), ids) << s;
      EXPECT_EQ(general.decode(ids, false), quick.decode(ids, false)) << s;
    }
  }
}

// Escapes in token strings, merges as pairs and "a b" strings, a merges.txt "#version" header.
TEST(TokenizerReader, EscapesAndMergeForms) {
  const std::string vocab =
      R"({"a": 0, "b": 1, "ab": 2, "\n": 3, "\u00e9": 4, "\ud83e\udd99": 5, "\"": 6, "q": 7,)"
      R"( "\\": 8, "\"q": 9, "\"q\\": 10, "\"q\\ab": 11})";
  for (const char* merges : {R"(["#version: 0.2", "a b", "\" q", "\"q \\", "\"q\\ ab"])",
                             R"([["a", "b"], ["\"", "q"], ["\"q", "\\"], ["\"q\\", "ab"]])"}) {
    SCOPED_TRACE(merges);
    const std::string file = std::string(R"({"model": {"type": "BPE", "vocab": )") + vocab +
                             R"(, "merges": )" + merges + "}}";
    for (const std::string& text : {file, with_escaped_model_key(file)}) {
      const Tokenizer tok = Tokenizer::from_json_string(text);
      EXPECT_EQ(tok.encode("ab\n\xC3\xA9\xF0\x9F\xA6\x99\"q\\ab", false),
                (std::vector<int32_t>{2, 3, 4, 5, 11}));
      EXPECT_EQ(tok.id_to_token(5), "\xF0\x9F\xA6\x99");
      EXPECT_EQ(tok.token_to_id("\"q\\"), 10);
    }
  }
}

}  // namespace
}  // namespace lorax
