// Adapters by id: registered (id -> directory), loaded on first use, kept in an LRU cache bounded
// by memory. Thread-safe: the server's HTTP threads and the engine thread may ask at once; a load
// runs outside the lock so one slow adapter does not stall requests for cached ones.
//
// Evicting an adapter only drops the store's reference: sequences still running with it keep
// their shared_ptr, so eviction never disturbs a request in flight.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/lora_adapter.h"

namespace lorax {

// Bounds that keep strangers' requests from growing the store without limit.
struct AdapterLimits {
  // Adapters kept loaded at once, whatever their size: each costs metadata and upload work, and
  // adapter_source "local" lets clients name many distinct ones.
  size_t max_cached_adapters = 1024;
  // adapter_model.safetensors larger than this is refused before it is read.
  uint64_t max_file_bytes = kDefaultMaxAdapterFileBytes;
  // Registered adapters' files may be symlinks leading out of their directories
  // (--allow-adapter-symlinks). Adapters found under an adapter root never may.
  bool allow_registered_symlinks = false;
};

class AdapterStore {
 public:
  AdapterStore(const ModelConfig& base, size_t memory_budget_bytes,
               AdapterLimits limits = {});

  // Registers or re-registers an id. A changed directory drops the cached copy, so the next use
  // loads the new one.
  void register_adapter(const std::string& id, const std::string& dir);
  // An adapter that exists only in memory (the built-in demo): registered and never evicted.
  void add_resident(const std::string& id, std::shared_ptr<const LoraAdapter> adapter);
  bool is_registered(const std::string& id) const;
  std::vector<std::string> registered() const;

  // The adapter, loading it if needed. Throws lorax::Error for an unknown id or a bad adapter.
  std::shared_ptr<const LoraAdapter> get(const std::string& id);
  // An adapter named by a request rather than registered (adapter_source "local"): loaded from
  // `dir` and cached under `id`, but never registered, so forgetting it on eviction leaves
  // nothing behind and the store stays bounded however many directories clients name. No file
  // of it may lead outside `root` (the adapter root; empty: `dir` itself), symlinks included.
  std::shared_ptr<const LoraAdapter> get_unregistered(const std::string& id, const std::string& dir,
                                                      const std::string& root = {});

  size_t cached_bytes() const;
  std::vector<std::string> cached() const;  // most recently used first
  size_t memory_budget() const { return budget_; }
  const AdapterLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::string id;
    std::string dir;
    std::shared_ptr<const LoraAdapter> adapter;
  };
  // The cached copy of `id`, now the most recently used; null if none. Caller holds mutex_.
  std::shared_ptr<const LoraAdapter> find_cached(const std::string& id);
  // Loads outside the lock, then caches; with `check_registration` only while `id` is still
  // registered to `dir` (a re-registration meanwhile wins).
  std::shared_ptr<const LoraAdapter> load_and_cache(const std::string& id, const std::string& dir,
                                                    const LoraAdapter::Files& files,
                                                    bool check_registration);
  void evict_beyond_budget();  // caller holds mutex_

  const ModelConfig& base_;
  const size_t budget_;
  const AdapterLimits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> dirs_;  // id -> directory
  std::map<std::string, std::shared_ptr<const LoraAdapter>> resident_;
  std::list<Entry> lru_;  // front: most recently used
  size_t bytes_ = 0;
};

}  // namespace lorax
