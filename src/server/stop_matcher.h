// Stop sequences matched on decoded text, across token boundaries.
//
// Text arrives piece by piece (one detokenizer push per token). The matcher keeps all of it,
// finds the first occurrence of any stop sequence, and drops everything from there on. For
// streaming it releases only text that can no longer become part of a match: a tail that is a
// proper prefix of some stop sequence is held back until the next piece decides it (vLLM's
// approach), so streamed text concatenates exactly to the final text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lorax {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);  // empty strings are ignored

  // Adds a piece; returns the text newly safe to release. Once matched(), further pushes are
  // ignored.
  std::string push(std::string_view piece);
  // Generation ended without a match: releases what was held back.
  std::string flush();
  bool matched() const { return matched_; }
  // Everything kept: released text plus held-back text (cut at the match once matched).
  const std::string& text() const { return text_; }

 private:
  size_t held_back() const;  // length of the tail that could still start a stop sequence

  std::vector<std::string> stops_;
  size_t longest_ = 0;
  std::string text_;
  size_t released_ = 0;
  bool matched_ = false;
};

}  // namespace lorax
