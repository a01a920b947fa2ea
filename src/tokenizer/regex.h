// Regular expressions of tokenizer.json, run with PCRE2.
//
// Hugging Face `tokenizers` compiles its patterns with Oniguruma (Ruby syntax). PCRE2 with
// PCRE2_UTF | PCRE2_UCP reads the same patterns (look-ahead, \p{L}, (?i:...)); the few classes
// whose Unicode meaning differs are rewritten before compiling (see translate_pattern in
// regex.cc), and the iteration over matches follows Oniguruma's rule for empty matches.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lorax {

// A byte range [begin, end) in some text.
struct ByteSpan {
  size_t begin = 0;
  size_t end = 0;
};

class Regex {
 public:
  // Compiles `pattern`; a bad pattern throws lorax::Error naming `where` (e.g. the JSON field).
  Regex(std::string_view pattern, std::string_view where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // All non-overlapping matches in valid UTF-8 `text`, left to right. An empty match right where
  // the previous match ended is skipped (Oniguruma's and Rust regex's rule).
  std::vector<ByteSpan> find_all(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Compiled;
  std::string pattern_;
  std::unique_ptr<Compiled> compiled_;
};

// The pattern handed to PCRE2 for an Oniguruma pattern (exposed for tests).
std::string translate_pattern(std::string_view onig_pattern);

// Escapes every regex metacharacter of `literal` so it matches itself.
std::string escape_regex(std::string_view literal);

}  // namespace lorax
