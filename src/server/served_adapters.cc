#include "server/served_adapters.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace lorax {

namespace fs = std::filesystem;

namespace {

std::string registered_list(const AdapterStore& store) {
  std::string list;
  for (const std::string& id : store.registered()) list += (list.empty() ? "" : ", ") + id;
  return list.empty() ? "none" : list;
}

ApiError load_failure(const Error& e) {
  // The store's message names the adapter, its directory and the file at fault.
  return ApiError(ErrorKind::AdapterLoad, std::string("failed to load: ") + e.what(), "adapter_id");
}

}  // namespace

ServedAdapters::ServedAdapters(AdapterStore& store, std::optional<std::string> adapter_root)
    : store_(store), root_(std::move(adapter_root)) {}

std::string ServedAdapters::local_key(const std::string& dir) const {
  return "local:" + fs::path(dir).lexically_relative(fs::canonical(*root_)).string();
}

std::shared_ptr<const LoraAdapter> ServedAdapters::fetch(const std::string& label,
                                                         const std::string& key,
                                                         const std::optional<std::string>& dir) {
  const std::vector<std::string> cached = store_.cached();
  const bool hit = std::find(cached.begin(), cached.end(), key) != cached.end();
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const LoraAdapter> adapter;
  try {
    // Adapters found under the root read no file outside it; registered ones, none outside
    // their own directories unless the operator allowed it.
    adapter = dir ? store_.get_unregistered(key, *dir, *root_) : store_.get(key);
  } catch (const Error& e) {
    throw load_failure(e);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard<std::mutex> lock(mutex_);
  AdapterStats& s = counts_[label];
  if (hit) {
    ++s.cache_hits;
  } else {
    ++s.cache_misses;
    s.load_seconds = seconds;
  }
  return adapter;
}

std::optional<ResolvedAdapter> ServedAdapters::pinned(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = pinned_.find(name);
  if (it == pinned_.end()) return std::nullopt;
  ++counts_[name].cache_hits;
  return ResolvedAdapter{it->second.adapter, name};
}

void ServedAdapters::preload(const std::string& id) {
  check_adapter_name(id, "adapter_id");
  std::shared_ptr<const LoraAdapter> adapter;
  if (store_.is_registered(id)) {
    adapter = fetch(id, id, std::nullopt);
  } else if (root_) {
    adapter = fetch(id, local_key(local_adapter_dir(*root_, id)), local_adapter_dir(*root_, id));
  } else {
    throw ApiError(ErrorKind::UnknownAdapter,
                   "preloaded adapter '" + id + "' is not registered (registered: " +
                       registered_list(store_) + ") and there is no adapter root to find it in");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  pinned_[id] = {adapter, false};
}

ResolvedAdapter ServedAdapters::resolve(const AdapterSpec& spec, ApiFlavor flavor) {
  if (!spec.id) return {nullptr, "base"};
  const std::string& id = *spec.id;
  check_adapter_name(id, flavor == ApiFlavor::OpenAi ? "model" : "adapter_id");
  if (spec.source == AdapterSpec::Source::Local) {
    if (!root_)
      throw ApiError(ErrorKind::Validation,
                     "adapter_source \"local\" is disabled: the server has no adapter root",
                     "adapter_source");
    const std::string dir = local_adapter_dir(*root_, id);
    const std::string key = local_key(dir);
    return {fetch(key, key, dir), key};
  }
  if (auto found = pinned(id)) return *found;
  if (store_.is_registered(id)) return {fetch(id, id, std::nullopt), id};
  if (flavor == ApiFlavor::OpenAi)
    throw ApiError(ErrorKind::UnknownAdapter, "The model `" + id + "` does not exist.", "model");
  throw ApiError(ErrorKind::UnknownAdapter,
                 "adapter '" + id + "' is not registered with this server (registered: " +
                     registered_list(store_) +
                     "); adapters are not downloaded from the hub, use a registered id or "
                     "adapter_source \"local\"",
                 "adapter_id");
}

std::string ServedAdapters::label(const AdapterSpec& spec) const {
  if (!spec.id) return "base";
  if (spec.source == AdapterSpec::Source::Local) return "unknown";
  if (store_.is_registered(*spec.id)) return *spec.id;
  std::lock_guard<std::mutex> lock(mutex_);
  return pinned_.count(*spec.id) ? *spec.id : "unknown";
}

void ServedAdapters::load(const std::string& name, const std::string& path) {
  if (name.empty()) throw ApiError(ErrorKind::Validation, "`lora_name` must not be empty");
  check_adapter_name(name, "lora_name");
  check_adapter_name(path, "lora_path");
  if (!root_)
    throw ApiError(ErrorKind::Validation,
                   "loading adapters at run time needs --adapter-root: paths must lie under it",
                   "lora_path");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pinned_.count(name) || store_.is_registered(name))
      throw ApiError(ErrorKind::Validation,
                     "The lora adapter '" + name + "' has already been loaded.", "lora_name");
  }
  // An absolute path is accepted when it leads under the root, like a relative one.
  fs::path relative(path);
  if (relative.is_absolute()) {
    relative = relative.lexically_normal().lexically_relative(fs::absolute(*root_));
    if (relative.empty() || *relative.begin() == "..")
      throw ApiError(ErrorKind::Forbidden, "lora_path '" + path + "' is outside the adapter root",
                     "lora_path");
  }
  const std::string dir = local_adapter_dir(*root_, relative.empty() ? path : relative.string());
  auto adapter = fetch(name, "loaded:" + name, dir);  // read outside the lock
  std::lock_guard<std::mutex> lock(mutex_);
  if (!pinned_.emplace(name, Pinned{adapter, true}).second)
    throw ApiError(ErrorKind::Validation,
                   "The lora adapter '" + name + "' has already been loaded.", "lora_name");
}

void ServedAdapters::unload(const std::string& name) {
  check_adapter_name(name, "lora_name");
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = pinned_.find(name);
  if (it == pinned_.end())
    throw ApiError(ErrorKind::NotFound, "The lora adapter '" + name + "' cannot be found.",
                   "lora_name");
  if (!it->second.unloadable)
    throw ApiError(ErrorKind::Validation,
                   "The lora adapter '" + name + "' was preloaded and is never unloaded.",
                   "lora_name");
  pinned_.erase(it);
}

std::vector<std::string> ServedAdapters::loaded_names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, entry] : pinned_)
    if (entry.unloadable) names.push_back(name);
  return names;
}

std::map<std::string, AdapterStats> ServedAdapters::stats() const {
  const std::vector<std::string> cached = store_.cached();
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, AdapterStats> out = counts_;
  for (const std::string& id : store_.registered()) out[id];  // listed even before first use
  for (const std::string& key : cached) out[key].loaded = true;
  for (const auto& [name, entry] : pinned_) {
    out[name].loaded = true;
    out[name].pinned = true;
  }
  // adapters loaded through the API are cached in the store under "loaded:<name>"
  for (auto it = out.begin(); it != out.end();)
    it = it->first.rfind("loaded:", 0) == 0 ? out.erase(it) : std::next(it);
  return out;
}

}  // namespace lorax
