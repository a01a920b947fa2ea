// Damaged tokenizer.json files and arbitrary input never crash the tokenizer: each either loads
// or throws lorax::Error (no other exception type leaks out), and whatever loads encodes and
// decodes any text and ids. A small mutation fuzzer with a fixed seed, so failures reproduce.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

using nlohmann::json;

// A file that uses every kind of component, so mutations reach every parser.
std::string seed_file() {
  json vocab = {{"<unk>", 0},  {"<s>", 1}, {"</s>", 2}, {"<0xE2>", 3}, {"<0x82>", 4},
                {"<0xAC>", 5}, {"▁", 6},   {"a", 7},    {"b", 8},      {"ab", 9},
                {"▁a", 10},    {"1", 11},  {".", 12}};
  const json added = json::array(
      {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
       {{"id", 1}, {"content", "<s>"}, {"special", true}, {"normalized", false}},
       {{"id", 13}, {"content", "[X]"}, {"special", true}, {"lstrip", true}, {"rstrip", true}},
       {{"id", 14},
        {"content", "Ab"},
        {"special", false},
        {"single_word", true},
        {"normalized", true}}});
  const json file = {
      {"added_tokens", added},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "NFKC"}},
          {{"type", "Lowercase"}},
          {{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}},
          {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}},
          {{"type", "Prepend"}, {"prepend", "▁"}}}}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"String", "."}}}, {"behavior", "MergedWithNext"}},
          {{"type", "Digits"}, {"individual_digits", true}},
          {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}}}}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", {"a b", "▁ a"}}}}};
  return file.dump();
}

// Exercises a loaded tokenizer on awkward text and ids.
void exercise(const Tokenizer& tok, std::mt19937& rng) {
  for (const char* text :
       {"Ab ab [X] a.b 12", "  \t\n", "", "日本 🦙 é €", "<s>[X][X]</s>"}) {
    const std::vector<int32_t> ids = tok.encode(text, true);
    tok.decode(ids, false);
    StreamingDetokenizer stream(tok, true);
    for (int32_t id : ids) stream.push(id);
    stream.flush();
  }
  std::vector<int32_t> ids;
  for (int i = 0; i < 16; ++i) {
    ids.push_back(static_cast<int32_t>(rng() % (tok.vocab_size() + 4)) - 2);
  }
  tok.decode(ids, true);
}

TEST(TokenizerRobustness, SeedFileLoadsAndWorks) {
  const Tokenizer tok = Tokenizer::from_json_string(seed_file());
  // "Ab" is a normalized added token, so it is matched as its normalized form "▁ab" (HF too).
  EXPECT_EQ(tok.encode("ab", true), (std::vector<int32_t>{1, 14}));
  EXPECT_EQ(tok.encode("x [X]  y", false), (std::vector<int32_t>{6, 0, 13, 6, 0}));
  EXPECT_EQ(tok.decode({1, 14}, true), "ab");
}

TEST(TokenizerRobustness, MutatedFilesLoadOrThrowLoraxError) {
  const std::string seed = seed_file();
  const std::string alphabet =
      "{}[]\":,0123456789-.e truefalsnul\\u\xE2\x96\x81"
      "abxyz<>";
  std::mt19937 rng(20261122);
  int loaded = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string text = seed;
    for (unsigned edits = 1 + rng() % 4; edits > 0; --edits) {
      const size_t pos = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text.erase(pos, 1 + rng() % 8);
          break;
        case 1:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          text[pos] = alphabet[rng() % alphabet.size()];
          break;
        default:
          text.insert(pos, text.substr(rng() % text.size(), rng() % 40));
          break;
      }
    }
    try {
      const Tokenizer tok = Tokenizer::from_json_string(text, "mutated.json");
      ++loaded;
      exercise(tok, rng);
    } catch (const Error&) {
      // A clear error is the expected outcome for most damaged files.
    } catch (const std::exception& e) {
      ADD_FAILURE() << "non-lorax exception: " << e.what() << "\nfile: " << text;
    }
  }
  EXPECT_GT(loaded, 0);  // some mutations keep the file valid
}

TEST(TokenizerRobustness, ArbitraryTextEncodesAndDecodesToValidUtf8) {
  const Tokenizer tok = Tokenizer::from_json_string(seed_file());
  std::mt19937 rng(7);
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::string text;
    for (unsigned n = rng() % 30; n > 0; --n) {
      char32_t cp = rng() % 4 == 0 ? rng() % 0x80 : rng() % 0x110000;
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';  // surrogates are not characters
      if (cp < 0x80) {
        text.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        text += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      } else if (cp < 0x10000) {
        text += {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                 static_cast<char>(0x80 | (cp & 0x3F))};
      } else {
        text +=
            {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
             static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
      }
    }
    const std::vector<int32_t> ids = tok.encode(text, false);
    // Decoded text is always valid UTF-8 (bad byte runs become U+FFFD), so it encodes again.
    EXPECT_NO_THROW(tok.encode(tok.decode(ids, false), false)) << testing::PrintToString(ids);
  }
}

}  // namespace
}  // namespace lorax
