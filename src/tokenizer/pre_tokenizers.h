// Pre-tokenizers of tokenizer.json: split normalized text into the words the model encodes one
// by one, and rewrite them (ByteLevel's alphabet, Metaspace's '▁').
//
// Types: Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit. Each follows
// Hugging Face `tokenizers` (pre_tokenizers/*.rs); anything else is a lorax::Error naming it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/normalized_text.h"

namespace lorax {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits and rewrites each piece; empty pieces are dropped.
  virtual std::vector<NormalizedText> pre_tokenize(std::vector<NormalizedText> pieces) const = 0;
  // Whether this pre-tokenizer reads where pieces start in the input (NormalizedText::origin).
  virtual bool needs_origin() const { return false; }
};

std::unique_ptr<const PreTokenizer> pre_tokenizer_from_json(const nlohmann::json& j,
                                                            const std::string& where);

}  // namespace lorax
