#include "model/rope.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lorax {

namespace {

std::vector<double> default_inv_freq(double base, int64_t dim) {
  std::vector<double> inv(size_t(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) inv[i] = 1.0 / std::pow(base, double(2 * i) / double(dim));
  return inv;
}

void apply_llama3(std::vector<double>& inv, const RopeScaling& s) {
  const double old_context = double(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_context / s.low_freq_factor;
  const double high_freq_wavelen = old_context / s.high_freq_factor;
  for (double& f : inv) {
    const double wavelen = 2.0 * M_PI / f;
    if (wavelen > low_freq_wavelen) {
      f = f / s.factor;  // long wavelengths: interpolate fully
    } else if (wavelen >= high_freq_wavelen) {
      // medium band: blend between interpolated and original
      const double smooth =
          (old_context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      f = (1.0 - smooth) * f / s.factor + smooth * f;
    }
  }
}

double yarn_mscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

RopeFrequencies yarn(const ModelConfig& c, int64_t dim) {
  const RopeScaling& s = c.rope;
  const double base = c.rope_theta;
  double factor = s.factor;
  RopeFrequencies out;
  if (s.attention_factor) {
    out.attention_scaling = *s.attention_factor;
  } else if (s.mscale && s.mscale_all_dim) {
    out.attention_scaling = yarn_mscale(factor, *s.mscale) / yarn_mscale(factor, *s.mscale_all_dim);
  } else {
    out.attention_scaling = yarn_mscale(factor, 1.0);
  }
  const double original = double(s.original_max_position_embeddings);
  auto correction_dim = [&](double rotations) {
    return (double(dim) * std::log(original / (rotations * 2.0 * M_PI))) / (2.0 * std::log(base));
  };
  double low = correction_dim(s.beta_fast);
  double high = correction_dim(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(dim - 1));
  if (low == high) high += 0.001;  // avoid a zero-width ramp
  out.inv_freq.resize(size_t(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) {
    const double pos_freq = std::pow(base, double(2 * i) / double(dim));
    const double extrapolation = 1.0 / pos_freq;
    const double interpolation = 1.0 / (factor * pos_freq);
    const double ramp = std::clamp((double(i) - low) / (high - low), 0.0, 1.0);
    const double extrapolation_factor = 1.0 - ramp;
    out.inv_freq[i] =
        interpolation * (1.0 - extrapolation_factor) + extrapolation * extrapolation_factor;
  }
  return out;
}

}  // namespace

RopeFrequencies rope_frequencies(const ModelConfig& c, int64_t seq_len) {
  const int64_t dim = c.head_dim;
  const RopeScaling& s = c.rope;
  RopeFrequencies out;
  switch (s.type) {
    case RopeScaling::Type::Default:
      out.inv_freq = default_inv_freq(c.rope_theta, dim);
      break;
    case RopeScaling::Type::Linear:
      out.inv_freq = default_inv_freq(c.rope_theta, dim);
      for (double& f : out.inv_freq) f /= s.factor;
      break;
    case RopeScaling::Type::Dynamic: {
      const double max_pos = double(s.original_max_position_embeddings);
      const double len = std::max(double(seq_len), max_pos);
      const double base = c.rope_theta * std::pow(s.factor * len / max_pos - (s.factor - 1.0),
                                                  double(dim) / double(dim - 2));
      out.inv_freq = default_inv_freq(base, dim);
      break;
    }
    case RopeScaling::Type::Llama3:
      out.inv_freq = default_inv_freq(c.rope_theta, dim);
      apply_llama3(out.inv_freq, s);
      break;
    case RopeScaling::Type::Yarn:
      return yarn(c, dim);
  }
  return out;
}

int64_t rope_table_positions(const ModelConfig& c) {
  int64_t positions = c.max_position_embeddings;
  if (c.rope.type == RopeScaling::Type::Dynamic)
    positions = std::max<int64_t>(
        positions, int64_t(double(c.rope.original_max_position_embeddings) * c.rope.factor));
  return positions;
}

Tensor rope_cos_sin_table(const ModelConfig& c) {
  const int64_t positions = rope_table_positions(c);
  const RopeFrequencies freq = rope_frequencies(c, positions);
  const int64_t D = c.head_dim;
  const int64_t half = D / 2;
  Tensor table = Tensor::empty({positions, D}, DType::F32);
  float* data = table.data<float>();
  // Angles are formed in f32 as transformers does (inv_freq.float() @ positions.float()), even
  // for f64 models, so long positions round the way the reference does.
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const double angle = double(float(freq.inv_freq[i]) * float(p));
      data[p * D + i] = float(std::cos(angle) * freq.attention_scaling);
      data[p * D + half + i] = float(std::sin(angle) * freq.attention_scaling);
    }
  return table;
}

}  // namespace lorax
