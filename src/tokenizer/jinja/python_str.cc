#include "tokenizer/jinja/python_str.h"

#include <algorithm>

#include "core/error.h"

namespace lorax::jinja::pystr {
namespace {

// The code point starting at s[i] (an undecodable byte stands alone); `next` is where the
// following one starts.
char32_t code_point_at(std::string_view s, std::size_t i, std::size_t& next);
// The code point ending just before s[end]; `start` is where it begins.
char32_t code_point_before(std::string_view s, std::size_t end, std::size_t& start);

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Length of the UTF-8 sequence starting at s[i] and its code point, or 0 when invalid.
std::size_t decode_one(std::string_view s, std::size_t i, char32_t& out) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    out = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  out = cp;
  return n;
}

char32_t code_point_at(std::string_view s, std::size_t i, std::size_t& next) {
  char32_t cp = 0;
  const std::size_t n = decode_one(s, i, cp);
  next = i + (n == 0 ? 1 : n);
  return n == 0 ? 0xDC00 + static_cast<unsigned char>(s[i]) : cp;
}

char32_t code_point_before(std::string_view s, std::size_t end, std::size_t& start) {
  for (std::size_t n = 1; n <= 4 && n <= end; ++n) {
    const auto byte = static_cast<unsigned char>(s[end - n]);
    if ((byte & 0xC0) == 0x80) continue;  // a continuation byte: the sequence starts further back
    char32_t cp = 0;
    if (decode_one(s, end - n, cp) == n) {
      start = end - n;
      return cp;
    }
    break;
  }
  start = end - 1;
  return 0xDC00 + static_cast<unsigned char>(s[end - 1]);
}

std::u32string chars_to_set(const std::optional<std::string>& chars) {
  return chars ? decode(*chars) : std::u32string();
}

template <typename Map>
std::string map_chars(std::string_view s, Map map) {
  std::u32string cps = decode(s);
  for (char32_t& c : cps) c = map(c);
  return encode(cps);
}

bool is_line_break(char32_t c) {
  return c == U'\n' || c == U'\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
         c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
}

// Splits on runs of whitespace, scanning from the front; Python's split(None, maxsplit).
std::vector<std::u32string> split_whitespace(const std::u32string& s, std::int64_t maxsplit) {
  std::vector<std::u32string> parts;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    if (maxsplit >= 0 && static_cast<std::int64_t>(parts.size()) == maxsplit) {
      std::size_t end = s.size();
      while (end > i && is_space(s[end - 1])) --end;
      parts.push_back(s.substr(i, end - i));
      break;
    }
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    parts.push_back(s.substr(i, j - i));
    i = j;
  }
  return parts;
}

std::vector<std::string> encode_all(const std::vector<std::u32string>& parts) {
  std::vector<std::string> out;
  out.reserve(parts.size());
  for (const auto& p : parts) out.push_back(encode(p));
  return out;
}

}  // namespace

void append_code_point(std::string& out, char32_t c) {
  if (c >= 0xDC80 && c <= 0xDCFF) {
    out.push_back(static_cast<char>(c - 0xDC00));  // an undecodable byte, given back as is
  } else if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t n = decode_one(s, i, cp);
    if (n == 0) {
      out.push_back(0xDC00 + static_cast<unsigned char>(s[i]));
      ++i;
    } else {
      out.push_back(cp);
      i += n;
    }
  }
  return out;
}

std::string encode(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) append_code_point(out, c);
  return out;
}

std::size_t length(std::string_view s) {
  return is_ascii(s) ? s.size() : decode(s).size();
}

std::vector<std::string> characters(std::string_view s) {
  std::vector<std::string> out;
  for (char32_t c : decode(s)) out.push_back(encode(std::u32string_view(&c, 1)));
  return out;
}

bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool is_cased_upper(char32_t c) {
  return (c >= U'A' && c <= U'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
         (c >= 0x391 && c <= 0x3A9) || (c >= 0x400 && c <= 0x42F);
}

bool is_cased_lower(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7) ||
         (c >= 0x3B1 && c <= 0x3C9) || (c >= 0x430 && c <= 0x45F);
}

char32_t to_upper(char32_t c) {
  if (c >= U'a' && c <= U'z') return c - 32;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

char32_t to_lower(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

bool is_alnum(char32_t c) {
  return (c >= U'0' && c <= U'9') || is_cased_upper(c) || is_cased_lower(c) ||
         (c >= 0x80 && !is_space(c) && !(c >= 0x2000 && c <= 0x206F) &&
          !(c >= 0x3000 && c <= 0x303F));
}

std::string strip(std::string_view s, const std::optional<std::string>& chars, StripSide side) {
  const std::u32string set = chars_to_set(chars);
  const auto strippable = [&](char32_t c) {
    return chars ? set.find(c) != std::u32string::npos : is_space(c);
  };
  // Walks code points in place from both ends: messages can be long, and only their edges matter.
  std::size_t begin = 0;
  std::size_t end = s.size();
  if (side != StripSide::kRight) {
    while (begin < end) {
      std::size_t next = 0;
      if (!strippable(code_point_at(s, begin, next))) break;
      begin = next;
    }
  }
  if (side != StripSide::kLeft) {
    while (end > begin) {
      std::size_t start = 0;
      if (!strippable(code_point_before(s, end, start))) break;
      end = start;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep,
                               std::int64_t maxsplit) {
  if (!sep) return encode_all(split_whitespace(decode(s), maxsplit));
  LORAX_CHECK(!sep->empty(), "split(): empty separator");
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) {
    const std::size_t at = s.find(*sep, start);
    if (at == std::string_view::npos) break;
    parts.emplace_back(s.substr(start, at - start));
    start = at + sep->size();
  }
  parts.emplace_back(s.substr(start));
  return parts;
}

std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep,
                                std::int64_t maxsplit) {
  if (!sep) {
    // Whitespace rsplit is the forward split of the reversed string, reversed back.
    std::u32string rev = decode(s);
    std::reverse(rev.begin(), rev.end());
    auto parts = split_whitespace(rev, maxsplit);
    for (auto& p : parts) std::reverse(p.begin(), p.end());
    std::reverse(parts.begin(), parts.end());
    return encode_all(parts);
  }
  LORAX_CHECK(!sep->empty(), "rsplit(): empty separator");
  std::vector<std::string> parts;
  std::size_t end = s.size();
  while (maxsplit < 0 || static_cast<std::int64_t>(parts.size()) < maxsplit) {
    if (end < sep->size()) break;
    const std::size_t at = s.rfind(*sep, end - sep->size());
    if (at == std::string_view::npos) break;
    parts.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
    end = at;
  }
  parts.emplace_back(s.substr(0, end));
  std::reverse(parts.begin(), parts.end());
  return parts;
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  const std::u32string cps = decode(s);
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    if (!is_line_break(cps[i])) continue;
    std::size_t end = i;
    if (cps[i] == U'\r' && i + 1 < cps.size() && cps[i + 1] == U'\n') ++i;
    const std::size_t stop = keepends ? i + 1 : end;
    lines.push_back(encode(std::u32string_view(cps).substr(start, stop - start)));
    start = i + 1;
  }
  if (start < cps.size()) lines.push_back(encode(std::u32string_view(cps).substr(start)));
  return lines;
}

std::string upper(std::string_view s) {
  return map_chars(s, to_upper);
}
std::string lower(std::string_view s) {
  return map_chars(s, to_lower);
}

std::string swapcase(std::string_view s) {
  return map_chars(s, [](char32_t c) {
    return is_cased_upper(c) ? to_lower(c) : is_cased_lower(c) ? to_upper(c) : c;
  });
}

std::string capitalize(std::string_view s) {
  std::u32string cps = decode(s);
  for (std::size_t i = 0; i < cps.size(); ++i)
    cps[i] = i == 0 ? to_upper(cps[i]) : to_lower(cps[i]);
  return encode(cps);
}

std::string title(std::string_view s) {
  std::u32string cps = decode(s);
  bool previous_cased = false;
  for (char32_t& c : cps) {
    const bool cased = is_cased_upper(c) || is_cased_lower(c);
    if (cased) c = previous_cased ? to_lower(c) : to_upper(c);
    previous_cased = cased;
  }
  return encode(cps);
}

std::string replace(std::string_view s, std::string_view old, std::string_view replacement,
                    std::int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts the replacement between every character and at both ends.
    const std::vector<std::string> chars = characters(s);
    std::int64_t done = 0;
    for (const std::string& ch : chars) {
      if (count < 0 || done < count) out += replacement, ++done;
      out += ch;
    }
    if (count < 0 || done < count) out += replacement;
    return out;
  }
  std::size_t start = 0;
  for (std::int64_t done = 0; count < 0 || done < count; ++done) {
    const std::size_t at = s.find(old, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start)).append(replacement);
    start = at + old.size();
  }
  out.append(s.substr(start));
  return out;
}

std::int64_t find(std::string_view s, std::string_view sub) {
  const std::size_t at = s.find(sub);
  if (at == std::string_view::npos) return -1;
  return static_cast<std::int64_t>(length(s.substr(0, at)));
}

std::int64_t rfind(std::string_view s, std::string_view sub) {
  const std::size_t at = s.rfind(sub);
  if (at == std::string_view::npos) return -1;
  return static_cast<std::int64_t>(length(s.substr(0, at)));
}

std::int64_t count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<std::int64_t>(length(s)) + 1;
  std::int64_t n = 0;
  for (std::size_t at = s.find(sub); at != std::string_view::npos;
       at = s.find(sub, at + sub.size())) {
    ++n;
  }
  return n;
}

std::vector<std::int64_t> slice_indices(std::int64_t size, std::optional<std::int64_t> start,
                                        std::optional<std::int64_t> stop,
                                        std::optional<std::int64_t> step) {
  const std::int64_t st = step.value_or(1);
  LORAX_CHECK(st != 0, "slice step cannot be zero");
  // Python's PySlice_AdjustIndices: negative bounds count from the end, then clamp.
  const auto adjust = [&](std::optional<std::int64_t> v, std::int64_t dflt) {
    if (!v) return dflt;
    std::int64_t x = *v < 0 ? *v + size : *v;
    if (st > 0) return std::clamp<std::int64_t>(x, 0, size);
    return std::clamp<std::int64_t>(x, -1, size - 1);
  };
  const std::int64_t from = adjust(start, st > 0 ? 0 : size - 1);
  const std::int64_t to = adjust(stop, st > 0 ? size : -1);
  // Count first so that a huge step cannot overflow the running index.
  const std::uint64_t distance =
      st > 0 ? static_cast<std::uint64_t>(std::max<std::int64_t>(to - from, 0))
             : static_cast<std::uint64_t>(std::max<std::int64_t>(from - to, 0));
  const std::uint64_t stride =
      st > 0 ? static_cast<std::uint64_t>(st) : 0 - static_cast<std::uint64_t>(st);
  const std::uint64_t n = distance == 0 ? 0 : 1 + (distance - 1) / stride;
  std::vector<std::int64_t> out;
  out.reserve(n);
  for (std::uint64_t k = 0; k < n; ++k) {
    out.push_back(from + static_cast<std::int64_t>(k) * st);
  }
  return out;
}

std::string slice(std::string_view s, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> stop, std::optional<std::int64_t> step) {
  if (is_ascii(s)) {
    std::string out;
    for (std::int64_t i : slice_indices(static_cast<std::int64_t>(s.size()), start, stop, step)) {
      out.push_back(s[static_cast<std::size_t>(i)]);
    }
    return out;
  }
  const std::u32string cps = decode(s);
  std::u32string out;
  for (std::int64_t i : slice_indices(static_cast<std::int64_t>(cps.size()), start, stop, step)) {
    out.push_back(cps[static_cast<std::size_t>(i)]);
  }
  return encode(out);
}

}  // namespace lorax::jinja::pystr
