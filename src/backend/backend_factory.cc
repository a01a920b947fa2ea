#include "backend/backend_factory.h"

#include <charconv>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#ifdef LORAX_WITH_CUDA
#include <cuda_runtime.h>

#include "backend/cuda/cuda_backend.h"
#endif

namespace lorax {

DeviceSpec parse_device(const std::string& spec) {
  if (spec == "cpu") return {Device::CPU, 0};
  if (spec == "cuda") return {Device::CUDA, 0};
  if (spec.rfind("cuda:", 0) == 0) {
    int index = -1;
    const char* first = spec.data() + 5;
    const char* last = spec.data() + spec.size();
    const auto [end, error] = std::from_chars(first, last, index);
    if (error == std::errc() && end == last && first != last && index >= 0)
      return {Device::CUDA, index};
  }
  fail("unknown device '", spec, "': expected cpu, cuda or cuda:N");
}

bool cuda_available(std::string* why) {
#ifdef LORAX_WITH_CUDA
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaSuccess && count > 0) return true;
  if (why != nullptr)
    *why = status == cudaSuccess ? std::string("no CUDA device is present")
                                 : std::string("no usable CUDA device: ") +
                                       cudaGetErrorString(status);
  return false;
#else
  if (why != nullptr) *why = "this build has no CUDA backend (configure with nvcc present)";
  return false;
#endif
}

std::unique_ptr<Backend> make_backend(const DeviceSpec& spec, int threads) {
  if (spec.device == Device::CPU) return std::make_unique<CpuBackend>(threads);
  std::string why;
  LORAX_CHECK(cuda_available(&why), "--device cuda:", spec.index, ": ", why);
#ifdef LORAX_WITH_CUDA
  return std::make_unique<CudaBackend>(spec.index);
#else
  fail("unreachable");
#endif
}

DType activation_dtype_for(const DeviceSpec& spec, const std::string& requested) {
  LORAX_CHECK(requested == "auto" || requested == "bf16" || requested == "f32",
              "activation dtype '", requested, "': expected auto, bf16 or f32");
  if (spec.device == Device::CPU) {
    LORAX_CHECK(requested != "bf16", "the CPU backend computes in f32 activations");
    return DType::F32;
  }
  return requested == "f32" ? DType::F32 : DType::BF16;
}

}  // namespace lorax
