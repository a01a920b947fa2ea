// Decoders of tokenizer.json: turn token strings back into text.
//
// As in Hugging Face `tokenizers` (decoders/*.rs), a decoder maps a list of token strings to a
// list of strings (`decode_chain`), so a Sequence can feed one into the next; the text is their
// concatenation. Types: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace;
// anything else is a lorax::Error naming the type.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lorax {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
};

std::unique_ptr<const Decoder> decoder_from_json(const nlohmann::json& j, const std::string& where);

// The decoded text of `tokens`: the decoder's strings joined, or without a decoder the tokens
// joined by single spaces (HF's fallback).
std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens);

}  // namespace lorax
