// Internal: the filter tables of filters_text.cc and filters_sequence.cc, joined by find_filter.
#pragma once

#include <string_view>

#include "tokenizer/jinja/builtins.h"

namespace lorax::jinja {

FilterFn find_text_filter(std::string_view name);
FilterFn find_sequence_filter(std::string_view name);

}  // namespace lorax::jinja
