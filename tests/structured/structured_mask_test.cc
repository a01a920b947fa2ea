#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "structured/token_trie.h"
#include "structured_test_support.h"
#include "tokenizer/tokenizer.h"

namespace lorax::structured {
namespace {

bool bit(const std::vector<uint32_t>& bits, size_t id) {
  return bits[id >> 5] >> (id & 31) & 1u;
}

// A random vocabulary over JSON's punctuation, digits and a few letters.
std::shared_ptr<const TokenTrie> random_vocab(uint32_t seed) {
  std::mt19937 rng(seed);
  const std::string alphabet = "{}[]\":, 0123456789abcnultrsefx-.";
  std::vector<std::string> tokens;
  for (char c : alphabet) tokens.emplace_back(1, c);
  for (int i = 0; i < 600; ++i) {
    std::string t;
    int len = 1 + static_cast<int>(rng() % 5);
    for (int k = 0; k < len; ++k) t.push_back(alphabet[rng() % alphabet.size()]);
    tokens.push_back(t);
  }
  tokens.emplace_back();  // special: never allowed
  return TokenTrie::from_token_bytes(std::move(tokens));
}

// The trie walk against asking every token on its own, at each prefix of accepted texts.
TEST(StructuredMask, TrieMaskEqualsBruteForce) {
  auto trie = random_vocab(11);
  auto c = Constraint::from_json_schema(nlohmann::json::parse(R"({"type": "object",
      "properties": {"a": {"type": "array", "items": {"type": "integer", "maximum": 50}},
      "s": {"enum": ["true", "null"]}}, "required": ["a"]})"),
                                        trie);
  for (std::string text : {R"({"a":[1,23,-4],"s":"null"})", R"({"s":"true","xe":{},"a":[]})"}) {
    ASSERT_TRUE(test::accepts(c, text)) << text;
    for (size_t n = 0; n <= text.size(); ++n) {
      int32_t state = c->advance(c->initial_state(), text.substr(0, n));
      std::vector<uint32_t> bits(c->mask_words());
      c->fill_mask(state, bits.data());
      size_t allowed = 0;
      for (size_t id = 0; id < trie->vocab_size(); ++id) {
        const std::string& b = trie->bytes(static_cast<int32_t>(id));
        bool expect = !b.empty() && c->advance(state, b) != Constraint::kDead;
        ASSERT_EQ(bit(bits, id), expect)
            << "prefix " << text.substr(0, n) << " token '" << b << "'";
        allowed += expect;
      }
      if (n < text.size()) {
        EXPECT_GT(allowed, 0u) << text.substr(0, n);  // a prefix continues
      }
      c->fill_mask(state, bits.data());  // the cached mask is the same
      for (size_t id = 0; id < trie->vocab_size(); ++id) {
        const std::string& b = trie->bytes(static_cast<int32_t>(id));
        ASSERT_EQ(bit(bits, id), !b.empty() && c->advance(state, b) != Constraint::kDead);
      }
    }
  }
}

TEST(StructuredMask, StateCommitsAndStopTokens) {
  ConstraintOptions o;
  int32_t stop = static_cast<int32_t>(test::byte_vocab()->vocab_size() - 1);
  o.stop_tokens = {stop};
  auto c = Constraint::from_regex("ab", test::byte_vocab(), o);
  ConstraintState s(c);
  std::vector<uint32_t> bits(s.mask_words());
  s.fill_mask(bits.data());
  EXPECT_TRUE(bit(bits, 'a'));
  EXPECT_FALSE(bit(bits, 'b'));
  EXPECT_FALSE(bit(bits, static_cast<size_t>(stop)));
  EXPECT_FALSE(s.commit('b'));  // refused, state unchanged
  EXPECT_FALSE(s.commit(stop));
  EXPECT_TRUE(s.commit('a'));
  EXPECT_FALSE(s.is_accepting());
  EXPECT_TRUE(s.commit('b'));
  EXPECT_TRUE(s.is_accepting());
  s.fill_mask(bits.data());
  EXPECT_TRUE(bit(bits, static_cast<size_t>(stop)));
  EXPECT_FALSE(bit(bits, 'a'));
  EXPECT_TRUE(s.commit(stop));
  EXPECT_TRUE(s.is_finished());
  EXPECT_FALSE(s.commit('a'));
}

TEST(StructuredMask, MultiByteTokensCrossStructure) {
  auto c = test::schema(R"({"type": "object", "properties": {"abc": {"type": "boolean"}},
      "additionalProperties": false})");
  ConstraintState s(c);
  auto id = [](const char* t) {
    auto trie = test::byte_vocab();
    for (size_t i = 0; i < trie->vocab_size(); ++i) {
      if (trie->bytes(static_cast<int32_t>(i)) == t) return static_cast<int32_t>(i);
    }
    return -1;
  };
  std::vector<uint32_t> bits(s.mask_words());
  s.fill_mask(bits.data());
  EXPECT_TRUE(bit(bits, static_cast<size_t>(id("{\""))));
  ASSERT_TRUE(s.commit(id("{\"")));
  ASSERT_TRUE(s.commit(id("abc")));
  s.fill_mask(bits.data());
  EXPECT_TRUE(bit(bits, static_cast<size_t>(id("\":"))));
  EXPECT_FALSE(bit(bits, static_cast<size_t>(id("\",\""))));
  ASSERT_TRUE(s.commit(id("\":")));
  ASSERT_TRUE(s.commit(id("true")));
  ASSERT_TRUE(s.commit(id("}")));
  EXPECT_TRUE(s.is_accepting());
}

// Token bytes decoded through the project's tokenizer spell exactly what decode() returns.
TEST(StructuredMask, TokenBytesMatchDecode) {
  for (const char* name : {"llama3", "llama2"}) {
    Tokenizer tok = Tokenizer::from_file(std::string(LORAX_FIXTURES_DIR) + "/tokenizers/" + name +
                                         "/tokenizer.json");
    const std::string text = "{\"caf\xC3\xA9\": [1, 2.5, \"\xE2\x82\xAC\\n\"], \"x y\": null}";
    std::vector<int32_t> ids = tok.encode(text, false);
    std::string joined;
    for (int32_t id : ids) joined += token_bytes(tok, id);
    // SentencePiece's normalizer prepends a space that decode() drops again.
    std::string expected = std::string(name) == "llama2" ? " " + text : text;
    EXPECT_EQ(joined, expected) << name;
  }
}

}  // namespace
}  // namespace lorax::structured
