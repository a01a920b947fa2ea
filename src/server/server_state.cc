#include "server/server_state.h"

#include <chrono>
#include <cstdio>
#include <random>

namespace lorax {

ServerState::ServerState(ServerContext server_context)
    : context(std::move(server_context)),
      metrics(context.limits),
      adapters(context.adapters, context.adapter_root),
      constraints(tokenizer()) {
  started_unix = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  std::random_device device;
  char hex[16];
  std::snprintf(hex, sizeof(hex), "%08x", unsigned(device()));
  instance = hex;
  const bool chunked = context.service.options().engine.chunked_prefill;
  context.service.set_step_observer(
      [this, chunked](const StepReport& report) { metrics.observe_step(report, chunked); });
}

ServerState::~ServerState() {
  context.service.set_step_observer({});  // returns once no step is being reported to metrics
}

std::string ServerState::openai_id(const char* kind, uint64_t request_id) const {
  return std::string(kind) + "-" + instance + std::to_string(request_id);
}

}  // namespace lorax
