#include "adapters/adapter_store.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace lorax {

AdapterStore::AdapterStore(const ModelConfig& base, size_t memory_budget_bytes,
                           AdapterLimits limits)
    : base_(base), budget_(memory_budget_bytes), limits_(limits) {
  LORAX_CHECK(limits_.max_cached_adapters > 0, "the adapter cache must hold at least one adapter");
}

void AdapterStore::register_adapter(const std::string& id, const std::string& dir) {
  LORAX_CHECK(!id.empty(), "adapter id must not be empty");
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = dirs_.find(id);
  if (it != dirs_.end() && it->second == dir) return;
  dirs_[id] = dir;
  resident_.erase(id);
  for (auto e = lru_.begin(); e != lru_.end(); ++e)
    if (e->id == id) {  // stale copy from the old directory
      bytes_ -= e->adapter->nbytes();
      lru_.erase(e);
      break;
    }
}

void AdapterStore::add_resident(const std::string& id, std::shared_ptr<const LoraAdapter> adapter) {
  LORAX_CHECK(!id.empty() && adapter, "a resident adapter needs an id and weights");
  std::lock_guard<std::mutex> lock(mutex_);
  dirs_.erase(id);
  resident_[id] = std::move(adapter);
}

bool AdapterStore::is_registered(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dirs_.count(id) != 0 || resident_.count(id) != 0;
}

std::vector<std::string> AdapterStore::registered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [id, dir] : dirs_) out.push_back(id);
  for (const auto& [id, adapter] : resident_) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<const LoraAdapter> AdapterStore::get(const std::string& id) {
  std::string dir;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto r = resident_.find(id); r != resident_.end()) return r->second;
    auto known = dirs_.find(id);
    LORAX_CHECK(known != dirs_.end(), "unknown adapter '", id, "'");
    dir = known->second;
    if (auto cached = find_cached(id)) return cached;
  }
  LoraAdapter::Files files;
  files.max_file_bytes = limits_.max_file_bytes;
  files.follow_symlinks_anywhere = limits_.allow_registered_symlinks;
  return load_and_cache(id, dir, files, /*check_registration=*/true);
}

std::shared_ptr<const LoraAdapter> AdapterStore::get_unregistered(const std::string& id,
                                                                  const std::string& dir,
                                                                  const std::string& root) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto cached = find_cached(id)) return cached;
  }
  LoraAdapter::Files files;
  files.max_file_bytes = limits_.max_file_bytes;
  files.root = root;
  return load_and_cache(id, dir, files, /*check_registration=*/false);
}

std::shared_ptr<const LoraAdapter> AdapterStore::find_cached(const std::string& id) {
  for (auto e = lru_.begin(); e != lru_.end(); ++e)
    if (e->id == id) {
      lru_.splice(lru_.begin(), lru_, e);  // now the most recently used
      return e->adapter;
    }
  return nullptr;
}

std::shared_ptr<const LoraAdapter> AdapterStore::load_and_cache(const std::string& id,
                                                                const std::string& dir,
                                                                const LoraAdapter::Files& files,
                                                                bool check_registration) {
  auto adapter = LoraAdapter::load(id, dir, base_, files);
  LORAX_CHECK(adapter->nbytes() <= budget_, "adapter '", printable(id), "' needs ",
              adapter->nbytes(), " bytes, more than the adapter memory budget (", budget_, ")");
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Entry& e : lru_)
    if (e.id == id) return e.adapter;  // another thread loaded it meanwhile
  if (check_registration) {
    auto known = dirs_.find(id);
    if (known == dirs_.end() || known->second != dir) return adapter;  // changed: do not cache
  }
  lru_.push_front({id, dir, adapter});
  bytes_ += adapter->nbytes();
  evict_beyond_budget();
  return adapter;
}

void AdapterStore::evict_beyond_budget() {
  while ((bytes_ > budget_ || lru_.size() > limits_.max_cached_adapters) && lru_.size() > 1) {
    const Entry& victim = lru_.back();
    log_info("evicting adapter '", victim.id, "' (", victim.adapter->nbytes() / 1024,
             " KiB) from the adapter cache");
    bytes_ -= victim.adapter->nbytes();
    lru_.pop_back();
  }
}

size_t AdapterStore::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

std::vector<std::string> AdapterStore::cached() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& e : lru_) out.push_back(e.id);
  return out;
}

}  // namespace lorax
