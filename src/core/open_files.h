// The process's limit on open files. Every connection (served, or held by a load generator or a
// test) is a file descriptor, and the default soft limit (often 1024) is far below what a server
// holding thousands of connections needs.
#pragma once

#include <cstddef>

namespace lorax {

// Raises the soft limit on open files to the hard limit; returns the limit now in force
// (1 << 20 when unlimited, 1024 when it cannot be read).
size_t raise_open_file_limit();

}  // namespace lorax
