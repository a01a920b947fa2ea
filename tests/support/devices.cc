#include "support/devices.h"

#include <cstring>

#include "backend/cpu/elementwise.h"
#include "core/error.h"

namespace lorax::testing {

std::vector<TestDevice> all_test_devices() {
  std::vector<TestDevice> out = {{"cpu", {Device::CPU, 0}, DType::F32}};
  for (const TestDevice& d : gpu_test_devices()) out.push_back(d);
  return out;
}

std::vector<TestDevice> gpu_test_devices() {
  return {{"cuda-f32", {Device::CUDA, 0}, DType::F32},
          {"cuda-bf16", {Device::CUDA, 0}, DType::BF16}};
}

std::string unavailable_reason(const TestDevice& device) {
  if (device.spec.device == Device::CPU) return "";
  std::string why;
  return cuda_available(&why) ? "" : "GPU test skipped: " + why;
}

std::unique_ptr<Backend> make_test_backend(const TestDevice& device) {
  return make_backend(device.spec, 2);
}

namespace {

Tensor narrow(const Tensor& host_f32, DType dtype) {
  Tensor out = Tensor::empty(host_f32.shape(), dtype);
  for (int64_t i = 0; i < host_f32.numel(); ++i) {
    const float v = host_f32.data<float>()[i];
    switch (dtype) {
      case DType::F32:
        out.data<float>()[i] = v;
        break;
      case DType::BF16:
        out.data<uint16_t>()[i] = f32_to_bf16(v);
        break;
      case DType::F16:
        out.data<uint16_t>()[i] = f32_to_f16(v);
        break;
      case DType::F8E4M3:
        out.data<uint8_t>()[i] = f32_to_f8e4m3(v);
        break;
      default:
        fail("test tensors: cannot narrow to ", dtype_name(dtype));
    }
  }
  return out;
}

Tensor widen_all(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i)
    out.data<float>()[i] = cpu::load_as_f32(t.raw(), t.dtype(), i);
  return out;
}

}  // namespace

Tensor put(Backend& backend, const Tensor& host_f32, DType dtype) {
  // upload() shares host memory on the CPU: always hand it a fresh tensor.
  Tensor host = narrow(host_f32, dtype);
  return backend.upload(host);
}

Tensor fetch_f32(Backend& backend, const Tensor& tensor) {
  return widen_all(backend.download(tensor));
}

Tensor round_to(const Tensor& host_f32, DType dtype) {
  return widen_all(narrow(host_f32, dtype));
}

double nmse(const Tensor& a, const Tensor& b) {
  LORAX_CHECK(a.numel() == b.numel(), "nmse: ", a.describe(), " vs ", b.describe());
  double err = 0, ref = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = double(a.data<float>()[i]) - b.data<float>()[i];
    err += d * d;
    ref += double(b.data<float>()[i]) * b.data<float>()[i];
  }
  return ref > 0 ? err / ref : err;
}

}  // namespace lorax::testing
