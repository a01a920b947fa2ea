#include "tokenizer/normalizers.h"

#include <utf8proc.h>

#include <nlohmann/json.hpp>

#include <vector>

#include "core/error.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/unicode.h"

namespace lorax {
namespace {

using nlohmann::json;
namespace jf = json_fields;

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<const Normalizer>> steps)
      : steps_(std::move(steps)) {}
  NormalizedText normalize(NormalizedText text) const override {
    for (const auto& step : steps_) text = step->normalize(std::move(text));
    return text;
  }

 private:
  std::vector<std::unique_ptr<const Normalizer>> steps_;
};

class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  NormalizedText normalize(NormalizedText text) const override {
    if (text.text.empty()) return text;  // HF prepends only to non-empty text
    NormalizedTextBuilder out(text);
    out.append(prefix_, text.origin_at(0));
    out.copy(0, text.text.size());
    return std::move(out).finish();
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(TextPattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  NormalizedText normalize(NormalizedText text) const override {
    return replace_matches(text, pattern_.find_matches(text.text), content_);
  }

 private:
  TextPattern pattern_;
  std::string content_;
};

// NFC and friends. Normalizing each stretch that begins at an ASCII character gives the same
// text as normalizing the whole (an ASCII character never composes with what precedes it and
// never reorders), and lets each stretch keep its own origin.
class UnicodeFormNormalizer final : public Normalizer {
 public:
  explicit UnicodeFormNormalizer(unicode::NormalForm form) : form_(form) {}
  NormalizedText normalize(NormalizedText text) const override {
    const std::string& s = text.text;
    NormalizedTextBuilder out(text);
    size_t pos = 0;
    while (pos < s.size()) {
      size_t end = pos + 1;
      while (end < s.size() && static_cast<unsigned char>(s[end]) >= 0x80) ++end;
      if (end - pos == 1 && static_cast<unsigned char>(s[pos]) < 0x80) {
        out.copy(pos, end);  // a lone ASCII character is already normalized
      } else {
        out.append(unicode::normalize(std::string_view(s).substr(pos, end - pos), form_),
                   text.origin_at(pos));
      }
      pos = end;
    }
    return std::move(out).finish();
  }

 private:
  unicode::NormalForm form_;
};

// Applies a per-character rewrite; each new character keeps the origin of its source.
template <typename Rewrite>
NormalizedText map_chars(const NormalizedText& text, Rewrite rewrite) {
  NormalizedTextBuilder out(text);
  const std::string& s = text.text;
  std::string piece;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t len = unicode::sequence_length(static_cast<unsigned char>(s[pos]));
    piece.clear();
    rewrite(unicode::decode_at(s, pos), piece);
    out.append(piece, text.origin_at(pos));
    pos += len;
  }
  return std::move(out).finish();
}

class LowercaseNormalizer final : public Normalizer {
 public:
  NormalizedText normalize(NormalizedText text) const override {
    return map_chars(text,
                     [](char32_t cp, std::string& out) { unicode::append_lowercase(out, cp); });
  }
};

// Drops nonspacing marks (HF StripAccents; meant to follow NFD).
class StripAccentsNormalizer final : public Normalizer {
 public:
  NormalizedText normalize(NormalizedText text) const override {
    return map_chars(text, [](char32_t cp, std::string& out) {
      if (utf8proc_category(static_cast<utf8proc_int32_t>(cp)) != UTF8PROC_CATEGORY_MN) {
        unicode::append_utf8(out, cp);
      }
    });
  }
};

class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  NormalizedText normalize(NormalizedText text) const override {
    const std::string& s = text.text;
    size_t begin = 0;
    size_t end = s.size();
    if (left_) {
      while (begin < end && unicode::is_whitespace(unicode::decode_at(s, begin))) {
        begin += unicode::sequence_length(static_cast<unsigned char>(s[begin]));
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
        if (!unicode::is_whitespace(unicode::decode_at(s, start))) break;
        end = start;
      }
    }
    if (begin == 0 && end == s.size()) return text;
    // Stripping keeps the piece's own start, as HF's in-place transform does.
    NormalizedText out = text.slice(begin, end);
    out.shift = text.shift;
    return out;
  }

 private:
  bool left_;
  bool right_;
};

std::unique_ptr<const Normalizer> sequence_from_json(const json& j, const std::string& where) {
  const json& list = jf::require(j, "normalizers", where);
  LORAX_CHECK(list.is_array(), where, ": field 'normalizers' must be an array");
  std::vector<std::unique_ptr<const Normalizer>> steps;
  for (size_t i = 0; i < list.size(); ++i) {
    auto step =
        normalizer_from_json(list[i], jf::index_path(jf::field_path(where, "normalizers"), i));
    if (step) steps.push_back(std::move(step));
  }
  return std::make_unique<SequenceNormalizer>(std::move(steps));
}

}  // namespace

std::unique_ptr<const Normalizer> normalizer_from_json(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  const std::string type = jf::type_of(j, where);
  if (type == "Sequence") return sequence_from_json(j, where);
  if (type == "Prepend")
    return std::make_unique<PrependNormalizer>(jf::require_string(j, "prepend", where));
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(
        TextPattern::from_json(jf::require(j, "pattern", where), jf::field_path(where, "pattern")),
        jf::require_string(j, "content", where));
  }
  if (type == "NFC") return std::make_unique<UnicodeFormNormalizer>(unicode::NormalForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeFormNormalizer>(unicode::NormalForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeFormNormalizer>(unicode::NormalForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeFormNormalizer>(unicode::NormalForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(jf::optional_bool(j, "strip_left", true, where),
                                             jf::optional_bool(j, "strip_right", true, where));
  }
  fail(where, ": unknown normalizer type '", type, "'");
}

}  // namespace lorax
