#include "backend/cuda/device_memory.h"

#include "backend/cuda/cuda_check.h"

namespace lorax::cuda {

Tensor device_tensor(const Shape& shape, DType dtype) {
  const size_t bytes = size_t(shape_numel(shape)) * dtype_size(dtype);
  void* data = nullptr;
  if (bytes > 0) LORAX_CUDA_CHECK(cudaMalloc(&data, bytes));
  std::shared_ptr<void> owner(data, [](void* p) {
    if (p != nullptr) cudaFree(p);
  });
  return Tensor::borrow(data, shape, dtype, std::move(owner), Device::CUDA);
}

Tensor pinned_tensor(const Shape& shape, DType dtype) {
  const size_t bytes = size_t(shape_numel(shape)) * dtype_size(dtype);
  void* data = nullptr;
  if (bytes > 0) LORAX_CUDA_CHECK(cudaMallocHost(&data, bytes));
  std::shared_ptr<void> owner(data, [](void* p) {
    if (p != nullptr) cudaFreeHost(p);
  });
  return Tensor::borrow(data, shape, dtype, std::move(owner), Device::CPU);
}

Stream::Stream() {
  LORAX_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

Stream::~Stream() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

DeviceScratch::~DeviceScratch() {
  if (data_ != nullptr) cudaFree(data_);
}

void DeviceScratch::reserve(size_t bytes) {
  if (bytes <= bytes_) return;
  if (data_ != nullptr) LORAX_CUDA_CHECK(cudaFree(data_));
  data_ = nullptr;
  bytes_ = 0;
  LORAX_CUDA_CHECK(cudaMalloc(&data_, bytes));
  bytes_ = bytes;
}

}  // namespace lorax::cuda
