// The BPE model of tokenizer.json: a vocabulary and ranked merges, as Hugging Face
// `tokenizers` (models/bpe/model.rs, word.rs) applies them.
//
// One model serves both families: byte-level files (GPT-2, Llama 3: the pre-tokenizer has
// already spelled the bytes, `ignore_merges` looks a whole word up first) and SentencePiece-style
// files (Llama 2, Gemma: '▁' for spaces, `byte_fallback` to <0xNN> tokens, `unk_token` with
// `fuse_unk`). `dropout` is a training-time option and is ignored.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/bpe_tables.h"
#include "tokenizer/tokenizer_json_reader.h"

namespace lorax {

class BpeModel {
 public:
  // `model` is the "model" object of tokenizer.json (its vocab and merges streamed separately).
  // Errors name `where` and the offending entry.
  static std::unique_ptr<const BpeModel> from_json(const nlohmann::json& model, VocabEntries vocab,
                                                   MergeEntries merges, const std::string& where);

  // Only from_json makes models (the key type is private); public for std::make_unique.
  struct ConstructionKey;
  explicit BpeModel(const ConstructionKey&) {}
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-tokenized word.
  void tokenize(std::string_view word, std::vector<int32_t>& ids) const;

  std::optional<int32_t> token_to_id(std::string_view token) const { return index_.find(token); }
  std::optional<std::string_view> id_to_token(int32_t id) const;
  // One past the largest id.
  size_t id_space() const { return by_id_.size(); }

 private:
  struct Symbol;
  void load_vocab(VocabEntries vocab);
  void load_merges(const MergeEntries& merges, const std::string& where);
  // The word split into characters, each a vocab token, byte-fallback tokens or unk.
  std::vector<Symbol> initial_symbols(std::string_view word) const;
  void merge_all(std::vector<Symbol>& symbols) const;
  int32_t unk_id() const;

  static constexpr uint32_t kNoToken = ~uint32_t{0};
  std::string storage_;            // every token's bytes; index_ holds views into it
  std::vector<StoredSpan> by_id_;  // [id_space] a token's bytes (length kNoToken: no such id)
  TokenIndex index_;
  MergeTable merges_;
  std::optional<std::string> unk_token_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::vector<int32_t> byte_tokens_;  // [256] id of "<0xNN>", or -1
};

}  // namespace lorax
