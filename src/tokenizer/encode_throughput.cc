// Encode throughput for benchmarks (declared in tokenizer.h).
#include <algorithm>
#include <chrono>

#include "tokenizer/tokenizer.h"

namespace lorax {

double measure_encode_mb_per_s(const Tokenizer& tokenizer, const std::string& text, int repeats) {
  double best_seconds = 0;
  for (int i = 0; i < std::max(repeats, 1); ++i) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = tokenizer.encode(text, false);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (i == 0 || took.count() < best_seconds) best_seconds = took.count();
  }
  return best_seconds > 0 ? static_cast<double>(text.size()) / 1e6 / best_seconds : 0.0;
}

}  // namespace lorax
