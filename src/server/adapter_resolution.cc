#include "server/adapter_resolution.h"

#include <filesystem>

namespace lorax {

namespace fs = std::filesystem;

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

}  // namespace lorax
