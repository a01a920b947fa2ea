// `lorax tokenize --model DIR --requests FILE`: one JSON line in, one out, in order.
//   {"text": s, "add_special_tokens": bool (default true)}  ->  {"ids": [...]}
//   {"ids": [...], "skip_special_tokens": bool (default false)}  ->  {"text": s}
// A line that cannot be served is answered {"error": "..."} and the command exits 2 at the end.
#pragma once

#include <iosfwd>
#include <string>

#include "tokenizer/text_processor.h"

namespace lorax {

int run_tokenize(const TextProcessor& text, std::istream& requests, std::ostream& results);
int run_tokenize(const std::string& model_dir, const std::string& requests_path);

}  // namespace lorax
