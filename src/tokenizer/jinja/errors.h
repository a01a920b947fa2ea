// The three ways a template can fail, all `lorax::Error`s so that callers can treat them alike,
// and distinct types so that a caller can tell a broken template from a template that refused
// its input on purpose.
#pragma once

#include <string>

#include "core/error.h"

namespace lorax::jinja {

// The template does not parse (or names an unknown filter or test). The message names the line.
class TemplateSyntaxError : public lorax::Error {
 public:
  TemplateSyntaxError(const std::string& message, int line)
      : lorax::Error("template syntax error at line " + std::to_string(line) + ": " + message),
        line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

// The template called `raise_exception(message)`: what() is exactly the template's message,
// meant for the client (e.g. "Conversation roles must alternate user/assistant/...").
class TemplateError : public lorax::Error {
 public:
  explicit TemplateError(const std::string& message) : lorax::Error(message) {}
};

// Rendering failed: an undefined value was used, a type did not fit, a builtin got bad
// arguments. The message names the line of the statement that failed.
class TemplateRuntimeError : public lorax::Error {
 public:
  TemplateRuntimeError(const std::string& message, int line)
      : lorax::Error("template error at line " + std::to_string(line) + ": " + message),
        line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

}  // namespace lorax::jinja
