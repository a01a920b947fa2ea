#include "backend/cpu/lora.h"

#include "backend/cpu/linear.h"
#include "core/error.h"

namespace lorax::cpu {

void lora(ThreadPool& pool, const Tensor& x, const std::vector<LoraSegment>& segments,
          int64_t column, Tensor& y) {
  const int64_t in = x.dim(-1);
  const int64_t width = y.dim(-1);
  for (const LoraSegment& s : segments) {
    const LoraWeights& w = *s.weights;
    const int64_t rows = s.end - s.begin;
    const int64_t out = w.b.dim(0);
    LORAX_CHECK(w.a.dim(1) == in && column + out <= width && s.begin >= 0 && s.end <= y.dim(0),
                "lora: segment does not fit x ", x.describe(), " / y ", y.describe());
    if (rows <= 0) continue;
    Tensor shrunk = Tensor::empty({rows, w.rank()}, DType::F32);
    linear(pool, x.rows(s.begin, s.end), w.a, shrunk);
    Tensor expanded = Tensor::empty({rows, out}, DType::F32);
    linear(pool, shrunk, w.b, expanded);
    float* dst = y.data<float>();
    const float* src = expanded.data<float>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < out; ++c)
        dst[(s.begin + r) * width + column + c] += w.scale * src[r * out + c];
  }
}

}  // namespace lorax::cpu
