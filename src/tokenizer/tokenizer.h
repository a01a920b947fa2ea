// Hugging Face tokenizer.json: encode text to ids and decode ids to text, exactly as the
// `tokenizers` library does, plus streaming detokenization and the model directory's tokenizer
// and generation configs (tokenizer_config.h).
//
// Encoding runs the file's pipeline: split the raw text on added tokens (added_tokens.h),
// normalize the pieces between them (normalizers.h), split those on normalized added tokens,
// pre-tokenize into words (pre_tokenizers.h), BPE each word (bpe_model.h), then add the special
// tokens of the post-processor (post_processors.h) when asked. Decoding maps ids to token strings
// and runs the decoders (decoders.h).
//
// Not read, because a server encoding one prompt at a time has no use for them: "truncation" and
// "padding" (HF would apply them to every encode), pair templates, offsets, BPE dropout. Models
// other than BPE (WordPiece, Unigram, WordLevel) are refused with a lorax::Error naming them.
//
// A Tokenizer is immutable once loaded: copies share the loaded tables, and encode/decode may be
// called from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/tokenizer_config.h"

namespace lorax {

class Tokenizer {
 public:
  // Loads tokenizer.json; any problem (unreadable file, malformed JSON, missing field, unknown
  // component type) throws lorax::Error naming the file and the component or field.
  static Tokenizer from_file(const std::string& tokenizer_json_path);
  // The same from the file's text; `source` names it in errors.
  static Tokenizer from_json_string(std::string_view json_text,
                                    const std::string& source = "tokenizer.json");

  // Throws lorax::Error when `text` is not valid UTF-8.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;
  // Ids outside the vocabulary are skipped, as HF does.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;

  // The raw vocabulary string of `id` (e.g. "Ġworld", "▁the", "<0x0A>"); throws lorax::Error for
  // an id that has no token.
  std::string id_to_token(int32_t id) const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // One past the largest id of the model's vocabulary and the added tokens.
  size_t vocab_size() const;
  // Whether decode with skip_special_tokens drops `id`: its token is an added token marked
  // special.
  bool is_special(int32_t id) const;
  const std::vector<AddedToken>& added_tokens() const;
  // Whether `id` is a "<0xNN>" token that the decoder joins with its neighbours into UTF-8
  // (ByteFallback): its text is not settled until the run of such tokens ends.
  bool is_fallback_byte(int32_t id) const;

 private:
  struct Pipeline;
  explicit Tokenizer(std::shared_ptr<const Pipeline> pipeline);
  void encode_words(NormalizedText text, std::vector<int32_t>& ids) const;
  // The string decode uses for `id`: an added token's, else the model's.
  std::optional<std::string_view> token_string(int32_t id) const;

  std::shared_ptr<const Pipeline> pipeline_;
};

// Turns generated ids into text as they arrive. Each push returns only text that can no longer
// change: it decodes a short window of recent ids with and without the new ones and emits the
// difference once it does not end in an unfinished UTF-8 character (U+FFFD), the method of vLLM
// and TGI. Everything pushed, then flush(), concatenates to decode(all ids) (after the prompt).
//
// Keeps a copy of `tokenizer` (cheap: copies share the loaded tables), so it may outlive the
// original. One per sequence; not thread-safe.
class StreamingDetokenizer {
 public:
  // `prompt_ids` give context (a leading space after the prompt is kept); their text is not
  // emitted.
  StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens,
                       std::vector<int32_t> prompt_ids = {});

  // Adds one id; returns the newly completed text (often empty).
  std::string push(int32_t id);
  // Returns whatever is still held back (an unfinished character comes out as U+FFFD).
  std::string flush();

 private:
  std::string decode_range(size_t begin, size_t end) const;

  Tokenizer tokenizer_;
  bool skip_special_tokens_;
  std::vector<int32_t> ids_;
  size_t prefix_offset_ = 0;  // start of the window decoded for context
  size_t read_offset_ = 0;    // ids before this have had their text emitted
  bool in_byte_run_ =
      false;  // the last id decode shows is a fallback byte (Tokenizer::is_fallback_byte)
};

// Encode throughput of `text` in MB/s (10^6 bytes), the best of `repeats` runs; for benchmarks.
double measure_encode_mb_per_s(const Tokenizer& tokenizer, const std::string& text, int repeats);

}  // namespace lorax
