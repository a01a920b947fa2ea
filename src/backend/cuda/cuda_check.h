// Checks for every CUDA runtime, cuBLAS(Lt) and kernel-launch call, with file and line.
//
// A failed call throws lorax::Error naming the call, file and line; errors that leave the context
// unusable (sticky errors such as an illegal address or a launch failure) throw
// lorax::DeviceLostError, on which the engine stops the server with a clear log line rather than
// failing one step and serving on.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include "core/error.h"

namespace lorax {

namespace cuda {
bool is_sticky(cudaError_t status);
[[noreturn]] void throw_cuda_error(cudaError_t status, const char* expr, const char* file,
                                   int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file,
                                     int line);
}  // namespace cuda

}  // namespace lorax

#define LORAX_CUDA_CHECK(expr)                                                          \
  do {                                                                                  \
    const cudaError_t lorax_status_ = (expr);                                           \
    if (lorax_status_ != cudaSuccess)                                                   \
      ::lorax::cuda::throw_cuda_error(lorax_status_, #expr, __FILE__, __LINE__);        \
  } while (0)

#define LORAX_CUBLAS_CHECK(expr)                                                        \
  do {                                                                                  \
    const cublasStatus_t lorax_status_ = (expr);                                        \
    if (lorax_status_ != CUBLAS_STATUS_SUCCESS)                                         \
      ::lorax::cuda::throw_cublas_error(lorax_status_, #expr, __FILE__, __LINE__);      \
  } while (0)

// After a kernel launch: reports a bad launch configuration at once (asynchronous faults are
// reported by the next synchronizing call).
#define LORAX_CUDA_CHECK_LAUNCH() LORAX_CUDA_CHECK(cudaGetLastError())
