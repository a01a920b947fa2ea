// Llama family (Llama 1/2/3, Mistral-style dense models with the same tensor names): plain RMSNorm
// (x * w), unscaled embeddings, SiLU-gated MLP, untied or tied head.
#include "model/architecture.h"

namespace lorax {

const Architecture& llama_architecture() {
  static const Architecture arch{"llama", 0.0f, false, true};
  return arch;
}

}  // namespace lorax
