#include "engine/speculation.h"

#include <algorithm>

namespace lorax {

std::vector<int32_t> prompt_lookup_drafts(std::span<const int32_t> tokens, int64_t max_drafts,
                                          int max_ngram) {
  const int64_t len = int64_t(tokens.size());
  if (max_drafts <= 0) return {};
  for (int64_t n = std::min<int64_t>(max_ngram, len - 1); n >= 1; --n) {
    const auto tail = tokens.subspan(size_t(len - n));
    // Latest occurrence first: the text written most recently predicts the next best. An
    // occurrence must end before the tail starts to have a continuation to copy.
    for (int64_t start = len - n - 1; start >= 0; --start) {
      if (!std::equal(tail.begin(), tail.end(), tokens.begin() + start)) continue;
      const int64_t from = start + n;
      const int64_t count = std::min(max_drafts, len - from);
      return {tokens.begin() + from, tokens.begin() + from + count};
    }
  }
  return {};
}

}  // namespace lorax
