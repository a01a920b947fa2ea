#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

// Ids of context decoded before the first new id when a prompt is given (TGI and vLLM use 5):
// enough for a decoder to see that the new text does not start the sequence.
constexpr size_t kPromptContext = 5;

bool ends_with_replacement_char(const std::string& text) {
  return text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

// The part of `full` after `prefix`. The window's decode normally extends the prefix's; when it
// does not (a run of invalid bytes turned to U+FFFD differently), the shared part is skipped.
std::string text_after(const std::string& full, const std::string& prefix) {
  size_t common = 0;
  while (common < prefix.size() && common < full.size() && full[common] == prefix[common]) {
    ++common;
  }
  return full.substr(common == prefix.size() ? prefix.size() : common);
}

}  // namespace

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens,
                                           std::vector<int32_t> prompt_ids)
    : tokenizer_(tokenizer),
      skip_special_tokens_(skip_special_tokens),
      ids_(std::move(prompt_ids)) {
  read_offset_ = ids_.size();
  prefix_offset_ = ids_.size() > kPromptContext ? ids_.size() - kPromptContext : 0;
  // Start the context at the beginning of a run of byte tokens, which decodes only as a whole.
  while (prefix_offset_ > 0 && tokenizer_.is_fallback_byte(ids_[prefix_offset_ - 1]) &&
         tokenizer_.is_fallback_byte(ids_[prefix_offset_])) {
    --prefix_offset_;
  }
}

std::string StreamingDetokenizer::decode_range(size_t begin, size_t end) const {
  const std::vector<int32_t> window(ids_.begin() + static_cast<std::ptrdiff_t>(begin),
                                    ids_.begin() + static_cast<std::ptrdiff_t>(end));
  return tokenizer_.decode(window, skip_special_tokens_);
}

std::string StreamingDetokenizer::push(int32_t id) {
  ids_.push_back(id);
  // A later byte of the same run can still turn this one's text into U+FFFD: wait for its end.
  // Tokens that decode skips do not end a run.
  if (!skip_special_tokens_ || !tokenizer_.is_special(id)) {
    in_byte_run_ = tokenizer_.is_fallback_byte(id);
  }
  if (in_byte_run_) return {};
  const std::string prefix = decode_range(prefix_offset_, read_offset_);
  const std::string full = decode_range(prefix_offset_, ids_.size());
  // Wait while the newest bytes do not yet form a whole character.
  if (full.size() <= prefix.size() || ends_with_replacement_char(full)) return {};
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  return text_after(full, prefix);
}

std::string StreamingDetokenizer::flush() {
  if (read_offset_ == ids_.size()) return {};
  const std::string prefix = decode_range(prefix_offset_, read_offset_);
  const std::string full = decode_range(prefix_offset_, ids_.size());
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  if (full.size() <= prefix.size()) return {};
  return text_after(full, prefix);
}

}  // namespace lorax
