#include "model/architecture.h"

#include "core/error.h"

namespace lorax {

const Architecture& architecture_for(const std::string& model_type) {
  if (model_type == "llama") return llama_architecture();
  if (model_type == "gemma") return gemma_architecture();
  fail("unsupported model_type '", model_type, "' (supported: llama, gemma)");
}

}  // namespace lorax
