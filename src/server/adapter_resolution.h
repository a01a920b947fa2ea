// What adapter_source "local" may name: a directory under the configured adapter root, found
// without leaving it. ServedAdapters resolves requests' adapters with it.
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

// Refuses (ApiError Validation naming `param`) an adapter id or path holding NUL or another
// control character: the C library would read only what precedes a NUL, and control characters
// forge log lines. Every route that takes an adapter id or path checks it before using it.
void check_adapter_name(const std::string& value, const char* param);

}  // namespace lorax
