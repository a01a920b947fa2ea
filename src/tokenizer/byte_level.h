// GPT-2's byte-level alphabet: every byte value gets a printable character, so any byte string
// can be spelled with vocabulary characters (0x20 ' ' becomes 'Ġ', 0x0A becomes 'Ċ', ...).
#pragma once

#include <cstdint>
#include <string_view>

namespace lorax::byte_level {

// The UTF-8 spelling of byte `b`'s character.
std::string_view char_for_byte(uint8_t b);

// The byte whose character is `cp`, or -1 when `cp` is not in the alphabet.
int byte_for_char(char32_t cp);

}  // namespace lorax::byte_level
