// Load time of the 256k-vocabulary Gemma tokenizer and encode throughput, printed for the log.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>

#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

const std::string kFixtures = LORAX_FIXTURES_DIR;

// About 200 KB of text: the reference vectors' strings (English, code, digits, many scripts and
// emoji), joined by newlines and repeated.
std::string sample_text() {
  std::ifstream in(kFixtures + "/tokenizers/vectors/llama3.vectors.json");
  const nlohmann::json vectors = nlohmann::json::parse(in);
  std::string one;
  for (const nlohmann::json& c : vectors.at("cases")) one += c.at("text").get<std::string>() + "\n";
  std::string all;
  while (all.size() < 200000) all += one;
  return all;
}

TEST(TokenizerLoad, GemmaLoadsQuickly) {
  const std::clock_t cpu_start = std::clock();
  const auto start = std::chrono::steady_clock::now();
  const Tokenizer tok = Tokenizer::from_file(kFixtures + "/tokenizers/gemma/tokenizer.json");
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  std::cout << "[ load     ] gemma tokenizer.json (256k vocab, 580k merges): " << wall.count()
            << " s wall, " << cpu << " s CPU\n";
  EXPECT_EQ(tok.vocab_size(), 256000u);
#ifdef NDEBUG
  // CPU time, so that tests running beside this one on a small machine do not make it flaky.
  EXPECT_LT(cpu, 1.0) << "Release builds must load the Gemma tokenizer in under 1 s";
#endif
}

TEST(TokenizerLoad, EncodeThroughput) {
  const std::string text = sample_text();
  for (const char* name : {"llama3", "gemma"}) {
    const Tokenizer tok =
        Tokenizer::from_file(kFixtures + "/tokenizers/" + name + "/tokenizer.json");
    const double mb_per_s = measure_encode_mb_per_s(tok, text, 3);
    std::cout << "[ encode   ] " << name << ": " << mb_per_s << " MB/s on " << text.size()
              << " bytes (one thread)\n";
    EXPECT_GT(mb_per_s, 0.0);
  }
}

}  // namespace
}  // namespace lorax
