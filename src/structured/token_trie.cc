#include "structured/token_trie.h"

#include <algorithm>
#include <numeric>
#include <string_view>

#include "core/error.h"
#include "tokenizer/byte_level.h"

namespace lorax::structured {
namespace {

constexpr std::string_view kSentencePieceSpace = "\xE2\x96\x81";  // U+2581 "▁"

bool decode_code_point(std::string_view s, size_t& i, char32_t& cp) {
  auto c = static_cast<uint8_t>(s[i]);
  int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (i + static_cast<size_t>(n) > s.size()) return false;
  cp = n == 1 ? c : c & (0x7F >> n);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  i += static_cast<size_t>(n);
  return true;
}

// GPT-2 byte-level spelling back to bytes; nullopt when a character is outside the alphabet.
std::optional<std::string> from_byte_level(std::string_view token) {
  std::string out;
  for (size_t i = 0; i < token.size();) {
    char32_t cp = 0;
    if (!decode_code_point(token, i, cp)) return std::nullopt;
    int b = byte_level::byte_for_char(cp);
    if (b < 0) return std::nullopt;
    out.push_back(static_cast<char>(b));
  }
  return out;
}

std::string from_sentencepiece(std::string_view token) {
  if (token.size() == 6 && token.substr(0, 3) == "<0x" && token[5] == '>') {
    return std::string(1,
                       static_cast<char>(std::stoi(std::string(token.substr(3, 2)), nullptr, 16)));
  }
  std::string out;
  for (size_t i = 0; i < token.size();) {
    if (token.substr(i, 3) == kSentencePieceSpace) {
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(token[i++]);
    }
  }
  return out;
}

// A vocabulary is SentencePiece-style when it spells spaces with "▁" (never part of the
// byte-level alphabet); the tokenizer's decoder makes the same distinction.
bool uses_sentencepiece(const Tokenizer& tokenizer) {
  return tokenizer.token_to_id(kSentencePieceSpace).has_value() ||
         tokenizer.token_to_id(std::string(kSentencePieceSpace) + "the").has_value();
}

std::string token_bytes_in(const Tokenizer& tokenizer, int32_t id, bool sentencepiece) {
  if (tokenizer.is_special(id)) return {};
  for (const AddedToken& t : tokenizer.added_tokens()) {
    if (t.id == id) return t.content;
  }
  std::string token = tokenizer.id_to_token(id);
  if (sentencepiece) return from_sentencepiece(token);
  std::optional<std::string> bytes = from_byte_level(token);
  return bytes ? *bytes : token;
}

}  // namespace

std::string token_bytes(const Tokenizer& tokenizer, int32_t id) {
  return token_bytes_in(tokenizer, id, uses_sentencepiece(tokenizer));
}

std::shared_ptr<const TokenTrie> TokenTrie::from_tokenizer(const Tokenizer& tokenizer) {
  bool sp = uses_sentencepiece(tokenizer);
  std::vector<std::string> bytes(tokenizer.vocab_size());
  for (size_t id = 0; id < bytes.size(); ++id) {
    try {
      bytes[id] = token_bytes_in(tokenizer, static_cast<int32_t>(id), sp);
    } catch (const Error&) {
      // an id with no token (a hole in the vocabulary) is never allowed
    }
  }
  return from_token_bytes(std::move(bytes));
}

std::shared_ptr<const TokenTrie> TokenTrie::from_token_bytes(std::vector<std::string> bytes) {
  auto trie = std::make_shared<TokenTrie>();
  trie->bytes_ = std::move(bytes);
  const auto& b = trie->bytes_;
  std::vector<int32_t> order(b.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t x, int32_t y) { return b[x] != b[y] ? b[x] < b[y] : x < y; });
  auto& nodes = trie->nodes_;
  nodes.push_back({});
  std::vector<uint32_t> path{0};  // path[d]: node at depth d on the current branch
  std::string_view prev;
  for (int32_t id : order) {
    std::string_view s = b[id];
    if (s.empty()) continue;
    LORAX_CHECK(s.size() < 65535, "token ", id, " is longer than 65534 bytes");
    size_t lcp = 0;
    while (lcp < prev.size() && lcp < s.size() && prev[lcp] == s[lcp]) ++lcp;
    while (path.size() - 1 > lcp) {
      nodes[path.back()].subtree_end = static_cast<uint32_t>(nodes.size());
      path.pop_back();
    }
    for (size_t d = lcp; d < s.size(); ++d) {
      Node n;
      n.byte = static_cast<uint8_t>(s[d]);
      n.depth = static_cast<uint16_t>(d + 1);
      path.push_back(static_cast<uint32_t>(nodes.size()));
      nodes.push_back(n);
    }
    Node& end = nodes[path.back()];
    if (end.tokens_end == 0) end.tokens_begin = static_cast<uint32_t>(trie->token_ids_.size());
    trie->token_ids_.push_back(id);
    end.tokens_end = static_cast<uint32_t>(trie->token_ids_.size());
    trie->max_depth_ = std::max(trie->max_depth_, s.size());
    prev = s;
  }
  for (uint32_t n : path) nodes[n].subtree_end = static_cast<uint32_t>(nodes.size());
  return trie;
}

}  // namespace lorax::structured
