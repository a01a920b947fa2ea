// Exact regexes (RegexMode::kRaw) for JSON numbers within bounds: digit-range automata, so
// `minimum: 3, maximum: 250` admits exactly 3..250 and nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lorax::structured {

// Integers n with lo <= n <= hi (either side may be open). Empty string: no integer fits.
std::string integer_range_regex(std::optional<int64_t> lo, std::optional<int64_t> hi);

struct NumberBound {
  int64_t value = 0;  // integral bounds only
  bool exclusive = false;
};

// JSON numbers (fraction allowed, no exponent) x with lo <= x <= hi (or < when exclusive).
std::string number_range_regex(std::optional<NumberBound> lo, std::optional<NumberBound> hi);

}  // namespace lorax::structured
