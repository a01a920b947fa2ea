// Making a backend from a device name, as the commands' --device flag spells it: "cpu",
// "cuda" (GPU 0) or "cuda:N".
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"

namespace lorax {

struct DeviceSpec {
  Device device = Device::CPU;
  int index = 0;
};

// Throws lorax::Error naming the spec when it is not one of the forms above.
DeviceSpec parse_device(const std::string& spec);

// True when this build has the CUDA backend and a GPU is present; otherwise false with the
// reason in *why (for tests that skip, and for the error of --device cuda).
bool cuda_available(std::string* why = nullptr);

// threads: CPU worker threads (the CPU backend; 0 = all). Throws lorax::Error when the device
// cannot be used (a build without CUDA, no GPU, a GPU index that does not exist).
std::unique_ptr<Backend> make_backend(const DeviceSpec& spec, int threads);

// The activation dtype for a device: f32 on the CPU; on CUDA bf16, or f32 when asked ("auto",
// "bf16", "f32").
DType activation_dtype_for(const DeviceSpec& spec, const std::string& requested);

}  // namespace lorax
