#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace lorax {

std::string shape_string(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape) LORAX_CHECK(d >= 0, "negative dimension in shape ", shape_string(shape));
  const size_t bytes = size_t(shape_numel(shape)) * dtype_size(dtype);
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* data = rounded ? std::aligned_alloc(64, rounded) : nullptr;
  LORAX_CHECK(rounded == 0 || data != nullptr, "out of host memory allocating ", bytes, " bytes");
  std::shared_ptr<void> owner(data, [](void* p) { std::free(p); });
  return Tensor(data, shape, dtype, Device::CPU, std::move(owner));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  if (t.nbytes()) std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::borrow(void* data, const Shape& shape, DType dtype, std::shared_ptr<void> owner,
                      Device device) {
  return Tensor(data, shape, dtype, device, std::move(owner));
}

Tensor Tensor::reshape(const Shape& shape) const {
  LORAX_CHECK(shape_numel(shape) == numel(), "cannot reshape ", describe(), " to ",
              shape_string(shape));
  return Tensor(data_, shape, dtype_, device_, owner_);
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  LORAX_CHECK(ndim() >= 1 && 0 <= begin && begin <= end && end <= shape_[0], "rows [", begin, ", ",
              end, ") out of range for ", describe());
  Shape shape = shape_;
  shape[0] = end - begin;
  const size_t row_bytes = shape_[0] ? nbytes() / size_t(shape_[0]) : 0;
  return Tensor(static_cast<char*>(data_) + size_t(begin) * row_bytes, shape, dtype_, device_,
                owner_);
}

Tensor Tensor::clone() const {
  LORAX_CHECK(device_ == Device::CPU, "clone() of a device tensor");
  Tensor copy = empty(shape_, dtype_);
  if (nbytes()) std::memcpy(copy.raw(), data_, nbytes());
  return copy;
}

std::string Tensor::describe() const {
  return std::string(dtype_name(dtype_)) + shape_string(shape_);
}

}  // namespace lorax
