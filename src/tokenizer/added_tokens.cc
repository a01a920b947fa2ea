#include "tokenizer/added_tokens.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/error.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/unicode.h"

namespace lorax {
namespace {

using nlohmann::json;
namespace jf = json_fields;

AddedToken token_from_json(const json& j, const std::string& where) {
  AddedToken t;
  t.content = jf::require_string(j, "content", where);
  const int64_t id = jf::require_int(j, "id", where);
  LORAX_CHECK(id >= 0 && id <= INT32_MAX, where, ": id ", id, " outside [0, 2^31)");
  t.id = static_cast<int32_t>(id);
  t.special = jf::optional_bool(j, "special", false, where);
  t.lstrip = jf::optional_bool(j, "lstrip", false, where);
  t.rstrip = jf::optional_bool(j, "rstrip", false, where);
  t.single_word = jf::optional_bool(j, "single_word", false, where);
  // HF's default: special tokens are matched on raw text, others on normalized text.
  t.normalized = jf::optional_bool(j, "normalized", !t.special, where);
  return t;
}

bool ends_with_word_char(std::string_view text) {
  if (text.empty()) return false;
  size_t start = text.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return unicode::is_word_char(unicode::decode_at(text, start));
}

bool starts_with_word_char(std::string_view text) {
  return !text.empty() && unicode::is_word_char(unicode::decode_at(text, 0));
}

// Where the run of whitespace that ends `text` begins.
size_t trailing_space_start(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    if (!unicode::is_whitespace(unicode::decode_at(text, start))) break;
    end = start;
  }
  return end;
}

// Length of the run of whitespace that starts `text`.
size_t leading_space_length(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size() && unicode::is_whitespace(unicode::decode_at(text, pos))) {
    pos += unicode::sequence_length(static_cast<unsigned char>(text[pos]));
  }
  return pos;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view pattern, uint32_t token_index) {
  uint32_t node = 0;
  for (char c : pattern) {
    const auto byte = static_cast<unsigned char>(c);
    auto& children = nodes_[node].children;
    const auto it = std::find_if(children.begin(), children.end(),
                                 [byte](const auto& child) { return child.first == byte; });
    if (it != children.end()) {
      node = it->second;
      continue;
    }
    const auto next = static_cast<uint32_t>(nodes_.size());
    children.emplace_back(byte, next);
    nodes_.emplace_back();  // invalidates `children`; not used after this
    node = next;
  }
  // The first token with this string keeps it.
  if (nodes_[node].token_index < 0) nodes_[node].token_index = token_index;
}

std::optional<std::pair<uint32_t, size_t>> AddedVocabulary::Trie::longest_at(std::string_view text,
                                                                             size_t pos) const {
  std::optional<std::pair<uint32_t, size_t>> best;
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const auto& children = nodes_[node].children;
    const auto it = std::find_if(children.begin(), children.end(),
                                 [byte](const auto& child) { return child.first == byte; });
    if (it == children.end()) break;
    node = it->second;
    if (nodes_[node].token_index >= 0) {
      best = std::make_pair(static_cast<uint32_t>(nodes_[node].token_index), i + 1);
    }
  }
  return best;
}

AddedVocabulary AddedVocabulary::from_json(const json& list, const BpeModel& model,
                                           const Normalizer* normalizer, const std::string& where) {
  AddedVocabulary vocab;
  if (list.is_null()) return vocab;
  LORAX_CHECK(list.is_array(), where, ": must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    AddedToken token = token_from_json(list[i], jf::index_path(where, i));
    if (token.content.empty() || vocab.by_content_.count(token.content) != 0) continue;
    // A token the model already knows keeps the model's id, as HF assigns it.
    token.id = model.token_to_id(token.content).value_or(token.id);
    const auto index = static_cast<uint32_t>(vocab.tokens_.size());
    vocab.by_content_.emplace(token.content, token.id);
    vocab.by_id_.emplace(token.id, index);
    if (token.special) vocab.special_contents_.insert(token.content);
    vocab.max_id_ = std::max(vocab.max_id_, token.id);
    std::string form = token.content;
    if (token.normalized && normalizer != nullptr) {
      form = normalizer->normalize(NormalizedText::from_input(token.content, 0, false)).text;
    }
    if (!token.normalized) {
      vocab.raw_trie_.insert(token.content, index);
    } else if (!form.empty()) {
      vocab.normalized_trie_.insert(form, index);
    }
    vocab.decode_forms_.push_back(std::move(form));
    vocab.tokens_.push_back(std::move(token));
  }
  return vocab;
}

std::vector<AddedVocabulary::Match> AddedVocabulary::find_matches(std::string_view text,
                                                                  const Trie& trie) const {
  std::vector<Match> matches;
  size_t taken_until = 0;  // end of the previous accepted match, stripped whitespace included
  size_t pos = 0;
  while (pos < text.size()) {
    const auto found = trie.longest_at(text, pos);
    if (!found) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[found->first];
    size_t begin = pos;
    size_t end = found->second;
    pos = end;  // matching resumes after this match whether or not it is kept
    if (token.single_word &&
        (ends_with_word_char(text.substr(0, begin)) || starts_with_word_char(text.substr(end)))) {
      continue;
    }
    if (token.lstrip) begin = std::max(trailing_space_start(text.substr(0, begin)), taken_until);
    if (token.rstrip) end += leading_space_length(text.substr(end));
    begin = std::max(begin, taken_until);
    matches.push_back({found->first, begin, end});
    taken_until = end;
  }
  return matches;
}

std::vector<TextSegment> AddedVocabulary::split(NormalizedText text, bool normalized_tokens) const {
  const Trie& trie = normalized_tokens ? normalized_trie_ : raw_trie_;
  const std::vector<Match> matches =
      trie.empty() ? std::vector<Match>() : find_matches(text.text, trie);
  std::vector<TextSegment> segments;
  if (matches.empty()) {
    // The whole text, moved rather than copied; as a slice of itself it starts where its first
    // byte came from.
    if (text.text.empty()) return segments;
    if (text.tracked) text.shift = text.origin[0];
    segments.push_back({std::nullopt, std::move(text)});
    return segments;
  }
  const auto add_text = [&](size_t begin, size_t end) {
    if (begin < end) segments.push_back({std::nullopt, text.slice(begin, end)});
  };
  size_t done = 0;
  for (const Match& m : matches) {
    add_text(done, m.begin);
    segments.push_back({tokens_[m.token_index].id, NormalizedText{}});
    done = m.end;
  }
  add_text(done, text.text.size());
  return segments;
}

std::optional<int32_t> AddedVocabulary::token_to_id(std::string_view content) const {
  const auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const std::string* AddedVocabulary::id_to_token(int32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &decode_forms_[it->second];
}

}  // namespace lorax
