// Encoding arbitrary bytes and decoding arbitrary ids with the real tokenizers of the fixtures
// (read in place): Llama 2, Llama 3, Gemma, Mistral and stories260K. The first byte picks the
// tokenizer. Beyond "no crash" it checks two properties that must always hold:
//  - streaming detokenization concatenates to the one-shot decode of the same ids;
//  - Llama 3 (byte-level BPE, no normalizer) decodes its own encoding back to the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz_input.h"
#include "tokenizer/tokenizer.h"

namespace {

constexpr const char* kTokenizers[] = {"tokenizers/llama2", "tokenizers/llama3", "tokenizers/gemma",
                                       "tokenizers/mistral", "models/stories260K"};
constexpr size_t kLlama3 = 1;

const std::vector<lorax::Tokenizer>& tokenizers() {
  static const std::vector<lorax::Tokenizer> loaded = [] {
    std::vector<lorax::Tokenizer> out;
    for (const char* dir : kTokenizers)
      out.push_back(lorax::Tokenizer::from_file(std::string(LORAX_FIXTURES_DIR) + "/" + dir +
                                                "/tokenizer.json"));
    return out;
  }();
  return loaded;
}

[[noreturn]] void property_failed(const char* what, std::string_view text) {
  std::fprintf(stderr, "property failed: %s (input %zu bytes)\n", what, text.size());
  std::abort();
}

std::string streamed(const lorax::Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                     bool skip_special) {
  lorax::StreamingDetokenizer stream(tokenizer, skip_special);
  std::string out;
  for (int32_t id : ids) out += stream.push(id);
  return out + stream.flush();
}

}  // namespace

// Loading Gemma's 256k vocabulary under ASan takes seconds: done before the first input, so
// the per-input timeout measures inputs only.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [mode, text] = lorax::fuzz::select_mode(data, size, uint8_t(tokenizers().size()));
  const lorax::Tokenizer& tokenizer = tokenizers()[mode];
  std::vector<int32_t> ids;
  try {
    ids = tokenizer.encode(text, /*add_special_tokens=*/true);
  } catch (const lorax::Error&) {
    return 0;  // not UTF-8: refused, as it must be
  }
  for (bool skip : {false, true})
    if (streamed(tokenizer, ids, skip) != tokenizer.decode(ids, skip))
      property_failed("streamed text != decode", text);
  if (mode == kLlama3 && tokenizer.decode(tokenizer.encode(text, false), false) != text)
    property_failed("llama3 decode(encode(text)) != text", text);
  // The bytes as ids too: any id, known or not, must decode without harm.
  std::vector<int32_t> raw;
  for (size_t i = 0; i + 4 <= text.size(); i += 4)
    raw.push_back(int32_t(uint32_t(uint8_t(text[i])) | uint32_t(uint8_t(text[i + 1])) << 8 |
                          uint32_t(uint8_t(text[i + 2])) << 16 |
                          uint32_t(uint8_t(text[i + 3])) << 24) %
                  int32_t(tokenizer.vocab_size() + 8));
  tokenizer.decode(raw, false);
  streamed(tokenizer, raw, true);
  return 0;
}
