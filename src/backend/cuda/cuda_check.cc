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
  const std::string message =
      detail::error_message("CUDA error ", cudaGetErrorName(status), " (",
                            cudaGetErrorString(status), ") in ", expr, " at ", file, ":", line);
  if (is_sticky(status)) throw DeviceLostError(message + "; the CUDA context is unusable");
  throw Error(message);
}

void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line) {
  const std::string message =
      detail::error_message("cuBLAS error ", cublasLtGetStatusName(status), " (",
                            cublasLtGetStatusString(status), ") in ", expr, " at ", file, ":", line);
  if (status == CUBLAS_STATUS_EXECUTION_FAILED) throw DeviceLostError(message);
  throw Error(message);
}

}  // namespace lorax::cuda
