// Gemma: RMSNorm multiplies by (1 + w), embeddings are scaled by sqrt(hidden_size), the MLP is
// tanh-GELU gated (from config), head_dim is explicit and the head is tied to the embeddings.
#include "model/architecture.h"

namespace lorax {

const Architecture& gemma_architecture() {
  static const Architecture arch{"gemma", 1.0f, true, false};
  return arch;
}

}  // namespace lorax
