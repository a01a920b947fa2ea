// tokenizer.json loading, then encoding and decoding with whatever loaded. Input: the
// tokenizer.json text, the separator line, then text to encode (its bytes also become ids to
// decode, in range and out of it).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_input.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = lorax::fuzz::split_parts(data, size, 2);
  std::optional<lorax::Tokenizer> tokenizer;
  try {
    tokenizer = lorax::Tokenizer::from_json_string(parts[0], "fuzz tokenizer.json");
  } catch (const lorax::Error&) {
    return 0;
  }
  const std::string_view text = parts.size() > 1 ? parts[1] : std::string_view("Hello world");
  try {
    for (bool special : {false, true}) {
      const std::vector<int32_t> ids = tokenizer->encode(text, special);
      tokenizer->decode(ids, !special);
    }
  } catch (const lorax::Error&) {  // invalid UTF-8 is refused by encode
  }
  std::vector<int32_t> ids;
  const int32_t vocab = int32_t(tokenizer->vocab_size());
  for (unsigned char c : text) ids.push_back(c < 200 ? int32_t(c) % std::max(vocab, 1) : vocab + c);
  tokenizer->decode(ids, false);
  tokenizer->decode(ids, true);
  lorax::StreamingDetokenizer stream(*tokenizer, false);
  for (int32_t id : ids) stream.push(id);
  stream.flush();
  return 0;
}
