// The devices tests run on: the CPU reference always, CUDA in its two activation modes where the
// build has the CUDA backend and a GPU is present. GPU tests skip cleanly, saying why, elsewhere.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "backend/backend_factory.h"

namespace lorax::testing {

struct TestDevice {
  std::string name;  // "cpu", "cuda-f32", "cuda-bf16": also the gtest parameter name
  DeviceSpec spec;
  DType activation = DType::F32;
};

// gtest prints the device by name, not as bytes.
inline void PrintTo(const TestDevice& device, std::ostream* out) { *out << device.name; }

// Every device of the list, whether present or not (tests skip absent ones).
std::vector<TestDevice> all_test_devices();
std::vector<TestDevice> gpu_test_devices();
// Empty when the device can run here; else why not (the skip message).
std::string unavailable_reason(const TestDevice& device);
std::unique_ptr<Backend> make_test_backend(const TestDevice& device);

// Host f32 data converted to `dtype` (f32, bf16, f16) and put on the backend's device.
Tensor put(Backend& backend, const Tensor& host_f32, DType dtype);
// A tensor of the backend's device, back on the host widened to f32.
Tensor fetch_f32(Backend& backend, const Tensor& tensor);
// Rounds host f32 data to `dtype` and back: the values a reduced-precision input really holds.
Tensor round_to(const Tensor& host_f32, DType dtype);
// Normalized mean squared error sum((a - b)^2) / sum(b^2) of two f32 host tensors (llama.cpp's
// test-backend-ops measure).
double nmse(const Tensor& a, const Tensor& b);

}  // namespace lorax::testing
