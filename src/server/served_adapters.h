// The adapters this server serves, on top of the AdapterStore: what a request's adapter spec
// means (registered, local, or loaded at run time), the pinned adapters that are never evicted
// (--preloaded-adapter-ids, and those loaded through vLLM's /v1/load_lora_adapter), and per-adapter
// statistics for /metrics.
//
// Adapters are read from disk on the HTTP thread of the request (or API call) that needs them,
// outside every lock: a slow or broken adapter delays only the requests that name it, never other
// adapters' requests and never the engine thread, which receives loaded adapters with requests.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/adapter_store.h"
#include "server/adapter_resolution.h"
#include "server/metrics.h"

namespace lorax {

class ServedAdapters {
 public:
  ServedAdapters(AdapterStore& store, std::optional<std::string> adapter_root);

  // Loads an adapter once and keeps it for the server's life: a registered id, or with an
  // adapter root, a directory under it. Throws ApiError (AdapterLoad, UnknownAdapter) naming the
  // adapter, its file and what is wrong.
  void preload(const std::string& id);
  // The adapter a request runs with (may load it). Throws ApiError UnknownAdapter, Forbidden,
  // Validation, AdapterLoad.
  ResolvedAdapter resolve(const AdapterSpec& spec, ApiFlavor flavor);
  // The metrics/log label of a request's adapter before it is resolved: "base", a known id, or
  // "unknown" (raw client strings never become label values).
  std::string label(const AdapterSpec& spec) const;

  // vLLM's /v1/load_lora_adapter: loads the adapter at `path` (absolute or relative to the
  // adapter root, and inside it) and serves it as `name` until unloaded. Throws ApiError:
  // Validation (name taken), Forbidden (outside the root), UnknownAdapter, AdapterLoad.
  void load(const std::string& name, const std::string& path);
  // Stops serving an adapter loaded with load(); requests running with it finish with it.
  void unload(const std::string& name);
  // Names loaded with load(), sorted.
  std::vector<std::string> loaded_names() const;

  std::map<std::string, AdapterStats> stats() const;
  const std::optional<std::string>& root() const { return root_; }

 private:
  struct Pinned {
    std::shared_ptr<const LoraAdapter> adapter;
    bool unloadable = false;  // loaded through the API (preloaded ones stay)
  };
  std::optional<ResolvedAdapter> pinned(const std::string& name);
  // Loads through the store, timing it and counting a hit or a miss for `label`.
  std::shared_ptr<const LoraAdapter> fetch(const std::string& label, const std::string& key,
                                           const std::optional<std::string>& dir);
  std::string local_key(const std::string& dir) const;

  AdapterStore& store_;
  const std::optional<std::string> root_;
  mutable std::mutex mutex_;
  std::map<std::string, Pinned> pinned_;        // name -> adapter
  std::map<std::string, AdapterStats> counts_;  // label -> hits, misses, load time
};

}  // namespace lorax
