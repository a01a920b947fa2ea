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

class AdapterStore {
 public:
  AdapterStore(const ModelConfig& base, Backend& backend, size_t memory_budget_bytes);

  // Registers or re-registers an id. A changed directory drops the cached copy, so the next use
  // loads the new one.
  void register_adapter(const std::string& id, const std::string& dir);
  // An adapter that exists only in memory (the built-in demo): registered and never evicted.
  void add_resident(const std::string& id, std::shared_ptr<const LoraAdapter> adapter);
  bool is_registered(const std::string& id) const;
  std::vector<std::string> registered() const;

  // The adapter, loading it if needed. Throws lorax::Error for an unknown id or a bad adapter.
  std::shared_ptr<const LoraAdapter> get(const std::string& id);

  size_t cached_bytes() const;
  std::vector<std::string> cached() const;  // most recently used first
  size_t memory_budget() const { return budget_; }

 private:
  struct Entry {
    std::string id;
    std::string dir;
    std::shared_ptr<const LoraAdapter> adapter;
  };
  void evict_beyond_budget();  // caller holds mutex_

  const ModelConfig& base_;
  Backend& backend_;
  const size_t budget_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> dirs_;  // id -> directory
  std::map<std::string, std::shared_ptr<const LoraAdapter>> resident_;
  std::list<Entry> lru_;                     // front: most recently used
  size_t bytes_ = 0;
};

}  // namespace lorax
