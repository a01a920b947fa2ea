// The text of single tokens, for token events and logprob listings. Without a tokenizer (a
// checkpoint with none) every text is empty and clients see token ids only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lorax {

class TokenTexts {
 public:
  explicit TokenTexts(const Tokenizer* tokenizer) : tokenizer_(tokenizer) {}

  // The text `id` adds after `previous`: decoding the pair minus decoding `previous`, so a
  // SentencePiece "▁the" keeps its leading space, which decoding it alone would strip.
  std::string after(int32_t previous, int32_t id) const;
  // Each prompt token's text; the pieces concatenate to decode(ids, skip special tokens).
  std::vector<std::string> pieces(const std::vector<int32_t>& ids) const;
  bool special(int32_t id) const { return tokenizer_ && tokenizer_->is_special(id); }
  // The vocabulary string ("</s>", "▁the"); empty for an id the tokenizer lacks.
  std::string raw(int32_t id) const;
  const Tokenizer* tokenizer() const { return tokenizer_; }

 private:
  const Tokenizer* tokenizer_;
};

}  // namespace lorax
