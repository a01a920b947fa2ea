// Regexes (the ECMAScript subset JSON Schema patterns use) compiled into a ByteGraph: literals,
// classes over Unicode code points (emitted as UTF-8 byte ranges), `.`, \d \w \s and their
// negations, groups, alternation, * + ? {n} {n,} {n,m} (lazy forms match the same language).
// Refused with an error naming the construct: backreferences, lookaround, \b, \p{..}, anchors
// other than a leading ^ and trailing $.
#pragma once

#include <cstddef>
#include <string_view>

#include "structured/byte_graph.h"

namespace lorax::structured {

enum class RegexMode {
  kRaw,         // the regex describes the bytes themselves (UTF-8 text)
  kJsonString,  // it describes a JSON string's value: emit each character as it is written
                // inside the quotes, the characters JSON must escape as their escape
};

struct RegexLimits {
  size_t max_graph_nodes = 4'000'000;  // bounded repetition is expanded; refuse beyond this
};

// Full match of `pattern`. Throws lorax::Error("regex ...") on what it cannot honour.
Fragment compile_regex(ByteGraph& graph, std::string_view pattern, RegexMode mode,
                       const RegexLimits& limits = {});

// JSON Schema's `pattern`: a search (matches anywhere) unless anchored by ^ and $; in kJsonString
// mode, the content between the quotes.
Fragment compile_search_pattern(ByteGraph& graph, std::string_view pattern,
                                const RegexLimits& limits = {});

}  // namespace lorax::structured
