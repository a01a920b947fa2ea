#include "tokenizer/pre_tokenizers.h"

#include <nlohmann/json.hpp>

#include <optional>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/unicode.h"

namespace lorax {
namespace {

using nlohmann::json;
namespace jf = json_fields;

// GPT-2's word split, used by ByteLevel when use_regex is set.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Replaces every piece by the pieces `split_one` makes of it.
template <typename SplitOne>
std::vector<NormalizedText> split_each(std::vector<NormalizedText> pieces, SplitOne split_one) {
  std::vector<NormalizedText> out;
  out.reserve(pieces.size());
  for (NormalizedText& piece : pieces) {
    for (NormalizedText& part : split_one(piece)) out.push_back(std::move(part));
  }
  return out;
}

std::vector<MatchSpan> inverted(std::vector<MatchSpan> spans) {
  for (MatchSpan& s : spans) s.is_match = !s.is_match;
  return spans;
}

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<const PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  std::vector<NormalizedText> pre_tokenize(std::vector<NormalizedText> pieces) const override {
    for (const auto& step : steps_) pieces = step->pre_tokenize(std::move(pieces));
    return pieces;
  }
  bool needs_origin() const override {
    for (const auto& step : steps_) {
      if (step->needs_origin()) return true;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<const PreTokenizer>> steps_;
};

// Spells every byte with the byte-level alphabet; all characters made from one input character
// keep its origin.
NormalizedText to_byte_alphabet(const NormalizedText& piece) {
  NormalizedTextBuilder out(piece);
  for (size_t i = 0; i < piece.text.size(); ++i) {
    out.append(byte_level::char_for_byte(static_cast<uint8_t>(piece.text[i])), piece.origin_at(i));
  }
  return std::move(out).finish();
}

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_.emplace(kGpt2Pattern, "ByteLevel");
  }
  std::vector<NormalizedText> pre_tokenize(std::vector<NormalizedText> pieces) const override {
    pieces = split_each(std::move(pieces), [&](NormalizedText& piece) {
      if (add_prefix_space_ && piece.text.front() != ' ') piece = with_prefix_space(piece);
      if (!regex_) return std::vector<NormalizedText>{std::move(piece)};
      return split_text(piece, spans_with_gaps(piece.text, regex_->find_all(piece.text)),
                        SplitBehavior::kIsolated);
    });
    for (NormalizedText& piece : pieces) piece = to_byte_alphabet(piece);
    return pieces;
  }

 private:
  static NormalizedText with_prefix_space(const NormalizedText& piece) {
    NormalizedTextBuilder out(piece);
    out.append(" ", piece.origin_at(0));
    out.copy(0, piece.text.size());
    return std::move(out).finish();
  }

  bool add_prefix_space_;
  std::optional<Regex> regex_;
};

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(TextPattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  std::vector<NormalizedText> pre_tokenize(std::vector<NormalizedText> pieces) const override {
    return split_each(std::move(pieces), [&](const NormalizedText& piece) {
      std::vector<MatchSpan> spans = pattern_.find_matches(piece.text);
      if (invert_) spans = inverted(std::move(spans));
      return split_text(piece, std::move(spans), behavior_);
    });
  }

 private:
  TextPattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

// SentencePiece's word marking: spaces become `replacement`, one is put in front of the text,
// and (with `split`) each word starts at its marker.
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement),
        spelling_(unicode::to_utf8(replacement)),
        scheme_(scheme),
        split_(split) {}

  std::vector<NormalizedText> pre_tokenize(std::vector<NormalizedText> pieces) const override {
    return split_each(std::move(pieces), [&](const NormalizedText& piece) {
      NormalizedText marked = mark(piece);
      if (!split_) return std::vector<NormalizedText>{std::move(marked)};
      const auto is_marker = [&](char32_t c) { return c == replacement_; };
      return split_text(marked, char_matches(marked.text, is_marker),
                        SplitBehavior::kMergedWithNext);
    });
  }
  bool needs_origin() const override { return scheme_ == PrependScheme::kFirst; }

 private:
  NormalizedText mark(const NormalizedText& piece) const {
    const auto is_space = [](char32_t c) { return c == U' '; };
    NormalizedText out = replace_matches(piece, char_matches(piece.text, is_space), spelling_);
    const bool starts_marked = out.text.rfind(spelling_, 0) == 0;
    const bool prepend =
        !out.text.empty() && !starts_marked &&
        (scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && out.shift == 0));
    if (!prepend) return out;
    NormalizedTextBuilder with_marker(out);
    with_marker.append(spelling_, out.origin_at(0));
    with_marker.copy(0, out.text.size());
    return std::move(with_marker).finish();
  }

  char32_t replacement_;
  std::string spelling_;
  PrependScheme scheme_;
  bool split_;
};

class DigitsPreTokenizer final : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
  std::vector<NormalizedText> pre_tokenize(std::vector<NormalizedText> pieces) const override {
    return split_each(std::move(pieces), [&](const NormalizedText& piece) {
      return split_text(piece, char_matches(piece.text, unicode::is_numeric),
                        individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
    });
  }

 private:
  bool individual_;
};

// Whitespace keeps runs of word characters and runs of other non-space characters
// (`\w+|[^\w\s]+`); WhitespaceSplit just drops whitespace.
class WhitespacePreTokenizer final : public PreTokenizer {
 public:
  explicit WhitespacePreTokenizer(bool split_punctuation) {
    if (split_punctuation) regex_.emplace(R"(\w+|[^\w\s]+)", "Whitespace");
  }
  std::vector<NormalizedText> pre_tokenize(std::vector<NormalizedText> pieces) const override {
    return split_each(std::move(pieces), [&](const NormalizedText& piece) {
      if (regex_) {
        std::vector<MatchSpan> spans = spans_with_gaps(piece.text, regex_->find_all(piece.text));
        return split_text(piece, inverted(std::move(spans)), SplitBehavior::kRemoved);
      }
      return split_text(piece, char_matches(piece.text, unicode::is_whitespace),
                        SplitBehavior::kRemoved);
    });
  }

 private:
  std::optional<Regex> regex_;
};

PrependScheme prepend_scheme_from_json(const json& j, const std::string& where) {
  const std::optional<std::string> scheme = jf::optional_string(j, "prepend_scheme", where);
  if (!scheme) {
    // Files written before prepend_scheme existed say add_prefix_space instead.
    return jf::optional_bool(j, "add_prefix_space", true, where) ? PrependScheme::kAlways
                                                                 : PrependScheme::kNever;
  }
  if (*scheme == "always") return PrependScheme::kAlways;
  if (*scheme == "first") return PrependScheme::kFirst;
  if (*scheme == "never") return PrependScheme::kNever;
  fail(where, ": unknown prepend_scheme '", *scheme, "' (expected always, first or never)");
}

char32_t single_char(const std::string& s, std::string_view field, const std::string& where) {
  const bool one_char = !s.empty() && unicode::find_invalid_utf8(s) == std::string::npos &&
                        unicode::sequence_length(static_cast<unsigned char>(s[0])) == s.size();
  LORAX_CHECK(one_char, where, ": field '", field, "' must be a single character");
  return unicode::decode_at(s, 0);
}

std::unique_ptr<const PreTokenizer> metaspace_from_json(const json& j, const std::string& where) {
  const char32_t replacement =
      single_char(jf::require_string(j, "replacement", where), "replacement", where);
  return std::make_unique<MetaspacePreTokenizer>(replacement, prepend_scheme_from_json(j, where),
                                                 jf::optional_bool(j, "split", true, where));
}

std::unique_ptr<const PreTokenizer> split_from_json(const json& j, const std::string& where) {
  return std::make_unique<SplitPreTokenizer>(
      TextPattern::from_json(jf::require(j, "pattern", where), jf::field_path(where, "pattern")),
      split_behavior_from_json(jf::require(j, "behavior", where), where),
      jf::optional_bool(j, "invert", false, where));
}

std::unique_ptr<const PreTokenizer> sequence_from_json(const json& j, const std::string& where) {
  const json& list = jf::require(j, "pretokenizers", where);
  LORAX_CHECK(list.is_array(), where, ": field 'pretokenizers' must be an array");
  std::vector<std::unique_ptr<const PreTokenizer>> steps;
  for (size_t i = 0; i < list.size(); ++i) {
    auto step =
        pre_tokenizer_from_json(list[i], jf::index_path(jf::field_path(where, "pretokenizers"), i));
    if (step) steps.push_back(std::move(step));
  }
  return std::make_unique<SequencePreTokenizer>(std::move(steps));
}

}  // namespace

std::unique_ptr<const PreTokenizer> pre_tokenizer_from_json(const json& j,
                                                            const std::string& where) {
  if (j.is_null()) return nullptr;
  const std::string type = jf::type_of(j, where);
  if (type == "Sequence") return sequence_from_json(j, where);
  if (type == "ByteLevel") {
    // trim_offsets only changes reported offsets, which encode does not return.
    return std::make_unique<ByteLevelPreTokenizer>(
        jf::optional_bool(j, "add_prefix_space", true, where),
        jf::optional_bool(j, "use_regex", true, where));
  }
  if (type == "Split") return split_from_json(j, where);
  if (type == "Metaspace") return metaspace_from_json(j, where);
  if (type == "Digits") {
    return std::make_unique<DigitsPreTokenizer>(
        jf::optional_bool(j, "individual_digits", false, where));
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>(true);
  if (type == "WhitespaceSplit") return std::make_unique<WhitespacePreTokenizer>(false);
  fail(where, ": unknown pre_tokenizer type '", type, "'");
}

}  // namespace lorax
