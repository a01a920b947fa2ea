#include "backend/cuda/cuda_check.h"

namespace lorax::cuda {

bool is_sticky(cudaError_t status) {
  switch (status) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorHardwareStackError:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorLaunchTimeout:
    case cudaErrorUnknown:
      return true;
    default:
      return false;
  }
}

void throw_cuda_error(cudaError_t status, const char* expr, const char* file, int line) {
  const bool fatal = is_sticky(status);
  throw CudaError(detail::error_message("CUDA error ", cudaGetErrorName(status), " (",
                                        cudaGetErrorString(status), ") in ", expr, " at ", file,
                                        ":", line, fatal ? "; the CUDA context is unusable" : ""),
                  fatal);
}

void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line) {
  throw CudaError(detail::error_message("cuBLAS error ", cublasLtGetStatusName(status), " (",
                                        cublasLtGetStatusString(status), ") in ", expr, " at ",
                                        file, ":", line),
                  status == CUBLAS_STATUS_EXECUTION_FAILED);
}

}  // namespace lorax::cuda
