// Decoders of tokenizer.json: turn token strings back into text.
//
// As in Hugging Face `tokenizers` (decoders/*.rs), a decoder maps a list of token strings to a
// list of strings (`decode_chain`), so a Sequence can feed one into the next; the text is their
// concatenation. Types: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace;
// anything else is a lorax::Error naming the type.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lorax {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
  // Whether "<0xNN>" tokens are joined into bytes (ByteFallback): such a run decodes as a whole,
  // and one bad byte turns every byte of the run into U+FFFD.
  virtual bool joins_byte_tokens() const { return false; }
};

std::unique_ptr<const Decoder> decoder_from_json(const nlohmann::json& j, const std::string& where);

// The byte of a "<0xNN>" token as ByteFallback reads it, or -1.
int byte_token_value(std::string_view token);

// The decoded text of `tokens`: the decoder's strings joined, or without a decoder the tokens
// joined by single spaces (HF's fallback).
std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens);

}  // namespace lorax
