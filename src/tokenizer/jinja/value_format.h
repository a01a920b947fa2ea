// Values to text, the way Python writes them: `str()` for `{{ x }}`, `repr()` for items inside
// containers, and `json.dumps()` for HF's `tojson` filter.
#pragma once

#include <optional>
#include <string>

#include "tokenizer/jinja/value.h"

namespace lorax::jinja {

// Python str(x): what `{{ x }}` prints. Undefined prints as nothing.
std::string to_str(const Value& v);
// Python repr(x): strings quoted, as inside a printed list.
std::string to_repr(const Value& v);
// Python repr(float): shortest round-trip digits, "1.0", "1e+16", "1.5e-05", "inf", "nan".
std::string float_repr(double d);

// Python's `format % args`: %s %r %d %i %f %e %g %x %o %c %% with flags, width and precision;
// `args` is a tuple of positional values, a dict for `%(name)s`, or one value.
std::string percent_format(const std::string& format, const Value& args);

// Options of Python's json.dumps as HF's tojson passes them (ensure_ascii is always false).
struct JsonOptions {
  std::optional<std::string> indent;          // none: one line
  std::optional<std::string> item_separator;  // default ", " on one line, "," when indented
  std::optional<std::string> key_separator;   // default ": "
  bool sort_keys = false;
};

// Python json.dumps(v, ensure_ascii=False, ...). Fails on undefined, namespaces and callables
// ("Object of type Undefined is not JSON serializable"), as Python does.
std::string to_json(const Value& v, const JsonOptions& options);

}  // namespace lorax::jinja
