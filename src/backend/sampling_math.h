// The float steps of the sampling op, shared by the CPU reference (backend/sampling.cc) and the
// CUDA kernels (backend/cuda/sampling.cu) so that both round every step the same way and a seeded
// draw picks the same token on both. backend/sampling.h says how the steps fit together.
//
// Each helper is one IEEE-754 binary32 operation rounded to nearest-even, never fused with
// another: nvcc contracts a * b + c into an FMA in device code unless told not to (the __f*_rn
// intrinsics are never contracted), and host files that use these helpers for results that must
// match the device are built with -ffp-contract=off. No library transcendental is used: expf
// differs in the last bit between glibc and CUDA, so weights come from exp_nonpositive() below.
// Neither side may flush subnormals to zero (no --use_fast_math, -ftz=true or -ffast-math).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/host_device.h"

namespace lorax::sampling_math {

LORAX_HOST_DEVICE inline float add(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

LORAX_HOST_DEVICE inline float sub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

LORAX_HOST_DEVICE inline float mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

LORAX_HOST_DEVICE inline float div(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

LORAX_HOST_DEVICE inline float abs(float a) {
#if defined(__CUDA_ARCH__)
  return fabsf(a);
#else
  return std::fabs(a);
#endif
}

// Round to the nearest integer, ties to even (exact).
LORAX_HOST_DEVICE inline float round_even(float a) {
#if defined(__CUDA_ARCH__)
  return rintf(a);
#else
  return std::rint(a);
#endif
}

LORAX_HOST_DEVICE inline uint32_t float_bits(float a) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(a);
#else
  uint32_t bits;
  std::memcpy(&bits, &a, sizeof bits);
  return bits;
#endif
}

LORAX_HOST_DEVICE inline float bits_float(uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float a;
  std::memcpy(&a, &bits, sizeof a);
  return a;
#endif
}

// NaN counts as -inf: it never wins and gets no probability, and comparisons stay a total order.
LORAX_HOST_DEVICE inline float sanitize(float logit) {
  return logit != logit ? -INFINITY : logit;
}

// One token's penalties, in SamplingParams' order: `seen` anywhere in the history (repetition),
// `generated` occurrences among the generated tokens (frequency, presence).
LORAX_HOST_DEVICE inline float penalise(float logit, bool seen, int32_t generated, float repetition,
                                        float frequency, float presence) {
  if (repetition != 1.0f && seen)
    logit = logit > 0.0f ? div(logit, repetition) : mul(logit, repetition);
  if ((frequency != 0.0f || presence != 0.0f) && generated > 0)
    logit = sub(logit, add(mul(frequency, float(generated)), presence));
  return logit;
}

// A candidate's logit relative to the best one, over the temperature: <= 0, and exactly 0 for
// the best (and its ties), even when the best is infinite.
LORAX_HOST_DEVICE inline float scaled_logit(float logit, float best, float temperature) {
  return logit == best ? 0.0f : div(sub(logit, best), temperature);
}

// exp(x) for x <= 0: the unnormalised weight of a candidate (the best one weighs exactly 1).
// Cephes' expf (Cody-Waite reduction by ln 2 split in two, a degree-7 polynomial; about 1 ulp)
// written with the helpers above. Below -80 it is 0: such a weight is under 2e-35 of the best
// one's, below the resolution of any sum that holds the best. Near 0 it is 1, which keeps
// subnormal x out of the polynomial. x > 0 is clamped to 1 (callers never pass it).
LORAX_HOST_DEVICE inline float exp_nonpositive(float x) {
  if (!(x >= -80.0f)) return 0.0f;                           // NaN too
  if (x > -0x1p-25f) return 1.0f;                            // |x| under half an ulp of 1
  const float n = round_even(mul(x, 1.44269504088896341f));  // in [-115, 0]
  float r = sub(x, mul(n, 0.693359375f));  // n * 0.693359375 is exact (9 significant bits)
  r = sub(r, mul(n, -2.12194440e-4f));
  const float z = mul(r, r);
  float p = 1.9875691500e-4f;
  p = add(mul(p, r), 1.3981999507e-3f);
  p = add(mul(p, r), 8.3334519073e-3f);
  p = add(mul(p, r), 4.1665795894e-2f);
  p = add(mul(p, r), 1.6666665459e-1f);
  p = add(mul(p, r), 5.0000001201e-1f);
  p = add(add(mul(p, z), r), 1.0f);
  // 2^n with n >= -115 is a normal float, and so is p * 2^n (p > 0.7).
  return mul(p, bits_float(uint32_t(int32_t(n) + 127) << 23));
}

// The device sort key of a (sanitized) logit: ascending keys are descending logits, and -0 and
// +0 get the same key (they compare equal, so their order falls to the id).
LORAX_HOST_DEVICE inline uint32_t descending_logit_key(float logit) {
  const uint32_t bits = float_bits(logit == 0.0f ? 0.0f : logit);
  const uint32_t ascending = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  return ~ascending;
}

// ---- Sums in a fixed order -------------------------------------------------------------------
// The sum of a[0, n) is a tree of groups of 32: level 0 sums each run of 32 consecutive values
// left to right starting from 0.0f; level 1 sums each run of 32 consecutive level-0 sums the same
// way; and so on until one value is left, the total. A GPU block computes the groups of a level
// in parallel, each group in one thread, and gets the same bits as a serial loop.
//
// The prefix mass M(i) is the total of the same tree over a[0, i] with a[i+1, n) set to 0.
// Adding +0.0f changes nothing, so M(i) = E_L(i) + (... + (E_1(i) + R_0(i))), where R_0(i) is
// the running sum of a's level-0 group up to and including a[i], and E_l(i) the running sum of
// the level-l values before the one that holds a[i], within its group. For values >= 0, M is
// non-decreasing in i and M(n - 1) is the total.
//
// Layout: `run` holds R_0 for a[0, n). `tree` holds, for each level l >= 1 with more than one
// value, its values then their exclusive running sums E_l (2 * n_l floats), then the total.

constexpr int kSumGroupLog2 = 5;
constexpr int64_t kSumGroup = int64_t(1) << kSumGroupLog2;

// Values at the next level up for `count` values at this one.
LORAX_HOST_DEVICE inline int64_t sum_groups(int64_t count) {
  return (count + kSumGroup - 1) / kSumGroup;
}

// Floats of `tree` for n values (n >= 1); grows with n.
LORAX_HOST_DEVICE inline int64_t sum_tree_floats(int64_t n) {
  int64_t floats = 1;
  for (int64_t count = sum_groups(n); count > 1; count = sum_groups(count)) floats += 2 * count;
  return floats;
}

// Sum of level-0 group g of a[0, n), writing the running sums R_0 to `run` when not null.
LORAX_HOST_DEVICE inline float sum_leaf_group(const float* a, int64_t n, int64_t g, float* run) {
  const int64_t end = (g + 1) * kSumGroup < n ? (g + 1) * kSumGroup : n;
  float sum = 0.0f;
  for (int64_t i = g * kSumGroup; i < end; ++i) {
    sum = add(sum, a[i]);
    if (run) run[i] = sum;
  }
  return sum;
}

// Sum of group g of the `count` values v of a level >= 1, writing the exclusive running sums to
// `excl` when not null.
LORAX_HOST_DEVICE inline float sum_inner_group(const float* v, int64_t count, int64_t g,
                                               float* excl) {
  const int64_t end = (g + 1) * kSumGroup < count ? (g + 1) * kSumGroup : count;
  float sum = 0.0f;
  for (int64_t j = g * kSumGroup; j < end; ++j) {
    if (excl) excl[j] = sum;
    sum = add(sum, v[j]);
  }
  return sum;
}

// M(i) for the tree of n values whose running sums were kept.
LORAX_HOST_DEVICE inline float prefix_mass(int64_t i, int64_t n, const float* run,
                                           const float* tree) {
  float mass = run[i];
  int64_t offset = 0;
  int shift = 0;
  for (int64_t count = sum_groups(n); count > 1; count = sum_groups(count)) {
    shift += kSumGroupLog2;
    mass = add(tree[offset + count + (i >> shift)], mass);
    offset += 2 * count;
  }
  return mass;
}

}  // namespace lorax::sampling_math
