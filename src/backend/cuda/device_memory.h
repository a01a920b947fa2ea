// RAII for CUDA resources: device and pinned host memory (as tensor storage), streams, and a
// growable device scratch buffer. Destructors never throw; a failure to free is ignored (the
// context is being torn down or already lost).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "core/tensor.h"

namespace lorax::cuda {

// Uninitialised device memory owned by the returned tensor (and its views).
Tensor device_tensor(const Shape& shape, DType dtype);
// Page-locked host memory owned by the returned tensor: the source or target of asynchronous
// copies.
Tensor pinned_tensor(const Shape& shape, DType dtype);

class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

// Device scratch that only grows, in reserve() calls outside the steps.
class DeviceScratch {
 public:
  DeviceScratch() = default;
  ~DeviceScratch();
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  void reserve(size_t bytes);  // keeps nothing of the old contents
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace lorax::cuda
