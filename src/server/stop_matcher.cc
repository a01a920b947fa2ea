#include "server/stop_matcher.h"

#include <algorithm>

namespace lorax {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops)
    if (!s.empty()) {
      longest_ = std::max(longest_, s.size());
      stops_.push_back(std::move(s));
    }
}

std::string StopMatcher::push(std::string_view piece) {
  if (matched_ || piece.empty()) return {};
  const size_t old_size = text_.size();
  text_.append(piece);
  if (!stops_.empty()) {
    // A new match must end inside the new piece, so it starts at most longest_-1 bytes earlier.
    const size_t from = old_size >= longest_ - 1 ? old_size - (longest_ - 1) : 0;
    size_t first = std::string::npos;
    for (const std::string& s : stops_) first = std::min(first, text_.find(s, from));
    if (first != std::string::npos) {
      text_.resize(first);
      matched_ = true;
      return flush();
    }
  }
  const size_t safe_end = text_.size() - held_back();
  if (safe_end <= released_) return {};
  std::string out = text_.substr(released_, safe_end - released_);
  released_ = safe_end;
  return out;
}

std::string StopMatcher::flush() {
  std::string out = text_.substr(std::min(released_, text_.size()));
  released_ = text_.size();
  return out;
}

size_t StopMatcher::held_back() const {
  size_t hold = 0;
  const std::string_view text(text_);
  for (const std::string& s : stops_)
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k)
      if (text.substr(text.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
  return std::min(hold, text_.size() - released_);
}

}  // namespace lorax
