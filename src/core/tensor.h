// Tensor: a contiguous, row-major block of elements with a shape, dtype and device.
//
// Storage is shared and reference-counted: a tensor may own its memory (an aligned host block,
// a device allocation) or borrow it from something kept alive alongside (an mmap'd checkpoint,
// for zero-copy weights). Views (reshape, row ranges) share the storage. Every tensor is
// contiguous; ops that need strides take explicit row counts instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace lorax {

enum class Device : uint8_t { CPU, CUDA };

using Shape = std::vector<int64_t>;
std::string shape_string(const Shape& shape);
int64_t shape_numel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;

  // Uninitialised host memory, 64-byte aligned (cache line, AVX-512 vector).
  static Tensor empty(const Shape& shape, DType dtype);
  static Tensor zeros(const Shape& shape, DType dtype);
  // Wraps memory owned by `owner` (kept alive as long as any view exists). No copy.
  static Tensor borrow(void* data, const Shape& shape, DType dtype, std::shared_ptr<void> owner,
                       Device device = Device::CPU);

  bool defined() const { return data_ != nullptr || numel() == 0; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : size_t(i)); }
  int ndim() const { return int(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }

  void* raw() const { return data_; }
  template <typename T>
  T* data() const {
    return static_cast<T*>(data_);
  }

  // Same storage, new shape with the same element count.
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) along the first dimension, sharing storage.
  Tensor rows(int64_t begin, int64_t end) const;
  // A deep copy into fresh host memory.
  Tensor clone() const;
  std::string describe() const;  // "bf16[64, 128]"

 private:
  Tensor(void* data, Shape shape, DType dtype, Device device, std::shared_ptr<void> owner)
      : data_(data),
        shape_(std::move(shape)),
        dtype_(dtype),
        device_(device),
        owner_(std::move(owner)) {}

  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::F32;
  Device device_ = Device::CPU;
  std::shared_ptr<void> owner_;
};

}  // namespace lorax
