#include "tokenizer/jinja/renderer.h"

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/errors.h"
#include "tokenizer/jinja/value_format.h"

namespace lorax::jinja {
namespace {

// Makes `scope` current for as long as it lives, then puts the previous scope back (also when
// an exception unwinds through).
class ScopeSwap {
 public:
  ScopeSwap(std::shared_ptr<Scope>& slot, std::shared_ptr<Scope> scope)
      : slot_(slot), saved_(std::exchange(slot, std::move(scope))) {}
  ~ScopeSwap() { slot_ = std::move(saved_); }
  ScopeSwap(const ScopeSwap&) = delete;
  ScopeSwap& operator=(const ScopeSwap&) = delete;

 private:
  std::shared_ptr<Scope>& slot_;
  std::shared_ptr<Scope> saved_;
};

class DepthCount {
 public:
  explicit DepthCount(int& depth) : depth_(++depth) {}
  ~DepthCount() { --depth_; }
  DepthCount(const DepthCount&) = delete;
  DepthCount& operator=(const DepthCount&) = delete;

 private:
  int& depth_;
};

}  // namespace

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent_.get()) {
    const auto it = s->vars_.find(name);
    if (it != s->vars_.end()) return &it->second;
  }
  return nullptr;
}

Renderer::Renderer(const Dict& context, const RenderLimits& limits) : limits_(limits) {
  auto globals = std::make_shared<Scope>(nullptr);
  const Dict builtins = make_globals();
  for (const auto& [name, value] : builtins.entries()) globals->set(name.as_string(), value);
  auto ns = std::make_shared<Callable>();
  ns->name = "namespace";
  ns->call = [this](const CallArgs& args) { return make_namespace(args); };
  globals->set("namespace", Value::callable(std::move(ns)));
  top_ = std::make_shared<Scope>(std::move(globals));
  for (const auto& [name, value] : context.entries()) {
    LORAX_CHECK(name.is_string(), "template context keys must be strings");
    top_->set(name.as_string(), value);
  }
  scope_ = top_;
}

Renderer::~Renderer() {
  // A namespace may hold itself (`set ns.me = ns`); clearing every object made during the
  // render breaks such cycles so that nothing outlives the render.
  for (const auto& weak : objects_) {
    if (auto object = weak.lock()) object->attrs.clear();
  }
}

std::string Renderer::render(const ast::Body& body) {
  std::string out;
  exec_body(body, out);
  return out;
}

Renderer::Flow Renderer::exec_body(const ast::Body& body, std::string& out) {
  for (const auto& stmt : body) {
    const Flow flow = exec(*stmt, out);
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec(const ast::Stmt& stmt, std::string& out) {
  try {
    return std::visit([&](const auto& node) { return exec_node(node, out); }, stmt.node);
  } catch (const TemplateError&) {
    throw;
  } catch (const TemplateRuntimeError&) {
    throw;
  } catch (const lorax::Error& e) {
    throw TemplateRuntimeError(e.what(), stmt.line);  // the innermost statement names the line
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    // Library failures (a number out of range, ...) are still the template's fault.
    throw TemplateRuntimeError(e.what(), stmt.line);
  }
}

Renderer::Flow Renderer::exec_scoped(const ast::Body& body, std::string& out) {
  ScopeSwap swap(scope_, std::make_shared<Scope>(scope_));
  return exec_body(body, out);
}

std::string Renderer::render_scoped(const ast::Body& body) {
  std::string out;
  exec_scoped(body, out);
  return out;
}

void Renderer::append(std::string& out, std::string_view text) {
  LORAX_CHECK(out.size() + text.size() <= limits_.max_output_bytes, "template output exceeds ",
              limits_.max_output_bytes, " bytes");
  out.append(text);
}

Renderer::Flow Renderer::exec_node(const ast::Text& node, std::string& out) {
  append(out, node.text);
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_node(const ast::Output& node, std::string& out) {
  const Value v = eval(*node.expr);
  if (v.is_string()) {
    append(out, v.as_string());
  } else {
    append(out, to_str(v));
  }
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_node(const ast::If& node, std::string& out) {
  for (const auto& [test, body] : node.branches) {
    if (eval(*test).truthy()) return exec_body(body, out);
  }
  return exec_body(node.otherwise, out);
}

void Renderer::bind(const ast::Target& target, const Value& value) {
  if (!target.unpack) {
    scope_->set(target.names[0], value);
    return;
  }
  const std::vector<Value> parts = iterate(value);
  const std::size_t n = target.names.size();
  LORAX_CHECK(parts.size() <= n, "too many values to unpack (expected ", n, ")");
  LORAX_CHECK(parts.size() >= n, "not enough values to unpack (expected ", n, ", got ",
              parts.size(), ")");
  for (std::size_t i = 0; i < n; ++i) scope_->set(target.names[i], parts[i]);
}

// The items a loop visits: `for x in xs if cond` filters first, so that loop.length and
// loop.last count only the items that pass.
std::vector<Value> Renderer::loop_items(const ast::For& node) {
  std::vector<Value> items = iterate(eval(*node.iterable));
  if (!node.condition) return items;
  std::vector<Value> kept;
  for (Value& item : items) {
    ScopeSwap swap(scope_, std::make_shared<Scope>(scope_));
    bind(node.target, item);
    if (eval(*node.condition).truthy()) kept.push_back(std::move(item));
  }
  return kept;
}

namespace {

std::shared_ptr<Object> make_loop_object() {
  auto loop = std::make_shared<Object>();
  loop->type_name = "LoopContext";
  auto cycle = std::make_shared<Callable>();
  cycle->name = "cycle";
  // A weak pointer: the loop object holds this callable, which must not keep it alive.
  cycle->call = [weak = std::weak_ptr<Object>(loop)](const CallArgs& args) {
    LORAX_CHECK(!args.positional.empty(), "no items for cycling given");
    const auto object = weak.lock();
    const Value* index = object ? object->attrs.find(std::string_view("index0")) : nullptr;
    const std::int64_t i = index ? index->as_int() : 0;
    return args.positional[static_cast<std::size_t>(i) % args.positional.size()];
  };
  loop->attrs.set("cycle", Value::callable(std::move(cycle)));
  loop->attrs.set("depth", Value::integer(1));
  loop->attrs.set("depth0", Value::integer(0));
  return loop;
}

void update_loop_object(Object& loop, const std::vector<Value>& items, std::size_t i) {
  const auto n = static_cast<std::int64_t>(items.size());
  const auto k = static_cast<std::int64_t>(i);
  loop.attrs.set("index", Value::integer(k + 1));
  loop.attrs.set("index0", Value::integer(k));
  loop.attrs.set("revindex", Value::integer(n - k));
  loop.attrs.set("revindex0", Value::integer(n - k - 1));
  loop.attrs.set("first", Value::boolean(k == 0));
  loop.attrs.set("last", Value::boolean(k == n - 1));
  loop.attrs.set("length", Value::integer(n));
  loop.attrs.set("previtem", k > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
  loop.attrs.set("nextitem", k + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
}

}  // namespace

Renderer::Flow Renderer::exec_node(const ast::For& node, std::string& out) {
  const std::vector<Value> items = loop_items(node);
  if (items.empty()) return exec_scoped(node.otherwise, out);
  const auto loop = make_loop_object();
  objects_.push_back(loop);
  const Value loop_value = Value::object(loop);
  const std::shared_ptr<Scope> outer = scope_;
  for (std::size_t i = 0; i < items.size(); ++i) {
    LORAX_CHECK(++iterations_ <= limits_.max_loop_iterations, "template ran more than ",
                limits_.max_loop_iterations, " loop iterations");
    update_loop_object(*loop, items, i);
    ScopeSwap swap(scope_, std::make_shared<Scope>(outer));  // a fresh scope per iteration
    bind(node.target, items[i]);
    scope_->set("loop", loop_value);
    if (exec_body(node.body, out) == Flow::kBreak) break;
  }
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_node(const ast::Set& node, std::string&) {
  Value value = eval(*node.value);
  if (node.attr.empty()) {
    bind(node.target, value);
    return Flow::kNormal;
  }
  const std::string& name = node.target.names[0];
  const Value* ns = scope_->find(name);
  LORAX_CHECK(ns != nullptr && ns->is_object() && ns->as_object().assignable,
              "cannot assign attribute on non-namespace object '", name, "'");
  ns->as_object().attrs.set(node.attr, std::move(value));
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_node(const ast::SetBlock& node, std::string&) {
  Value value = Value::string(render_scoped(node.body));
  for (const auto& filter : node.filters) value = apply_filter(filter, value);
  scope_->set(node.name, std::move(value));
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_node(const ast::Macro& node, std::string&) {
  scope_->set(node.name, make_callable(node.name, node.params, node.body));
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_node(const ast::CallBlock& node, std::string& out) {
  const auto& call = std::get<ast::Call>(node.call->node);
  const Value callee = eval(*call.callee);
  CallArgs args = eval_args(call.args);
  args.keyword.emplace_back("caller", make_callable("caller", node.params, node.body));
  append(out, to_str(call_value(callee, args)));
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_node(const ast::FilterBlock& node, std::string& out) {
  Value value = Value::string(render_scoped(node.body));
  for (const auto& filter : node.filters) value = apply_filter(filter, value);
  append(out, to_str(value));
  return Flow::kNormal;
}

Renderer::Flow Renderer::exec_node(const ast::With& node, std::string& out) {
  std::vector<Value> values;  // evaluated outside, so `with a = 1, b = a` sees the outer `a`
  for (const auto& assignment : node.assignments) values.push_back(eval(*assignment.second));
  ScopeSwap swap(scope_, std::make_shared<Scope>(scope_));
  for (std::size_t i = 0; i < values.size(); ++i) scope_->set(node.assignments[i].first, values[i]);
  return exec_body(node.body, out);
}

Renderer::Flow Renderer::exec_node(const ast::Scoped& node, std::string& out) {
  return exec_scoped(node.body, out);
}

Renderer::Flow Renderer::exec_node(const ast::Break&, std::string&) {
  return Flow::kBreak;
}
Renderer::Flow Renderer::exec_node(const ast::Continue&, std::string&) {
  return Flow::kContinue;
}

Value Renderer::make_callable(const std::string& name, const Params& params,
                              const ast::Body& body) {
  auto callable = std::make_shared<Callable>();
  callable->name = name;
  // The callable never outlives this renderer or the template's tree (values die with the
  // render), so it may point at both. The scope is weak: the scope holds the callable.
  callable->call = [this, &name, &params, &body,
                    defined_in = std::weak_ptr<Scope>(scope_)](const CallArgs& args) {
    return call_macro(name, params, body, defined_in, args);
  };
  return Value::callable(std::move(callable));
}

Value Renderer::call_macro(const std::string& name, const Params& params, const ast::Body& body,
                           const std::weak_ptr<Scope>& defined_in, const CallArgs& args) {
  LORAX_CHECK(call_depth_ < limits_.max_call_depth, "macro calls nested deeper than ",
              limits_.max_call_depth);
  DepthCount depth(call_depth_);
  std::shared_ptr<Scope> parent = defined_in.lock();
  ScopeSwap swap(scope_, std::make_shared<Scope>(parent ? parent : top_));
  bind_macro_args(name, params, args);
  std::string out;
  exec_body(body, out);
  return Value::string(std::move(out));
}

// Binds by position then by name; extra positional arguments go to `varargs`, unknown keywords
// to `kwargs`; defaults are evaluated in the macro's scope, so they may use earlier parameters.
void Renderer::bind_macro_args(const std::string& name, const Params& params,
                               const CallArgs& args) {
  std::vector<bool> given(params.size(), false);
  std::vector<Value> varargs;
  Dict kwargs;
  for (std::size_t i = 0; i < args.positional.size(); ++i) {
    if (i >= params.size()) {
      varargs.push_back(args.positional[i]);
      continue;
    }
    scope_->set(params[i].first, args.positional[i]);
    given[i] = true;
  }
  for (const auto& [key, value] : args.keyword) {
    std::size_t i = 0;
    while (i < params.size() && params[i].first != key) ++i;
    if (i == params.size()) {
      if (key == "caller") {
        scope_->set("caller", value);
      } else {
        kwargs.set(key, value);
      }
      continue;
    }
    LORAX_CHECK(!given[i], "macro '", name, "' got multiple values for argument '", key, "'");
    scope_->set(key, value);
    given[i] = true;
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (given[i]) continue;
    const auto& [param, fallback] = params[i];
    scope_->set(param, fallback ? eval(*fallback)
                                : Value::undefined("parameter '" + param + "' was not provided"));
  }
  scope_->set("varargs", Value::tuple(std::move(varargs)));
  scope_->set("kwargs", Value::dict(std::move(kwargs)));
}

Value Renderer::make_namespace(const CallArgs& args) {
  auto ns = std::make_shared<Object>();
  ns->type_name = "Namespace";
  ns->assignable = true;
  LORAX_CHECK(args.positional.size() <= 1, "namespace() takes at most one positional argument");
  if (!args.positional.empty()) {
    const Value& init = args.positional[0];
    LORAX_CHECK(init.is_dict(), "namespace() positional argument must be a dict");
    for (const auto& [k, v] : init.as_dict().entries()) ns->attrs.set(k, v);
  }
  for (const auto& [k, v] : args.keyword) ns->attrs.set(k, v);
  objects_.push_back(ns);
  return Value::object(std::move(ns));
}

}  // namespace lorax::jinja
