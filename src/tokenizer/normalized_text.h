// Text on its way from the input string to the model: the pieces that normalizers rewrite and
// pre-tokenizers split, with where each byte came from in the input.
//
// Hugging Face keeps a full (start, end) alignment per byte to report offsets. Encoding ids needs
// only one thing from it: whether a piece starts at offset 0 of the input (Metaspace's
// prepend_scheme "first"). So a piece carries the input offset of each byte's source character,
// and only when a component asks for it (`tracked`); otherwise `origin` stays empty.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace lorax {

struct NormalizedText {
  std::string text;
  std::vector<uint32_t> origin;  // [text.size()] input offset of each byte's source character
  uint32_t shift = 0;            // input offset where this piece starts (HF `original_shift`)
  bool tracked = false;          // whether `origin` is kept

  // A piece of the input text itself, starting at input offset `offset`.
  static NormalizedText from_input(std::string_view text, uint32_t offset, bool track);

  // Bytes [begin, end); its shift is the origin of its first byte, as HF's slice.
  NormalizedText slice(size_t begin, size_t end) const;

  // The origin HF gives to characters inserted before byte `pos`: that of the byte before it,
  // or the piece's own start at position 0.
  uint32_t inserted_origin(size_t pos) const;
  uint32_t origin_at(size_t pos) const { return tracked ? origin[pos] : 0; }
};

// Builds a rewritten NormalizedText from a source one, byte range by byte range.
class NormalizedTextBuilder {
 public:
  explicit NormalizedTextBuilder(const NormalizedText& source);
  // New bytes, all sharing one origin.
  void append(std::string_view bytes, uint32_t origin);
  // Source bytes [begin, end) with their own origins.
  void copy(size_t begin, size_t end);
  NormalizedText finish() &&;

 private:
  const NormalizedText& source_;
  NormalizedText out_;
};

// A stretch of text and whether it matched a pattern (HF `find_matches`): the stretches cover
// the text in order; empty text gives one empty non-match.
struct MatchSpan {
  size_t begin = 0;
  size_t end = 0;
  bool is_match = false;
};

// Matches of a regex with the gaps between them filled in as non-matches.
std::vector<MatchSpan> spans_with_gaps(std::string_view text, const std::vector<ByteSpan>& found);

// Each character for which `pred` holds is its own match; runs of other characters are merged.
template <typename Pred>
std::vector<MatchSpan> char_matches(std::string_view text, Pred pred);

// A tokenizer.json pattern: {"String": "..."} (a literal) or {"Regex": "..."}.
class TextPattern {
 public:
  static TextPattern from_json(const nlohmann::json& j, const std::string& where);
  std::vector<MatchSpan> find_matches(std::string_view text) const;

 private:
  explicit TextPattern(Regex regex) : regex_(std::move(regex)) {}
  Regex regex_;
};

// HF `SplitDelimiterBehavior`: what becomes of the matched stretches when splitting.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

SplitBehavior split_behavior_from_json(const nlohmann::json& j, const std::string& where);

// Splits `text` at `spans` (from find_matches) as `behavior` says; empty pieces are dropped.
std::vector<NormalizedText> split_text(const NormalizedText& text, std::vector<MatchSpan> spans,
                                       SplitBehavior behavior);

// Rewrites every matched stretch with `content` (HF `NormalizedString::replace`).
NormalizedText replace_matches(const NormalizedText& text, const std::vector<MatchSpan>& spans,
                               std::string_view content);

template <typename Pred>
std::vector<MatchSpan> char_matches(std::string_view text, Pred pred) {
  if (text.empty()) return {MatchSpan{0, 0, false}};
  std::vector<MatchSpan> spans;
  size_t run_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t len = unicode::sequence_length(static_cast<unsigned char>(text[pos]));
    if (pred(unicode::decode_at(text, pos))) {
      if (run_start < pos) spans.push_back({run_start, pos, false});
      spans.push_back({pos, pos + len, true});
      run_start = pos + len;
    }
    pos += len;
  }
  if (run_start < text.size()) spans.push_back({run_start, text.size(), false});
  return spans;
}

}  // namespace lorax
