#include "tokenizer/byte_level.h"

#include <array>
#include <string>

#include "tokenizer/unicode.h"

namespace lorax::byte_level {
namespace {

// Bytes that are printable stay themselves; the others take code points 256, 257, ... in byte
// order (GPT-2's bytes_to_unicode).
bool keeps_itself(int b) {
  return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
}

// 68 bytes do not keep themselves: 0..32, 127..160 and 173.
constexpr int kMovedBytes = 68;

struct Alphabet {
  std::array<std::string, 256> spelling;
  std::array<uint8_t, kMovedBytes> moved_byte;  // [cp - 256] -> byte
};

Alphabet make_alphabet() {
  Alphabet a;
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    char32_t cp = static_cast<char32_t>(b);
    if (!keeps_itself(b)) {
      cp = next++;
      a.moved_byte[cp - 256] = static_cast<uint8_t>(b);
    }
    a.spelling[b] = unicode::to_utf8(cp);
  }
  return a;
}

const Alphabet& alphabet() {
  static const Alphabet table = make_alphabet();
  return table;
}

}  // namespace

std::string_view char_for_byte(uint8_t b) {
  return alphabet().spelling[b];
}

int byte_for_char(char32_t cp) {
  if (cp < 256) return keeps_itself(static_cast<int>(cp)) ? static_cast<int>(cp) : -1;
  if (cp >= 256 + kMovedBytes) return -1;
  return alphabet().moved_byte[cp - 256];
}

}  // namespace lorax::byte_level
