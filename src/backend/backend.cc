#include "backend/backend.h"

#include <cstring>

#include "core/error.h"

namespace lorax {

Tensor Backend::upload_i32(const std::vector<int32_t>& values) {
  Tensor host = Tensor::empty({int64_t(values.size())}, DType::I32);
  if (!values.empty()) std::memcpy(host.raw(), values.data(), values.size() * sizeof(int32_t));
  return upload(host);
}

void Backend::begin_step_graph() {
  fail(name(), " cannot record step graphs");
}

std::unique_ptr<StepGraph> Backend::end_step_graph() {
  fail(name(), " cannot record step graphs");
}

}  // namespace lorax
