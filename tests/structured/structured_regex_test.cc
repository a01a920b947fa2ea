#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "structured/byte_graph.h"
#include "structured_test_support.h"

namespace lorax::structured {
namespace {

using test::accepts;
using test::regex;

TEST(StructuredRegex, LiteralsAndAlternation) {
  auto c = regex("ab|cd");
  EXPECT_TRUE(accepts(c, "ab"));
  EXPECT_TRUE(accepts(c, "cd"));
  EXPECT_FALSE(accepts(c, "a"));
  EXPECT_FALSE(accepts(c, "abcd"));
  EXPECT_FALSE(accepts(c, "ad"));
}

TEST(StructuredRegex, ClassesAndShorthands) {
  auto c = regex(R"([a-c]\d[^x]\w\s)");
  EXPECT_TRUE(accepts(c, "b7y_ "));
  EXPECT_FALSE(accepts(c, "d7y_ "));
  EXPECT_FALSE(accepts(c, "b7x_ "));
  EXPECT_FALSE(accepts(c, "b7y- "));
  EXPECT_TRUE(accepts(c, "a0\xC3\xA9Z\t"));  // [^x] takes a two-byte character whole
}

TEST(StructuredRegex, NegatedClassNeverSplitsUtf8) {
  auto c = regex("[^a]");
  EXPECT_TRUE(accepts(c, "\xE2\x82\xAC"));  // €
  EXPECT_FALSE(accepts(c, "\xE2\x82"));     // an unfinished character
  EXPECT_FALSE(accepts(c, "\xC3"));
  EXPECT_FALSE(accepts(c, "\xED\xA0\x80"));  // a surrogate is not a character
}

TEST(StructuredRegex, UnicodeRanges) {
  auto c = regex("[α-ω]+");
  EXPECT_TRUE(accepts(c, "βγ"));
  EXPECT_FALSE(accepts(c, "a"));
  EXPECT_FALSE(accepts(c, "Α"));  // capital alpha is outside
}

TEST(StructuredRegex, BoundedRepetition) {
  auto c = regex("x{2,3}y{2}z{1,}");
  EXPECT_FALSE(accepts(c, "xyyz"));
  EXPECT_TRUE(accepts(c, "xxyyz"));
  EXPECT_TRUE(accepts(c, "xxxyyzzz"));
  EXPECT_FALSE(accepts(c, "xxxxyyz"));
  EXPECT_FALSE(accepts(c, "xxyz"));
  EXPECT_FALSE(accepts(c, "xxyy"));
}

TEST(StructuredRegex, GroupsAndOptional) {
  auto c = regex("(?:ab)*c?(d|e)+");
  EXPECT_TRUE(accepts(c, "ababcdde"));
  EXPECT_TRUE(accepts(c, "e"));
  EXPECT_FALSE(accepts(c, "abac"));
  EXPECT_FALSE(accepts(c, "abc"));
}

TEST(StructuredRegex, RefusesWhatItCannotHonour) {
  for (const char* p : {"(a)\\1", "a(?=b)", "\\bword", "\\p{L}", "a^b"}) {
    EXPECT_THROW(regex(p), Error) << p;
  }
  try {
    regex("(x)\\1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("backreference"), std::string::npos) << e.what();
  }
}

TEST(StructuredRegex, Utf8SequencesCoverExactlyTheRange) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> cp(0, 0x10FFFF);
  for (int round = 0; round < 50; ++round) {
    uint32_t a = cp(rng), b = cp(rng);
    if (a > b) std::swap(a, b);
    if (a <= 0xDFFF && b >= 0xD800) continue;  // callers remove surrogates
    std::vector<std::vector<std::pair<uint8_t, uint8_t>>> seqs;
    utf8_sequences(a, b, seqs);
    for (int k = 0; k < 200; ++k) {
      uint32_t x = std::uniform_int_distribution<uint32_t>(a > 0 ? a - 1 : 0, b + 1)(rng);
      if (x >= 0xD800 && x <= 0xDFFF) continue;
      std::string enc;
      if (x < 0x80)
        enc = {static_cast<char>(x)};
      else if (x < 0x800)
        enc = {static_cast<char>(0xC0 | x >> 6), static_cast<char>(0x80 | (x & 0x3F))};
      else if (x < 0x10000)
        enc = {static_cast<char>(0xE0 | x >> 12), static_cast<char>(0x80 | (x >> 6 & 0x3F)),
               static_cast<char>(0x80 | (x & 0x3F))};
      else
        enc = {static_cast<char>(0xF0 | x >> 18), static_cast<char>(0x80 | (x >> 12 & 0x3F)),
               static_cast<char>(0x80 | (x >> 6 & 0x3F)), static_cast<char>(0x80 | (x & 0x3F))};
      int hits = 0;
      for (const auto& s : seqs) {
        if (s.size() != enc.size()) continue;
        bool in = true;
        for (size_t i = 0; i < s.size(); ++i) {
          auto byte = static_cast<uint8_t>(enc[i]);
          in &= s[i].first <= byte && byte <= s[i].second;
        }
        hits += in;
      }
      EXPECT_EQ(hits, x >= a && x <= b ? 1 : 0) << std::hex << x << " in " << a << ".." << b;
    }
  }
}

}  // namespace
}  // namespace lorax::structured
