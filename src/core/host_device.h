// LORAX_HOST_DEVICE marks header code that both the host compiler and nvcc's device pass compile
// (the counter-based RNG, the sampling op's float steps), so host and device share one source.
#pragma once

#if defined(__CUDACC__)
#define LORAX_HOST_DEVICE __host__ __device__
#else
#define LORAX_HOST_DEVICE
#endif
