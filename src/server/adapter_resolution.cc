#include "server/adapter_resolution.h"

#include <filesystem>

namespace lorax {

namespace fs = std::filesystem;

void check_adapter_name(const std::string& value, const char* param) {
  for (size_t i = 0; i < value.size(); ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    if (byte >= 0x20 && byte != 0x7f) continue;
    throw ApiError(ErrorKind::Validation,
                   std::string("`") + param + "` must not contain " +
                       (byte == 0 ? std::string("a NUL byte")
                                  : "control characters (" + printable(value.substr(i, 1)) + ")") +
                       " (at byte " + std::to_string(i) + ")",
                   param);
  }
}

std::string local_adapter_dir(const std::string& root, const std::string& id) {
  check_adapter_name(id, "adapter_id");
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
    throw ApiError(ErrorKind::Internal, "the adapter root is not readable: " + error.message());
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
