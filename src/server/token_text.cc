#include "server/token_text.h"

#include "core/error.h"

namespace lorax {

std::string TokenTexts::after(int32_t previous, int32_t id) const {
  if (!tokenizer_) return {};
  const std::string before = tokenizer_->decode({previous}, false);
  const std::string both = tokenizer_->decode({previous, id}, false);
  if (both.size() >= before.size() && both.compare(0, before.size(), before) == 0)
    return both.substr(before.size());
  return tokenizer_->decode({id}, false);
}

std::vector<std::string> TokenTexts::pieces(const std::vector<int32_t>& ids) const {
  std::vector<std::string> out(ids.size());
  if (!tokenizer_ || ids.empty()) return out;
  StreamingDetokenizer detok(*tokenizer_, /*skip_special_tokens=*/true);
  for (size_t i = 0; i < ids.size(); ++i) out[i] = detok.push(ids[i]);
  out.back() += detok.flush();
  return out;
}

std::string TokenTexts::raw(int32_t id) const {
  if (!tokenizer_) return {};
  try {
    return tokenizer_->id_to_token(id);
  } catch (const Error&) {
    return {};
  }
}

}  // namespace lorax
