#include "tokenizer/jinja/template.h"

#include "core/error.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/jinja/renderer.h"

namespace lorax::jinja {

struct Template::Parsed {
  ast::Body body;
};

Template::Template(std::string_view source)
    : parsed_(std::make_shared<const Parsed>(Parsed{parse(source)})) {}

std::string Template::render(const nlohmann::ordered_json& context) const {
  return render(context, RenderLimits{});
}

std::string Template::render(const nlohmann::ordered_json& context,
                             const RenderLimits& limits) const {
  LORAX_CHECK(context.is_object() || context.is_null(),
              "template context must be a JSON object, not ", context.type_name());
  Dict variables;
  if (context.is_object()) {
    for (const auto& [name, value] : context.items()) variables.set(name, Value::from_json(value));
  }
  Renderer renderer(variables, limits);
  return renderer.render(parsed_->body);
}

}  // namespace lorax::jinja
