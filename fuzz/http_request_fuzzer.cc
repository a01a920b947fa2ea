// Request bodies of every endpoint, through the code the server runs on them: the body parser,
// the endpoint's validator, and (for a refused request) the error body written back. The first
// byte picks the endpoint: /generate, /generate_stream, /v1/completions, /v1/chat/completions,
// /tokenize. Every refusal must be an ApiError; anything else escaping is a bug.
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "server/api_error.h"
#include "server/validation.h"

namespace {

void validate(uint8_t endpoint, const lorax::Json& body, const lorax::ServerLimits& limits) {
  switch (endpoint) {
    case 0:
      lorax::parse_lorax_generate(body, limits, false);
      break;
    case 1:
      lorax::parse_lorax_generate(body, limits, true);
      break;
    case 2:
      lorax::parse_completion(body, limits);
      break;
    case 3:
      lorax::parse_chat(body, limits);
      break;
    default:
      lorax::parse_tokenize(body);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lorax::ServerLimits limits;
  const auto [endpoint, body] = lorax::fuzz::select_mode(data, size, 5);
  try {
    validate(endpoint, lorax::parse_json_body(std::string(body)), limits);
  } catch (const lorax::ApiError& e) {
    const auto flavor =
        endpoint == 2 || endpoint == 3 ? lorax::ApiFlavor::OpenAi : lorax::ApiFlavor::Lorax;
    lorax::dump_json(lorax::error_body(e, flavor));
  }
  return 0;
}
