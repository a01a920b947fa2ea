// Added tokens of tokenizer.json ("added_tokens"): strings that are matched in the text before
// anything else and become one id each (special tokens such as <s>, <|eot_id|>, and others).
//
// As Hugging Face `tokenizers` (added_vocabulary.rs): tokens with normalized=false are matched
// in the raw text, those with normalized=true in the normalized text (their own content
// normalized the same way); the leftmost match wins, the longest among those starting there;
// `single_word` rejects a match glued to word characters, `lstrip`/`rstrip` swallow the
// whitespace beside it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/normalized_text.h"

namespace lorax {

class BpeModel;
class Normalizer;

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

// A stretch of text after splitting on added tokens: either one added token or text to encode.
struct TextSegment {
  std::optional<int32_t> token;  // set: this stretch is the added token with this id
  NormalizedText text;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // `list` is tokenizer.json's "added_tokens"; a token whose content is in the model's vocabulary
  // takes the model's id (as HF). `normalizer` may be null.
  static AddedVocabulary from_json(const nlohmann::json& list, const BpeModel& model,
                                   const Normalizer* normalizer, const std::string& where);

  // Splits `text` at the tokens matched on raw (normalized=false) or normalized text.
  std::vector<TextSegment> split(NormalizedText text, bool normalized_tokens) const;

  std::optional<int32_t> token_to_id(std::string_view content) const;
  // The string decode uses for an added token: its content, or for a normalized token its
  // content normalized (HF decodes the form it matched).
  const std::string* id_to_token(int32_t id) const;
  // Whether a token string is the content of a special token. HF decides what decode skips by
  // the string it is about to decode, not by id.
  bool is_special_content(std::string_view token) const {
    return special_contents_.count(std::string(token)) != 0;
  }
  int32_t max_id() const { return max_id_; }
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie over the token strings of one matching set.
  class Trie {
   public:
    void insert(std::string_view pattern, uint32_t token_index);
    // The longest pattern starting at `pos`: (token index, end) or nullopt.
    std::optional<std::pair<uint32_t, size_t>> longest_at(std::string_view text, size_t pos) const;
    bool empty() const { return nodes_.size() <= 1; }

   private:
    struct Node {
      std::vector<std::pair<unsigned char, uint32_t>> children;
      int64_t token_index = -1;
    };
    std::vector<Node> nodes_ = std::vector<Node>(1);
  };

  struct Match {
    uint32_t token_index;
    size_t begin;
    size_t end;
  };
  std::vector<Match> find_matches(std::string_view text, const Trie& trie) const;

  std::vector<AddedToken> tokens_;
  std::vector<std::string> decode_forms_;  // [tokens_.size()]
  std::unordered_map<std::string, int32_t> by_content_;
  std::unordered_map<int32_t, size_t> by_id_;  // id -> index in tokens_
  std::unordered_set<std::string> special_contents_;
  Trie raw_trie_;
  Trie normalized_trie_;
  int32_t max_id_ = -1;
};

}  // namespace lorax
