/* Private contract of the loaded-latency files (kernels_loaded.c,
 * kernels_traffic.c): the traffic kernels and the clock-based delay. */
#ifndef LNUMA_KERNELS_TRAFFIC_H
#define LNUMA_KERNELS_TRAFFIC_H

#include "kernels_internal.h"

/* The kernel of a traffic type for an ISA (not AUTO); NULL when this build
 * or CPU lacks it.  Same calling convention as the bandwidth kernels:
 * arrays a (and b) of `bytes` bytes each, a multiple of
 * LNUMA_KERNEL_GRANULE. */
lnuma__kfn lnuma__traffic_fn(int traffic, int isa);

/* The counter the delay spins on: unfenced (the spin only needs to see it
 * move), in the clock's ticks. */
static inline uint64_t lnuma__spin_ticks(const lnuma_clock *c) {
  return c != NULL ? lnuma_clock_ticks(c) : (uint64_t)lnuma_monotonic_raw_ns();
}

/* ns as ticks of the clock, rounded up (NULL: ticks are ns). */
uint64_t lnuma__ns_to_ticks(const lnuma_clock *c, uint64_t ns);

/* Spins until `ticks` ticks have passed since the counter read t0; returns
 * the counter when it stopped (so the pause is at least what was asked). */
static inline uint64_t lnuma__spin_until(const lnuma_clock *c, uint64_t t0, uint64_t ticks) {
  uint64_t t;
  do t = lnuma__spin_ticks(c);
  while (t - t0 < ticks);
  return t;
}

#endif
