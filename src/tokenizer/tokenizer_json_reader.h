// Reads tokenizer.json.
//
// A DOM for a 256k-token vocabulary and 580k merges costs more than half a second with
// nlohmann::json, so `model.vocab` (when it is an object of token -> id) and `model.merges` go
// straight into flat arrays; everything else, small, becomes an ordinary DOM. A quick path reads
// the usual file shape; the general path streams any file through nlohmann's SAX parser and
// words the errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorax {

// Byte range of a string in some owned storage.
struct StoredSpan {
  uint32_t offset = 0;
  uint32_t length = 0;
};

// `model.vocab` entries in file order.
struct VocabEntries {
  std::string storage;             // every token's bytes, back to back
  std::vector<StoredSpan> tokens;  // [n] each token's bytes in storage
  std::vector<int32_t> ids;        // [n] each token's id
};

// `model.merges` in file order (rank = index), from "a b" strings or ["a", "b"] pairs.
struct MergeEntries {
  std::string storage;
  std::vector<StoredSpan> left;   // [n]
  std::vector<StoredSpan> right;  // [n]
};

struct TokenizerJson {
  nlohmann::json doc;  // the file without model.vocab / model.merges when those were streamed
  std::optional<VocabEntries> vocab;
  std::optional<MergeEntries> merges;
};

// The quick path (tokenizer_json_fast_path.cc): nullopt when the file is not of the usual shape
// or not valid, leaving it to the general reader.
std::optional<TokenizerJson> read_tokenizer_json_fast(std::string_view text);

// Parses `text`; malformed JSON or a malformed vocab/merge entry throws lorax::Error whose
// message starts with `source` (the file name).
TokenizerJson read_tokenizer_json(std::string_view text, const std::string& source);

}  // namespace lorax
