// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel Random
// Numbers: As Easy as 1, 2, 3" (SC 2011), with the constants of Random123 and cuRAND.
//
// A counter-based generator has no state to carry: the n-th number of a stream is a pure
// function of (key, n). Sampling keys it by the request's seed and counts by the token's index,
// so a draw does not depend on which other requests share the batch or on which backend runs it,
// and it can be replayed. Integer arithmetic only: host and device give the same bits.
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace lorax {

struct Philox4x32Block {
  uint32_t x[4];
};

// The ten-round bijection of one 128-bit counter block under a 64-bit key (k0, k1).
LORAX_HOST_DEVICE inline Philox4x32Block philox4x32_10(Philox4x32Block ctr, uint32_t k0,
                                                       uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u;  // round multipliers
  constexpr uint32_t kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u;  // Weyl key increments (golden ratio, sqrt(3) - 1)
  constexpr uint32_t kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(kM0) * ctr.x[0];
    const uint64_t p1 = uint64_t(kM1) * ctr.x[2];
    ctr = Philox4x32Block{{uint32_t(p1 >> 32) ^ ctr.x[1] ^ k0, uint32_t(p1),
                           uint32_t(p0 >> 32) ^ ctr.x[3] ^ k1, uint32_t(p0)}};
    k0 += kW0;  // the key of the next round (the bump after the last one is unused)
    k1 += kW1;
  }
  return ctr;
}

// The block for (seed, counter): key = seed's (low, high) words, counter = (counter's low, high
// words, 0, 0).
LORAX_HOST_DEVICE inline Philox4x32Block philox_block(uint64_t seed, uint64_t counter) {
  return philox4x32_10(Philox4x32Block{{uint32_t(counter), uint32_t(counter >> 32), 0u, 0u}},
                       uint32_t(seed), uint32_t(seed >> 32));
}

// A float in [0, 1): the top 24 bits of the block's first word, times 2^-24. Every step is exact
// (a 24-bit integer converts to float exactly; the scale is a power of two), so host and device
// return the same value, and 1.0 cannot come out of rounding.
LORAX_HOST_DEVICE inline float philox_uniform(uint64_t seed, uint64_t counter) {
  return float(philox_block(seed, counter).x[0] >> 8) * 0x1p-24f;
}

}  // namespace lorax
