// Bad tokenizer files and bad input give a lorax::Error that says what is wrong and where.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

using nlohmann::json;

// A tiny valid tokenizer.json: characters a, b, c and the merge "a b".
json minimal_file() {
  return {{"added_tokens", json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"decoder", nullptr},
          {"model",
           {{"type", "BPE"},
            {"vocab", {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}}},
            {"merges", json::array({"a b"})}}}};
}

// The message of the lorax::Error that loading `file` throws ("" if it loads).
std::string load_text_error(const std::string& text) {
  try {
    Tokenizer::from_json_string(text, "test/tokenizer.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string load_error(const json& file) {
  return load_text_error(file.dump());
}

TEST(TokenizerErrors, MinimalFileLoads) {
  const Tokenizer tok = Tokenizer::from_json_string(minimal_file().dump());
  EXPECT_EQ(tok.encode("abc", false), (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(tok.decode({3, 2}, false), "ab c");  // no decoder: tokens joined by spaces
}

TEST(TokenizerErrors, MissingFileNamesThePath) {
  try {
    Tokenizer::from_file("/nonexistent/dir/tokenizer.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/tokenizer.json"), std::string::npos);
  }
}

TEST(TokenizerErrors, MalformedJson) {
  for (const char* text : {"", "{", "{\"model\": ", "[1, 2", "{\"model\": {\"vocab\": {\"a\": }}}",
                           "not json at all"}) {
    const std::string message = load_text_error(text);
    EXPECT_NE(message.find("test/tokenizer.json"), std::string::npos) << message;
    EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  }
}

TEST(TokenizerErrors, NotAnObject) {
  EXPECT_NE(load_text_error("[1, 2, 3]").find("object"), std::string::npos);
}

TEST(TokenizerErrors, MissingModel) {
  json file = minimal_file();
  file.erase("model");
  const std::string message = load_error(file);
  EXPECT_NE(message.find("test/tokenizer.json"), std::string::npos) << message;
  EXPECT_NE(message.find("missing field 'model'"), std::string::npos) << message;
}

TEST(TokenizerErrors, MissingVocabOrMerges) {
  json file = minimal_file();
  file["model"].erase("vocab");
  EXPECT_NE(load_error(file).find("'vocab'"), std::string::npos) << load_error(file);
  file = minimal_file();
  file["model"].erase("merges");
  EXPECT_NE(load_error(file).find("'merges'"), std::string::npos) << load_error(file);
}

TEST(TokenizerErrors, UnknownModelType) {
  json file = minimal_file();
  file["model"]["type"] = "WordPiece";
  const std::string message = load_error(file);
  EXPECT_NE(message.find("WordPiece"), std::string::npos) << message;
  EXPECT_NE(message.find("model"), std::string::npos) << message;
  file["model"]["type"] = "Unigram";
  EXPECT_NE(load_error(file).find("Unigram"), std::string::npos);
}

TEST(TokenizerErrors, UnknownNormalizer) {
  json file = minimal_file();
  file["normalizer"] = {{"type", "Sequence"},
                        {"normalizers", {{{"type", "NFC"}}, {{"type", "Precompiled"}}}}};
  const std::string message = load_error(file);
  EXPECT_NE(message.find("normalizer.normalizers[1]"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown normalizer type 'Precompiled'"), std::string::npos) << message;
}

TEST(TokenizerErrors, UnknownPreTokenizer) {
  json file = minimal_file();
  file["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers", {{{"type", "Digits"}}, {{"type", "UnicodeScripts"}}}}};
  const std::string message = load_error(file);
  EXPECT_NE(message.find("pre_tokenizer.pretokenizers[1]"), std::string::npos) << message;
  EXPECT_NE(message.find("'UnicodeScripts'"), std::string::npos) << message;
}

TEST(TokenizerErrors, UnknownDecoderAndPostProcessor) {
  json file = minimal_file();
  file["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}};
  std::string message = load_error(file);
  EXPECT_NE(message.find("unknown decoder type 'WordPiece'"), std::string::npos) << message;
  file = minimal_file();
  file["post_processor"] = {{"type", "Mystery"}};
  message = load_error(file);
  EXPECT_NE(message.find("unknown post_processor type 'Mystery'"), std::string::npos) << message;
}

TEST(TokenizerErrors, ComponentWithoutType) {
  json file = minimal_file();
  file["normalizer"] = {{"prepend", "x"}};
  const std::string message = load_error(file);
  EXPECT_NE(message.find("normalizer: missing field 'type'"), std::string::npos) << message;
}

TEST(TokenizerErrors, MissingOrMistypedComponentField) {
  json file = minimal_file();
  file["normalizer"] = {{"type", "Replace"}, {"content", "x"}};
  std::string message = load_error(file);
  EXPECT_NE(message.find("normalizer: missing field 'pattern'"), std::string::npos) << message;
  file = minimal_file();
  file["pre_tokenizer"] = {{"type", "Split"},
                           {"pattern", {{"Regex", " "}}},
                           {"behavior", "Sideways"},
                           {"invert", false}};
  message = load_error(file);
  EXPECT_NE(message.find("unknown split behavior 'Sideways'"), std::string::npos) << message;
  file = minimal_file();
  file["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", 5}};
  message = load_error(file);
  EXPECT_NE(message.find("'replacement' must be a string"), std::string::npos) << message;
}

TEST(TokenizerErrors, InvalidRegex) {
  json file = minimal_file();
  file["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  const std::string message = load_error(file);
  EXPECT_NE(message.find("pre_tokenizer.pattern"), std::string::npos) << message;
  EXPECT_NE(message.find("invalid regex '(unclosed'"), std::string::npos) << message;
}

TEST(TokenizerErrors, MergeOfUnknownToken) {
  json file = minimal_file();
  file["model"]["merges"] = {"a b", "b z"};
  const std::string message = load_error(file);
  EXPECT_NE(message.find("model.merges[1]"), std::string::npos) << message;
  EXPECT_NE(message.find("'z' is not in the vocabulary"), std::string::npos) << message;
}

TEST(TokenizerErrors, MergeNotTwoTokens) {
  json file = minimal_file();
  file["model"]["merges"] = {"a b c"};
  EXPECT_NE(load_error(file).find("model.merges[0]"), std::string::npos) << load_error(file);
  file["model"]["merges"] = {{"a", "b", "c"}};
  EXPECT_NE(load_error(file).find("model.merges[0]"), std::string::npos) << load_error(file);
  file["model"]["merges"] = {7};
  EXPECT_NE(load_error(file).find("model.merges[0]"), std::string::npos) << load_error(file);
}

TEST(TokenizerErrors, VocabIdNotAnInteger) {
  json file = minimal_file();
  file["model"]["vocab"]["d"] = "four";
  std::string message = load_error(file);
  EXPECT_NE(message.find("model.vocab"), std::string::npos) << message;
  EXPECT_NE(message.find("'d'"), std::string::npos) << message;
  file["model"]["vocab"]["d"] = -4;
  message = load_error(file);
  EXPECT_NE(message.find("token 'd' has id -4"), std::string::npos) << message;
}

TEST(TokenizerErrors, BadAddedToken) {
  json file = minimal_file();
  file["added_tokens"] = {{{"id", 9}, {"special", true}}};
  const std::string message = load_error(file);
  EXPECT_NE(message.find("added_tokens[0]: missing field 'content'"), std::string::npos) << message;
}

TEST(TokenizerErrors, TemplateWithUnknownSpecialToken) {
  json file = minimal_file();
  file["post_processor"] = {{"type", "TemplateProcessing"},
                            {"single",
                             {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                              {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                            {"special_tokens", json::object()}};
  const std::string message = load_error(file);
  EXPECT_NE(message.find("'<s>' missing from special_tokens"), std::string::npos) << message;
}

TEST(TokenizerErrors, InvalidUtf8Input) {
  const Tokenizer tok = Tokenizer::from_json_string(minimal_file().dump());
  for (const std::string& text : {std::string("ab\xC3"), std::string("\xFF"),
                                  std::string("a\xED\xA0\x80"),  // a UTF-16 surrogate
                                  std::string("\xC0\xAF")}) {    // an overlong '/'
    try {
      tok.encode(text, true);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("not valid UTF-8"), std::string::npos) << e.what();
    }
  }
}

TEST(TokenizerErrors, UnknownIdToToken) {
  const Tokenizer tok = Tokenizer::from_json_string(minimal_file().dump());
  EXPECT_EQ(tok.id_to_token(3), "ab");
  EXPECT_THROW(tok.id_to_token(99), Error);
  EXPECT_THROW(tok.id_to_token(-1), Error);
  EXPECT_EQ(tok.decode({0, 99, -5, 1}, false), "a b");  // unknown ids are skipped, as HF
}

TEST(TokenizerErrors, UnknownTokenWithoutUnkIsDropped) {
  // With no unk_token HF drops characters the vocabulary lacks (and merges across the gap).
  const Tokenizer tok = Tokenizer::from_json_string(minimal_file().dump());
  EXPECT_EQ(tok.encode("axb", false), (std::vector<int32_t>{3}));
  EXPECT_EQ(tok.encode("cxc", false), (std::vector<int32_t>{2, 2}));
}

TEST(TokenizerErrors, UnkTokenMissingFromVocab) {
  json file = minimal_file();
  file["model"]["unk_token"] = "<unk>";
  const Tokenizer tok = Tokenizer::from_json_string(file.dump());
  EXPECT_EQ(tok.encode("ab", false), (std::vector<int32_t>{3}));
  try {
    tok.encode("x", false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unk_token '<unk>'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lorax
