// Normalizers of tokenizer.json: rewrite a piece of text before it is split and tokenized.
//
// Types: Sequence, Prepend, Replace (String or Regex pattern), NFC, NFD, NFKC, NFKD, Lowercase,
// Strip, StripAccents. Each follows Hugging Face `tokenizers` (normalizers/*.rs); anything else
// is a lorax::Error naming the type.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/normalized_text.h"

namespace lorax {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual NormalizedText normalize(NormalizedText text) const = 0;
};

// Builds the normalizer described by `j`; `where` names it in errors ("normalizer", ...).
std::unique_ptr<const Normalizer> normalizer_from_json(const nlohmann::json& j,
                                                       const std::string& where);

}  // namespace lorax
