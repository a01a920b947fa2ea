// StreamingDetokenizer: what it emits, token by token, adds up to the full decode, and no piece
// ends in half a character.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

const std::string kFixtures = LORAX_FIXTURES_DIR;

std::string tokenizer_path(const std::string& name) {
  if (name == "stories260K") return kFixtures + "/models/stories260K/tokenizer.json";
  return kFixtures + "/tokenizers/" + name + "/tokenizer.json";
}

// Every piece the stream emits, then what flush returns.
std::vector<std::string> stream_pieces(const Tokenizer& tok, const std::vector<int32_t>& ids,
                                       bool skip, std::vector<int32_t> prompt = {}) {
  StreamingDetokenizer stream(tok, skip, std::move(prompt));
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(stream.push(id));
  pieces.push_back(stream.flush());
  return pieces;
}

std::string joined(const std::vector<std::string>& pieces) {
  std::string text;
  for (const std::string& p : pieces) text += p;
  return text;
}

bool has_replacement_char(const std::string& s) {
  return s.find("\xEF\xBF\xBD") != std::string::npos;
}

class RandomIdsTest : public testing::TestWithParam<std::string> {};

// Random ids, heavy in byte tokens and special tokens, including byte runs that are not UTF-8:
// the stream must still add up to exactly decode(ids).
TEST_P(RandomIdsTest, StreamAddsUpToDecode) {
  const Tokenizer tok = Tokenizer::from_file(tokenizer_path(GetParam()));
  std::vector<int32_t> byte_ids;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    if (const auto id = tok.token_to_id(name)) byte_ids.push_back(*id);
  }
  std::vector<int32_t> special_ids;
  for (const AddedToken& t : tok.added_tokens()) {
    if (t.special) special_ids.push_back(t.id);
  }
  std::mt19937 rng(1234);
  for (int iteration = 0; iteration < 400; ++iteration) {
    std::vector<int32_t> ids;
    const int length = static_cast<int>(rng() % 14);
    for (int i = 0; i < length; ++i) {
      const unsigned kind = rng() % 4;
      if (kind == 0 && !byte_ids.empty()) {
        ids.push_back(byte_ids[rng() % byte_ids.size()]);
      } else if (kind == 1 && !special_ids.empty()) {
        ids.push_back(special_ids[rng() % special_ids.size()]);
      } else {
        ids.push_back(static_cast<int32_t>(rng() % tok.vocab_size()));
      }
    }
    for (bool skip : {false, true}) {
      EXPECT_EQ(joined(stream_pieces(tok, ids, skip)), tok.decode(ids, skip))
          << "skip_special=" << skip << " ids=" << testing::PrintToString(ids);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RandomIdsTest,
                         testing::Values("llama2", "llama3", "gemma", "mistral", "stories260K"));

TEST(StreamingDetokenizer, ByteFallbackCharacterComesOutWhole) {
  const Tokenizer tok = Tokenizer::from_file(tokenizer_path("llama2"));
  const std::vector<int32_t> ids = tok.encode("I like 🦙 and 日本語!", true);
  const std::vector<std::string> pieces = stream_pieces(tok, ids, true);
  for (const std::string& piece : pieces) EXPECT_FALSE(has_replacement_char(piece)) << piece;
  EXPECT_EQ(joined(pieces), "I like 🦙 and 日本語!");
}

TEST(StreamingDetokenizer, ByteLevelCharacterComesOutWhole) {
  const Tokenizer tok = Tokenizer::from_file(tokenizer_path("llama3"));
  const std::vector<int32_t> ids =
      tok.encode("<|begin_of_text|>Emoji 👩‍👩‍👧 and ខ្មែរ text", false);
  const std::vector<std::string> pieces = stream_pieces(tok, ids, false);
  for (const std::string& piece : pieces) EXPECT_FALSE(has_replacement_char(piece)) << piece;
  EXPECT_EQ(joined(pieces), "<|begin_of_text|>Emoji 👩‍👩‍👧 and ខ្មែរ text");
  EXPECT_EQ(joined(stream_pieces(tok, ids, true)),
            "Emoji 👩‍👩‍👧 and ខ្មែរ text");
}

TEST(StreamingDetokenizer, FirstTokenLosesItsSpaceAsInDecode) {
  const Tokenizer tok = Tokenizer::from_file(tokenizer_path("llama2"));
  const std::vector<int32_t> ids = tok.encode("Hello world", true);  // <s> ▁Hello ▁world
  const std::vector<std::string> pieces = stream_pieces(tok, ids, true);
  EXPECT_EQ(pieces, (std::vector<std::string>{"", "Hello", " world", ""}));
  EXPECT_EQ(joined(stream_pieces(tok, ids, false)), "<s> Hello world");
}

TEST(StreamingDetokenizer, PromptGivesContextWithoutBeingEmitted) {
  for (const char* name : {"llama2", "llama3", "gemma"}) {
    SCOPED_TRACE(name);
    const Tokenizer tok = Tokenizer::from_file(tokenizer_path(name));
    const std::vector<int32_t> all = tok.encode("The answer is: 42 🦙 days in 日本.", true);
    for (size_t split = 1; split < all.size(); ++split) {
      const std::vector<int32_t> prompt(all.begin(), all.begin() + static_cast<long>(split));
      const std::vector<int32_t> generated(all.begin() + static_cast<long>(split), all.end());
      const std::string full = tok.decode(all, true);
      const std::string before = tok.decode(prompt, true);
      if (full.compare(0, before.size(), before) != 0) continue;  // prompt ends mid-character
      EXPECT_EQ(joined(stream_pieces(tok, generated, true, prompt)), full.substr(before.size()))
          << "split " << split;
    }
  }
}

TEST(StreamingDetokenizer, FlushReleasesAnUnfinishedCharacter) {
  const Tokenizer tok = Tokenizer::from_file(tokenizer_path("llama2"));
  const std::vector<int32_t> ids = {*tok.token_to_id("▁a"), *tok.token_to_id("<0xE2>"),
                                    *tok.token_to_id("<0x82>")};
  StreamingDetokenizer stream(tok, false);
  EXPECT_EQ(stream.push(ids[0]), "a");
  EXPECT_EQ(stream.push(ids[1]), "");
  EXPECT_EQ(stream.push(ids[2]), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD\xEF\xBF\xBD");  // as decode: one U+FFFD per byte
  EXPECT_EQ(tok.decode(ids, false), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(stream.flush(), "");
}

}  // namespace
}  // namespace lorax
