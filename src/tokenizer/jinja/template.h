// A Jinja2 template engine for Hugging Face chat templates.
//
// Renders the way transformers' apply_chat_template does: Jinja's ImmutableSandboxedEnvironment
// with trim_blocks, lstrip_blocks and the loopcontrols extension, HF's `tojson` (json.dumps with
// ensure_ascii=False, insertion order kept), `raise_exception`, `strftime_now` and the
// `{% generation %}` tag. Values print as Python prints them (True, None, ['a'], {'k': 1}, 1.0).
//
//   lorax::jinja::Template t(source);              // parses once; throws TemplateSyntaxError
//   std::string s = t.render({{"messages", ...}}); // thread-safe; throws TemplateError (from
//                                                  // raise_exception) or TemplateRuntimeError
//
// Not supported: template inheritance and includes (extends, block, include, import), recursive
// loops, loop.changed(), `*args`/`**kwargs` in calls, groupby, ensure_ascii=True and a few rarely
// used filters; integers beyond 64 bits (an error, not a wrap); case mapping beyond Latin, Greek
// and Cyrillic. Where Jinja returns a lazy generator (map, select, unique, dict.items()) a list
// is returned: it iterates the same but prints as a list. Macros accept extra arguments into
// varargs/kwargs even when the body does not use them (Jinja would refuse).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/errors.h"

namespace lorax::jinja {

// Bounds that keep a hostile template from taking the server down; exceeding one is a
// TemplateRuntimeError.
struct RenderLimits {
  std::size_t max_output_bytes = std::size_t{256} << 20;
  std::int64_t max_loop_iterations = 10'000'000;  // over the whole render
  int max_call_depth = 128;                       // nested macro calls
};

class Template {
 public:
  // Parses `source`; throws TemplateSyntaxError (a lorax::Error) naming the line.
  explicit Template(std::string_view source);

  // Renders with `context` (a JSON object) as the template's variables. Throws TemplateError
  // when the template calls raise_exception, TemplateRuntimeError for other failures.
  std::string render(const nlohmann::ordered_json& context) const;
  std::string render(const nlohmann::ordered_json& context, const RenderLimits& limits) const;

 private:
  struct Parsed;
  std::shared_ptr<const Parsed> parsed_;  // immutable, so copies and threads can share it
};

}  // namespace lorax::jinja
