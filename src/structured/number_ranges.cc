#include "structured/number_ranges.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace lorax::structured {
namespace {

constexpr uint64_t kInf = std::numeric_limits<uint64_t>::max();

// Joins by appending: GCC 12 warns (-Wrestrict, a false positive) on "literal" + std::string&&.
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

// Same-length decimal strings lo <= hi: the classic split into prefix-sharing pieces.
std::string same_length(const std::string& lo, const std::string& hi) {
  if (lo.empty()) return "";
  size_t rest = lo.size() - 1;
  std::string any_rest = rest ? concat("[0-9]{", std::to_string(rest), "}") : "";
  if (lo[0] == hi[0]) return std::string(1, lo[0]) + same_length(lo.substr(1), hi.substr(1));
  bool lo_floor = lo.find_first_not_of('0', 1) == std::string::npos;
  bool hi_ceil = hi.find_first_not_of('9', 1) == std::string::npos;
  std::vector<std::string> parts;
  char first = lo[0], last = hi[0];
  if (!lo_floor) {
    parts.push_back(
        concat(std::string(1, lo[0]), "(", same_length(lo.substr(1), std::string(rest, '9')), ")"));
    ++first;
  }
  if (!hi_ceil) --last;
  if (first <= last) {
    std::string cls =
        first == last ? std::string(1, first) : std::string("[") + first + "-" + last + "]";
    parts.push_back(cls + any_rest);
  }
  if (!hi_ceil) {
    parts.push_back(
        concat(std::string(1, hi[0]), "(", same_length(std::string(rest, '0'), hi.substr(1)), ")"));
  }
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "|" : "") + parts[i];
  return out + ")";
}

uint64_t pow10(int n) {
  uint64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// Non-negative integers in [lo, hi] without leading zeros; hi kInf: unbounded.
std::string magnitude_range(uint64_t lo, uint64_t hi) {
  if (lo > hi) return "";
  std::vector<std::string> parts;
  int len = static_cast<int>(std::to_string(lo).size());
  for (;; ++len) {
    uint64_t len_lo = std::max(lo, len == 1 ? uint64_t{0} : pow10(len - 1));
    if (hi != kInf && len_lo > hi) break;
    if (len >= 19) {  // beyond int64: any longer number (only reachable when unbounded)
      parts.push_back(concat("[1-9][0-9]{", std::to_string(len - 1), ",}"));
      break;
    }
    uint64_t len_hi = std::min(hi, pow10(len) - 1);
    if (hi == kInf && len_lo == pow10(len - 1) && len > 1) {
      parts.push_back(concat("[1-9][0-9]{", std::to_string(len - 1), ",}"));
      break;
    }
    parts.push_back(same_length(std::to_string(len_lo), std::to_string(len_hi)));
    if (len_hi == hi) break;
  }
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "|" : "") + parts[i];
  return out + ")";
}

enum class Fraction { kAny, kZero, kNonZero, kNone };

struct Piece {
  uint64_t lo, hi;
  Fraction fraction;
};

Fraction meet(Fraction a, Fraction b) {
  if (a == Fraction::kAny) return b;
  if (b == Fraction::kAny || a == b) return a;
  return Fraction::kNone;
}

// Magnitudes m >= 0 with the given bounds, as integer-part ranges with a fraction condition.
std::vector<Piece> magnitude_pieces(std::optional<NumberBound> lo, std::optional<NumberBound> hi) {
  std::vector<Piece> lower{{0, kInf, Fraction::kAny}}, upper{{0, kInf, Fraction::kAny}}, out;
  if (lo && lo->value >= 0) {
    auto v = static_cast<uint64_t>(lo->value);
    if (lo->exclusive)
      lower = {{v + 1, kInf, Fraction::kAny}, {v, v, Fraction::kNonZero}};
    else
      lower = {{v, kInf, Fraction::kAny}};
  }
  if (hi) {
    if (hi->value < 0) return {};
    auto v = static_cast<uint64_t>(hi->value);
    upper.clear();
    if (v >= 1) upper.push_back({0, v - 1, Fraction::kAny});
    if (!hi->exclusive) upper.push_back({v, v, Fraction::kZero});
  }
  for (const Piece& a : lower) {
    for (const Piece& b : upper) {
      Piece p{std::max(a.lo, b.lo), std::min(a.hi, b.hi), meet(a.fraction, b.fraction)};
      if (p.lo <= p.hi && p.fraction != Fraction::kNone) out.push_back(p);
    }
  }
  return out;
}

std::string fraction_regex(Fraction f) {
  switch (f) {
    case Fraction::kAny:
      return "(\\.[0-9]+)?";
    case Fraction::kZero:
      return "(\\.0+)?";
    default:
      return "\\.[0-9]*[1-9][0-9]*";
  }
}

std::optional<NumberBound> negated(std::optional<NumberBound> b) {
  if (!b) return std::nullopt;
  return NumberBound{-b->value, b->exclusive};
}

std::string join_alternatives(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    out += (out.empty() ? "(" : "|") + p;
  }
  return out.empty() ? "" : out + ")";
}

}  // namespace

std::string integer_range_regex(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  std::vector<std::string> parts;
  if (!hi || *hi >= 0) {  // 0 and up
    uint64_t a = lo && *lo > 0 ? static_cast<uint64_t>(*lo) : 0;
    parts.push_back(magnitude_range(a, hi ? static_cast<uint64_t>(*hi) : kInf));
  }
  if (!lo || *lo < 0) {  // -1 and down: magnitudes from max(1, -hi) to -lo
    uint64_t a = hi && *hi < 0 ? static_cast<uint64_t>(-*hi) : 1;
    std::string m = magnitude_range(a, lo ? static_cast<uint64_t>(-*lo) : kInf);
    if (!m.empty()) parts.push_back(concat("-", m));
  }
  return join_alternatives(parts);
}

std::string number_range_regex(std::optional<NumberBound> lo, std::optional<NumberBound> hi) {
  std::vector<std::string> parts;
  for (const Piece& p : magnitude_pieces(lo, hi)) {
    parts.push_back(magnitude_range(p.lo, p.hi) + fraction_regex(p.fraction));
  }
  // x = -m: lo <= -m <= hi  <=>  -hi <= m <= -lo
  for (const Piece& p : magnitude_pieces(negated(hi), negated(lo))) {
    parts.push_back(concat("-", magnitude_range(p.lo, p.hi), fraction_regex(p.fraction)));
  }
  return join_alternatives(parts);
}

}  // namespace lorax::structured
