#include "server/api_error.h"

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

int http_status(ErrorKind kind, ApiFlavor flavor) {
  switch (kind) {
    case ErrorKind::BadRequest:
      return 400;
    case ErrorKind::Validation:
      return flavor == ApiFlavor::Lorax ? 422 : 400;
    case ErrorKind::UnknownAdapter:
    case ErrorKind::NotFound:
      return 404;
    case ErrorKind::Forbidden:
      return 403;
    case ErrorKind::Unauthorized:
      return 401;
    case ErrorKind::PayloadTooLarge:
      return 413;
    case ErrorKind::AdapterLoad:
      return 424;
    case ErrorKind::Overloaded:
      return 429;
    case ErrorKind::Unavailable:
      return 503;
    case ErrorKind::Internal:
      return 500;
  }
  return 500;
}

const char* outcome_label(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadRequest:
    case ErrorKind::Validation:
    case ErrorKind::PayloadTooLarge:
      return "validation_error";
    case ErrorKind::UnknownAdapter:
    case ErrorKind::NotFound:
      return "not_found";
    case ErrorKind::Forbidden:
      return "forbidden";
    case ErrorKind::Unauthorized:
      return "unauthorized";
    case ErrorKind::AdapterLoad:
      return "adapter_error";
    case ErrorKind::Overloaded:
      return "overloaded";
    case ErrorKind::Unavailable:
      return "unavailable";
    case ErrorKind::Internal:
      return "internal_error";
  }
  return "internal_error";
}

namespace {

// TGI's error_type words where TGI has one.
const char* lorax_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadRequest:
      return "bad_request";
    case ErrorKind::Validation:
      return "validation";
    case ErrorKind::UnknownAdapter:
    case ErrorKind::NotFound:
      return "not_found";
    case ErrorKind::Forbidden:
      return "forbidden";
    case ErrorKind::Unauthorized:
      return "authentication";
    case ErrorKind::PayloadTooLarge:
      return "payload_too_large";
    case ErrorKind::AdapterLoad:
      return "adapter";
    case ErrorKind::Overloaded:
      return "overloaded";
    case ErrorKind::Unavailable:
      return "unavailable";
    case ErrorKind::Internal:
      return "internal";
  }
  return "internal";
}

// OpenAI's (type, code) pairs: client errors are invalid_request_error with a specific code.
std::pair<const char*, const char*> openai_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadRequest:
      return {"invalid_request_error", "invalid_json"};
    case ErrorKind::Validation:
      return {"invalid_request_error", "invalid_value"};
    case ErrorKind::UnknownAdapter:
      return {"invalid_request_error", "model_not_found"};
    case ErrorKind::NotFound:
      return {"invalid_request_error", "not_found"};
    case ErrorKind::Forbidden:
      return {"invalid_request_error", "forbidden"};
    case ErrorKind::Unauthorized:
      return {"invalid_request_error", "invalid_api_key"};
    case ErrorKind::PayloadTooLarge:
      return {"invalid_request_error", "payload_too_large"};
    case ErrorKind::AdapterLoad:
      return {"adapter_error", "adapter_load_failed"};
    case ErrorKind::Overloaded:
      return {"overloaded_error", "overloaded"};
    case ErrorKind::Unavailable:
      return {"service_unavailable_error", "unavailable"};
    case ErrorKind::Internal:
      return {"server_error", "internal_error"};
  }
  return {"server_error", "internal_error"};
}

}  // namespace

Json error_body(const ApiError& error, ApiFlavor flavor) {
  if (flavor == ApiFlavor::Lorax)
    return {{"error", error.what()}, {"error_type", lorax_type(error.kind())}};
  const auto [type, code] = openai_type(error.kind());
  Json param = nullptr;
  if (error.param()) param = *error.param();
  return {{"error", {{"message", error.what()}, {"type", type}, {"param", param}, {"code", code}}}};
}

}  // namespace lorax
