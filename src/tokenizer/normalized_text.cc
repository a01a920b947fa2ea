#include "tokenizer/normalized_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/error.h"

namespace lorax {

NormalizedText NormalizedText::from_input(std::string_view text, uint32_t offset, bool track) {
  NormalizedText out;
  out.text = std::string(text);
  out.shift = offset;
  out.tracked = track;
  if (track) {
    out.origin.resize(text.size());
    // Every byte of a character points at the character's first byte.
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t len = unicode::sequence_length(static_cast<unsigned char>(text[pos]));
      for (size_t i = 0; i < len && pos + i < text.size(); ++i) {
        out.origin[pos + i] = offset + static_cast<uint32_t>(pos);
      }
      pos += len;
    }
  }
  return out;
}

NormalizedText NormalizedText::slice(size_t begin, size_t end) const {
  NormalizedText out;
  out.text = text.substr(begin, end - begin);
  out.tracked = tracked;
  if (tracked) {
    out.origin.assign(origin.begin() + static_cast<std::ptrdiff_t>(begin),
                      origin.begin() + static_cast<std::ptrdiff_t>(end));
    out.shift = begin < origin.size() ? origin[begin] : shift;
  }
  return out;
}

uint32_t NormalizedText::inserted_origin(size_t pos) const {
  if (!tracked) return 0;
  return pos > 0 ? origin[pos - 1] : shift;
}

NormalizedTextBuilder::NormalizedTextBuilder(const NormalizedText& source) : source_(source) {
  out_.shift = source.shift;
  out_.tracked = source.tracked;
  out_.text.reserve(source.text.size());
  if (source.tracked) out_.origin.reserve(source.text.size());
}

void NormalizedTextBuilder::append(std::string_view bytes, uint32_t origin) {
  out_.text.append(bytes);
  if (out_.tracked) out_.origin.insert(out_.origin.end(), bytes.size(), origin);
}

void NormalizedTextBuilder::copy(size_t begin, size_t end) {
  out_.text.append(source_.text, begin, end - begin);
  if (out_.tracked) {
    out_.origin.insert(out_.origin.end(),
                       source_.origin.begin() + static_cast<std::ptrdiff_t>(begin),
                       source_.origin.begin() + static_cast<std::ptrdiff_t>(end));
  }
}

NormalizedText NormalizedTextBuilder::finish() && {
  return std::move(out_);
}

std::vector<MatchSpan> spans_with_gaps(std::string_view text, const std::vector<ByteSpan>& found) {
  if (text.empty()) return {MatchSpan{0, 0, false}};
  std::vector<MatchSpan> spans;
  spans.reserve(found.size() * 2 + 1);
  size_t prev = 0;
  for (const ByteSpan& m : found) {
    if (prev != m.begin) spans.push_back({prev, m.begin, false});
    spans.push_back({m.begin, m.end, true});
    prev = m.end;
  }
  if (prev != text.size()) spans.push_back({prev, text.size(), false});
  return spans;
}

TextPattern TextPattern::from_json(const nlohmann::json& j, const std::string& where) {
  LORAX_CHECK(j.is_object(), where,
              ": pattern must be an object {\"String\": ...} or {\"Regex\": ...}");
  if (auto it = j.find("String"); it != j.end() && it->is_string()) {
    // HF matches a literal by compiling its escaped form, which fixes the empty-literal case too.
    return TextPattern(Regex(escape_regex(it->get<std::string>()), where));
  }
  if (auto it = j.find("Regex"); it != j.end() && it->is_string()) {
    return TextPattern(Regex(it->get<std::string>(), where));
  }
  fail(where, ": pattern must have a string field \"String\" or \"Regex\"");
}

std::vector<MatchSpan> TextPattern::find_matches(std::string_view text) const {
  if (text.empty()) return {MatchSpan{0, 0, false}};
  return spans_with_gaps(text, regex_.find_all(text));
}

SplitBehavior split_behavior_from_json(const nlohmann::json& j, const std::string& where) {
  LORAX_CHECK(j.is_string(), where, ": field 'behavior' must be a string");
  const std::string name = j.get<std::string>();
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  fail(where, ": unknown split behavior '", name, "'");
}

namespace {

// HF's folds over the match list: `merge` says when a stretch joins the previous piece. Each
// output span carries `remove` (only Removed drops anything).
struct PieceSpan {
  size_t begin;
  size_t end;
  bool remove;
};

template <typename JoinsPrevious>
std::vector<PieceSpan> fold_forward(const std::vector<MatchSpan>& spans, JoinsPrevious joins) {
  std::vector<PieceSpan> out;
  bool previous_match = false;
  for (const MatchSpan& s : spans) {
    if (joins(s.is_match, previous_match) && !out.empty()) {
      out.back().end = s.end;
    } else {
      out.push_back({s.begin, s.end, false});
    }
    previous_match = s.is_match;
  }
  return out;
}

std::vector<PieceSpan> merged_with_next(const std::vector<MatchSpan>& spans) {
  std::vector<PieceSpan> out;
  bool previous_match = false;
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    if (it->is_match && !previous_match && !out.empty()) {
      out.back().begin = it->begin;
    } else {
      out.push_back({it->begin, it->end, false});
    }
    previous_match = it->is_match;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<PieceSpan> piece_spans(const std::vector<MatchSpan>& spans, SplitBehavior behavior) {
  std::vector<PieceSpan> out;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const MatchSpan& s : spans) out.push_back({s.begin, s.end, false});
      return out;
    case SplitBehavior::kRemoved:
      for (const MatchSpan& s : spans) out.push_back({s.begin, s.end, s.is_match});
      return out;
    case SplitBehavior::kContiguous:
      return fold_forward(spans, [](bool m, bool prev) { return m == prev; });
    case SplitBehavior::kMergedWithPrevious:
      return fold_forward(spans, [](bool m, bool prev) { return m && !prev; });
    case SplitBehavior::kMergedWithNext:
      return merged_with_next(spans);
  }
  return out;
}

}  // namespace

std::vector<NormalizedText> split_text(const NormalizedText& text, std::vector<MatchSpan> spans,
                                       SplitBehavior behavior) {
  std::vector<NormalizedText> pieces;
  for (const PieceSpan& p : piece_spans(spans, behavior)) {
    if (p.remove || p.begin == p.end) continue;
    pieces.push_back(text.slice(p.begin, p.end));
  }
  return pieces;
}

NormalizedText replace_matches(const NormalizedText& text, const std::vector<MatchSpan>& spans,
                               std::string_view content) {
  NormalizedTextBuilder out(text);
  for (const MatchSpan& s : spans) {
    if (s.is_match) {
      out.append(content, text.inserted_origin(s.begin));
    } else {
      out.copy(s.begin, s.end);
    }
  }
  return std::move(out).finish();
}

}  // namespace lorax
