// Errors a request can end with, and how each API writes them.
//
// Handlers and validators throw ApiError (or let engine, tokenizer and template errors through);
// one wrapper per route turns whatever was thrown into the API's status and body, so a bad
// request never takes the server down. The LoRAX API answers {"error", "error_type"} with TGI's
// statuses (422 for validation); the OpenAI API answers {"error": {"message", "type", "param",
// "code"}} with OpenAI's (400 for validation, 404 for an unknown model).
#pragma once

#include <exception>
#include <optional>
#include <string>

#include "core/error.h"
#include "server/json_body.h"

namespace lorax {

enum class ErrorKind {
  BadRequest,       // the body is not JSON, or not the JSON object expected
  Validation,       // a field of the wrong type or out of range; a prompt too long
  UnknownAdapter,   // an adapter (or OpenAI `model`) this server does not serve
  Forbidden,        // a local adapter path outside the adapter root
  Unauthorized,     // missing or wrong API key
  NotFound,         // no such route
  PayloadTooLarge,  // body over ServerLimits::max_body_bytes
  AdapterLoad,      // a registered adapter whose files fail to load
  Overloaded,       // over max_concurrent_requests
  Unavailable,      // shutting down, or the engine dropped the request
  Internal,         // a bug: logged, answered 500
};

enum class ApiFlavor { Lorax, OpenAi };

class ApiError : public Error {
 public:
  ApiError(ErrorKind kind, const std::string& message, std::optional<std::string> param = {})
      : Error(message), kind_(kind), param_(std::move(param)) {}
  ErrorKind kind() const { return kind_; }
  const std::optional<std::string>& param() const { return param_; }

 private:
  ErrorKind kind_;
  std::optional<std::string> param_;  // the request field at fault, when one is
};

// Whatever a handler threw, as an ApiError (engine, template, JSON and other exceptions mapped).
ApiError classify_exception(std::exception_ptr error);

// A request the engine ended before it finished (shutdown, or a failed engine step).
ApiError engine_cancelled_error();

int http_status(ErrorKind kind, ApiFlavor flavor);
// The metrics label of a request that ended with this error.
const char* outcome_label(ErrorKind kind);
Json error_body(const ApiError& error, ApiFlavor flavor);

}  // namespace lorax
