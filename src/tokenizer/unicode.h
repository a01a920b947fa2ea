// UTF-8 coding and the few Unicode properties the tokenizer needs.
//
// The reference is Hugging Face `tokenizers` (Rust): its `char` predicates (`is_whitespace`,
// `is_numeric`), `String::from_utf8_lossy` and the `unicode-normalization` crate. Properties and
// normalization forms come from utf8proc, so they follow utf8proc's Unicode version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lorax::unicode {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Byte length of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
size_t sequence_length(unsigned char lead);

// Decodes the code point starting at `text[pos]`; `text` must be valid UTF-8.
char32_t decode_at(std::string_view text, size_t pos);

void append_utf8(std::string& out, char32_t cp);
std::string to_utf8(char32_t cp);

// Offset of the first byte that is not part of a well-formed UTF-8 sequence, or npos when the
// whole text is valid (no overlongs, surrogates or code points above U+10FFFF).
size_t find_invalid_utf8(std::string_view text);

// Rust's String::from_utf8_lossy: each maximal ill-formed subsequence becomes one U+FFFD.
std::string from_utf8_lossy(std::string_view bytes);

bool is_whitespace(char32_t cp);  // Unicode White_Space, as Rust's char::is_whitespace
bool is_numeric(char32_t cp);     // general category Nd, Nl or No, as Rust's char::is_numeric
bool is_word_char(char32_t cp);   // a regex `\w` character: letters, marks, digits, connectors

// Rust's char::to_lowercase (full mapping: U+0130 becomes "i\u0307").
void append_lowercase(std::string& out, char32_t cp);

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };

// Normalizes valid UTF-8 text to the given form.
std::string normalize(std::string_view text, NormalForm form);

}  // namespace lorax::unicode
