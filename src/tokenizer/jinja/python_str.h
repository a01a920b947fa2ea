// Python `str` semantics over UTF-8 strings.
//
// Chat templates were written against Python, where strings are sequences of code points: a
// slice, a length, `strip()` or `find()` counts characters, not bytes. These helpers give that
// meaning to UTF-8 `std::string`s. Bytes that are not valid UTF-8 decode to lone surrogates
// U+DC80..U+DCFF (Python's "surrogateescape") so that they survive a round trip unchanged.
// Case mapping covers ASCII, Latin-1, Greek and Cyrillic; other scripts are left as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lorax::jinja::pystr {

std::u32string decode(std::string_view utf8);
std::string encode(std::u32string_view code_points);
void append_code_point(std::string& out, char32_t code_point);

// Number of code points.
std::size_t length(std::string_view s);
// Each code point as its own string (iterating a Python string).
std::vector<std::string> characters(std::string_view s);

bool is_space(char32_t c);
char32_t to_upper(char32_t c);
char32_t to_lower(char32_t c);
bool is_cased_upper(char32_t c);
bool is_cased_lower(char32_t c);
bool is_alnum(char32_t c);

// str.strip / lstrip / rstrip; `chars` absent means whitespace.
enum class StripSide { kBoth, kLeft, kRight };
std::string strip(std::string_view s, const std::optional<std::string>& chars, StripSide side);

// str.split / str.rsplit; `sep` absent splits on runs of whitespace. maxsplit < 0: no limit.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep,
                               std::int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep,
                                std::int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string swapcase(std::string_view s);
std::string capitalize(std::string_view s);
// str.title(): a letter after a non-letter starts a word ("don't" -> "Don'T").
std::string title(std::string_view s);

// str.replace; count < 0 replaces all.
std::string replace(std::string_view s, std::string_view old, std::string_view replacement,
                    std::int64_t count);
// str.find / str.rfind as a code-point index, -1 when absent.
std::int64_t find(std::string_view s, std::string_view sub);
std::int64_t rfind(std::string_view s, std::string_view sub);
// str.count: non-overlapping occurrences.
std::int64_t count(std::string_view s, std::string_view sub);

// Resolved Python slice over a sequence of `size` elements: the indices it selects, in order.
std::vector<std::int64_t> slice_indices(std::int64_t size, std::optional<std::int64_t> start,
                                        std::optional<std::int64_t> stop,
                                        std::optional<std::int64_t> step);
std::string slice(std::string_view s, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> stop, std::optional<std::int64_t> step);

}  // namespace lorax::jinja::pystr
