// The vocabulary as a trie of token byte strings, flattened in pre-order so a mask is one linear
// pass: at each node take one automaton step from the parent's state, and when the step dies
// jump over the node's whole subtree (every token with that prefix is disallowed at once).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lorax::structured {

// The bytes `id` stands for in generated text: byte-level alphabets mapped back to bytes,
// SentencePiece's "▁" to a space and "<0xNN>" to its byte, added tokens as their content.
// Special tokens (EOS, chat markers) have no bytes: the empty string.
std::string token_bytes(const Tokenizer& tokenizer, int32_t id);

class TokenTrie {
 public:
  struct Node {
    uint8_t byte = 0;           // the byte on the edge into this node
    uint16_t depth = 0;         // bytes from the root (root: 0)
    uint32_t subtree_end = 0;   // index one past this node's subtree
    uint32_t tokens_begin = 0;  // [tokens_begin, tokens_end) in token_ids(): tokens ending here
    uint32_t tokens_end = 0;
  };

  // `bytes[id]` is token id's byte string; empty ones are never allowed by a mask.
  static std::shared_ptr<const TokenTrie> from_token_bytes(std::vector<std::string> bytes);
  // Decodes every id of the tokenizer's vocabulary with token_bytes().
  static std::shared_ptr<const TokenTrie> from_tokenizer(const Tokenizer& tokenizer);

  size_t vocab_size() const { return bytes_.size(); }
  // uint32 words of a mask over the vocabulary.
  size_t mask_words() const { return (bytes_.size() + 31) / 32; }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }
  const std::vector<Node>& nodes() const { return nodes_; }  // [0] is the root
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  size_t max_depth() const { return max_depth_; }

 private:
  std::vector<std::string> bytes_;
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  size_t max_depth_ = 0;
};

}  // namespace lorax::structured
