// Reproduces the reference vectors of Hugging Face `tokenizers` 0.23 for real tokenizer files:
// encode with and without special tokens, decode with and without skipping them, and streaming
// decode that concatenates to the full decode.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

using nlohmann::json;

const std::string kFixtures = LORAX_FIXTURES_DIR;

json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return json::parse(in);
}

std::string tokenizer_path(const std::string& name) {
  if (name == "stories260K") return kFixtures + "/models/stories260K/tokenizer.json";
  return kFixtures + "/tokenizers/" + name + "/tokenizer.json";
}

std::vector<int32_t> ids_of(const json& j) {
  return j.get<std::vector<int32_t>>();
}

std::string streamed(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip) {
  StreamingDetokenizer stream(tok, skip);
  std::string text;
  for (int32_t id : ids) text += stream.push(id);
  return text + stream.flush();
}

class VectorsTest : public testing::TestWithParam<std::string> {};

TEST_P(VectorsTest, ReproducesEveryCase) {
  const json vectors = read_json(kFixtures + "/tokenizers/vectors/" + GetParam() + ".vectors.json");
  const Tokenizer tok =
      Tokenizer::from_file(tokenizer_path(vectors.at("tokenizer").get<std::string>()));
  int passed = 0;
  const json& cases = vectors.at("cases");
  for (const json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    const std::vector<int32_t> ids = ids_of(c.at("ids"));
    const std::vector<int32_t> with_special = ids_of(c.at("ids_with_special"));
    const std::string decoded = c.at("decoded").get<std::string>();
    const std::string decoded_skip = c.at("decoded_skip_special").get<std::string>();
    const std::vector<int32_t> got = tok.encode(text, false);
    const std::vector<int32_t> got_special = tok.encode(text, true);
    // The reference decodes `ids` (the encoding without added special tokens).
    const std::string got_decoded = tok.decode(ids, false);
    const std::string got_decoded_skip = tok.decode(ids, true);
    EXPECT_EQ(got, ids) << "encode: " << json(text).dump();
    EXPECT_EQ(got_special, with_special) << "encode with special: " << json(text).dump();
    EXPECT_EQ(got_decoded, decoded) << "decode: " << json(text).dump();
    EXPECT_EQ(got_decoded_skip, decoded_skip) << "decode skip special: " << json(text).dump();
    for (const std::vector<int32_t>* seq : {&ids, &with_special}) {
      for (bool skip : {false, true}) {
        EXPECT_EQ(streamed(tok, *seq, skip), tok.decode(*seq, skip))
            << "stream (skip_special=" << skip << ", " << seq->size()
            << " ids): " << json(text).dump();
      }
    }
    if (got == ids && got_special == with_special && got_decoded == decoded &&
        got_decoded_skip == decoded_skip) {
      ++passed;
    }
  }
  std::cout << "[ vectors  ] " << GetParam() << ": " << passed << "/" << cases.size()
            << " cases pass\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VectorsTest,
                         testing::Values("llama2", "llama3", "gemma", "mistral", "stories260K"));

}  // namespace
}  // namespace lorax
