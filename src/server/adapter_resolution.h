// Which adapter a request runs with: the base model, a registered adapter, or (adapter_source
// "local") a directory under the configured adapter root. Looking one up may load it; a load
// failure is that request's error (424) and nobody else's.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "adapters/adapter_store.h"
#include "server/api_error.h"
#include "server/validation.h"

namespace lorax {

struct ResolvedAdapter {
  std::shared_ptr<const LoraAdapter> adapter;  // null: the base model
  std::string label;  // "base", the registered id, or "local:<dir under the root>"
};

// The canonical directory adapter_source "local" means by `id`. Refuses (ApiError Forbidden)
// absolute paths, ".." components and symlinks that lead outside `root`; a directory that does
// not exist is ApiError UnknownAdapter.
std::string local_adapter_dir(const std::string& root, const std::string& id);

// `flavor` picks the wording of "not found" (OpenAI clients name adapters as `model`).
ResolvedAdapter resolve_adapter(const AdapterSpec& spec, AdapterStore& store,
                                const std::optional<std::string>& adapter_root, ApiFlavor flavor);

}  // namespace lorax

namespace lorax {

// The metrics/log label of a request's adapter before it is resolved: "base", a registered id,
// or "unknown" (raw client strings never become label values).
std::string adapter_label(const AdapterSpec& spec, const AdapterStore& store);

}  // namespace lorax
