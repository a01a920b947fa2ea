#include "server/api_error.h"

#include <iterator>

#include "engine/engine_service.h"
#include "tokenizer/jinja/errors.h"

namespace lorax {

ApiError classify_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    return e;
  } catch (const OverloadedError& e) {
    return ApiError(ErrorKind::Overloaded, std::string("server overloaded: ") + e.what());
  } catch (const ShuttingDownError& e) {
    return ApiError(ErrorKind::Unavailable, e.what());
  } catch (const jinja::TemplateError& e) {
    // raise_exception() in the chat template: its message is written for the client.
    return ApiError(ErrorKind::Validation, e.what(), "messages");
  } catch (const jinja::TemplateRuntimeError& e) {
    // Usually a conversation shape the template cannot render (a missing key, a wrong type).
    return ApiError(ErrorKind::Validation, std::string("chat template failed: ") + e.what(),
                    "messages");
  } catch (const jinja::TemplateSyntaxError& e) {
    return ApiError(ErrorKind::Internal, std::string("the model's chat template: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    return ApiError(ErrorKind::BadRequest, std::string("bad JSON: ") + e.what());
  } catch (const Error& e) {
    // The engine's and tokenizer's own checks of a request (prompt ids, context, UTF-8).
    return ApiError(ErrorKind::Validation, e.what());
  } catch (const std::exception& e) {
    return ApiError(ErrorKind::Internal, std::string("internal error: ") + e.what());
  } catch (...) {
    return ApiError(ErrorKind::Internal, "internal error: unknown exception");
  }
}

ApiError engine_cancelled_error() {
  return ApiError(ErrorKind::Unavailable,
                  "the request was cancelled before it finished: the server is shutting down or "
                  "the engine failed (see the server log)");
}

namespace {

// What each kind of error is called and answered by each API, one row per kind. LoRAX uses its
// router's statuses and the error_type words its client turns into exception classes
// (validation, generation, overloaded, incomplete_generation); an adapter that cannot be found or
// loaded fails as LoRAX's failed adapter downloads do, a "generation" error with 424. OpenAI's
// client errors are invalid_request_error with a code.
struct ErrorKindInfo {
  ErrorKind kind;
  int lorax_status;
  int openai_status;
  const char* lorax_type;
  const char* openai_type;
  const char* openai_code;
  const char* outcome;  // the metrics label
};

constexpr ErrorKindInfo kErrorKinds[] = {
    {ErrorKind::BadRequest, 400, 400, "bad_request", "invalid_request_error", "invalid_json",
     "validation_error"},
    {ErrorKind::Validation, 422, 400, "validation", "invalid_request_error", "invalid_value",
     "validation_error"},
    {ErrorKind::UnknownAdapter, 424, 404, "generation", "invalid_request_error", "model_not_found",
     "not_found"},
    {ErrorKind::Forbidden, 403, 403, "validation", "invalid_request_error", "forbidden",
     "forbidden"},
    {ErrorKind::Unauthorized, 401, 401, "authentication", "invalid_request_error",
     "invalid_api_key", "unauthorized"},
    {ErrorKind::NotFound, 404, 404, "not_found", "invalid_request_error", "not_found", "not_found"},
    {ErrorKind::PayloadTooLarge, 413, 413, "payload_too_large", "invalid_request_error",
     "payload_too_large", "validation_error"},
    {ErrorKind::AdapterLoad, 424, 424, "generation", "adapter_error", "adapter_load_failed",
     "adapter_error"},
    {ErrorKind::Overloaded, 429, 429, "overloaded", "overloaded_error", "overloaded", "overloaded"},
    {ErrorKind::Unavailable, 503, 503, "unavailable", "service_unavailable_error", "unavailable",
     "unavailable"},
    {ErrorKind::Internal, 500, 500, "internal", "server_error", "internal_error", "internal_error"},
};

const ErrorKindInfo& info(ErrorKind kind) {
  for (const ErrorKindInfo& row : kErrorKinds)
    if (row.kind == kind) return row;
  return kErrorKinds[std::size(kErrorKinds) - 1];  // Internal
}

}  // namespace

int http_status(ErrorKind kind, ApiFlavor flavor) {
  return flavor == ApiFlavor::Lorax ? info(kind).lorax_status : info(kind).openai_status;
}

const char* outcome_label(ErrorKind kind) {
  return info(kind).outcome;
}

Json error_body(const ApiError& error, ApiFlavor flavor) {
  if (flavor == ApiFlavor::Lorax)
    return {{"error", error.what()}, {"error_type", info(error.kind()).lorax_type}};
  const ErrorKindInfo& row = info(error.kind());
  Json param = nullptr;
  if (error.param()) param = *error.param();
  return {{"error",
           {{"message", error.what()},
            {"type", row.openai_type},
            {"param", param},
            {"code", row.openai_code}}}};
}

}  // namespace lorax
