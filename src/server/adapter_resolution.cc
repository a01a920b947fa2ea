#include "server/adapter_resolution.h"

#include <filesystem>

namespace lorax {

namespace fs = std::filesystem;

namespace {

std::string registered_list(const AdapterStore& store) {
  std::string list;
  for (const std::string& id : store.registered()) list += (list.empty() ? "" : ", ") + id;
  return list.empty() ? "none" : list;
}

// Loads (or finds cached) an adapter: registered, or with `dir` one a request names (local). A
// broken one fails only this request.
ResolvedAdapter load(AdapterStore& store, const std::string& id,
                     const std::optional<std::string>& dir = std::nullopt) {
  try {
    return {dir ? store.get_unregistered(id, *dir) : store.get(id), id};
  } catch (const Error& e) {
    // The store's message names the adapter and its directory already.
    throw ApiError(ErrorKind::AdapterLoad, std::string("failed to load: ") + e.what(),
                   "adapter_id");
  }
}

}  // namespace

std::string local_adapter_dir(const std::string& root, const std::string& id) {
  const fs::path relative(id);
  if (relative.empty() || relative.is_absolute())
    throw ApiError(ErrorKind::Forbidden,
                   "local adapter '" + id + "' must be a path relative to the adapter root",
                   "adapter_id");
  for (const fs::path& part : relative)
    if (part == "..")
      throw ApiError(
          ErrorKind::Forbidden,
          "local adapter '" + id + "' must not contain '..': it must stay inside the adapter root",
          "adapter_id");
  std::error_code error;
  const fs::path base = fs::canonical(root, error);
  if (error)
    throw ApiError(ErrorKind::Internal,
                   "the adapter root '" + root + "' is not readable: " + error.message());
  const fs::path dir = fs::canonical(base / relative, error);
  if (error || !fs::is_directory(dir))
    throw ApiError(ErrorKind::UnknownAdapter,
                   "no adapter directory '" + id + "' under the adapter root", "adapter_id");
  // Symlinks are resolved by canonical(): what matters is where the path really leads.
  const std::string base_text = base.string() + "/";
  if (dir.string().rfind(base_text, 0) != 0)
    throw ApiError(ErrorKind::Forbidden,
                   "local adapter '" + id + "' resolves outside the adapter root", "adapter_id");
  return dir.string();
}

ResolvedAdapter resolve_adapter(const AdapterSpec& spec, AdapterStore& store,
                                const std::optional<std::string>& adapter_root, ApiFlavor flavor) {
  if (!spec.id) return {nullptr, "base"};
  const std::string& id = *spec.id;
  if (spec.source == AdapterSpec::Source::Local) {
    if (!adapter_root)
      throw ApiError(ErrorKind::Validation,
                     "adapter_source \"local\" is disabled: the server has no adapter root",
                     "adapter_source");
    const std::string dir = local_adapter_dir(*adapter_root, id);
    const std::string key =
        "local:" + fs::path(dir).lexically_relative(fs::canonical(*adapter_root)).string();
    return load(store, key, dir);
  }
  if (store.is_registered(id)) return load(store, id);
  if (flavor == ApiFlavor::OpenAi)
    throw ApiError(ErrorKind::UnknownAdapter, "The model `" + id + "` does not exist.", "model");
  throw ApiError(ErrorKind::UnknownAdapter,
                 "adapter '" + id +
                     "' is not registered with this server (registered: " + registered_list(store) +
                     "); adapters are not downloaded from the hub, use a registered id or "
                     "adapter_source \"local\"",
                 "adapter_id");
}

}  // namespace lorax

namespace lorax {

std::string adapter_label(const AdapterSpec& spec, const AdapterStore& store) {
  if (!spec.id) return "base";
  if (spec.source == AdapterSpec::Source::Registry && store.is_registered(*spec.id))
    return *spec.id;
  return "unknown";
}

}  // namespace lorax
