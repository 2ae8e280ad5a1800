/* Private contract between the kernel files of csrc/core (never installed):
 * the per-ISA kernel tables, the one timing function the kernels use, and
 * the small helpers the team-based measurements share. */
#ifndef LNUMA_KERNELS_INTERNAL_H
#define LNUMA_KERNELS_INTERNAL_H

#include "internal.h"

/* One pass of a bandwidth kernel over arrays of `bytes` bytes each. */
typedef uint64_t (*lnuma__kfn)(void *a, const void *b, const void *c, size_t bytes,
                               double s);

/* The kernels of each ISA, indexed by [order - 1][lnuma_kernel] (orders
 * LINEAR, SPLIT, PAGES); an ISA that this build lacks (non-x86) has NULLs. */
#define LNUMA__KORDER_COUNT 3
extern const lnuma__kfn lnuma__kernels_c[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT];
extern const lnuma__kfn lnuma__kernels_sse2[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT];
extern const lnuma__kfn lnuma__kernels_avx2[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT];
extern const lnuma__kfn lnuma__kernels_avx512[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT];

/* The kernel function for (kernel, isa, order), AUTO resolved for both;
 * NULL when the ISA is not supported here or an argument is out of range. */
lnuma__kfn lnuma__kernel_fn_order(int kernel, int isa, int order);
/* The same in this CPU's best order for the kernel. */
lnuma__kfn lnuma__kernel_fn(int kernel, int isa);

/* The clock of the kernels: every timed region reads kt_start() before and
 * kt_stop() after it and converts the difference with kt_ns().  They read
 * the caller's lnuma clock (TSC where invariant, fenced), or
 * CLOCK_MONOTONIC_RAW when the caller passes none; this is the one place
 * that knows. */
static inline uint64_t lnuma__kt_start(const lnuma_clock *c) {
  return c != NULL ? lnuma_clock_start(c) : (uint64_t)lnuma_monotonic_raw_ns();
}
static inline uint64_t lnuma__kt_stop(const lnuma_clock *c) {
  return c != NULL ? lnuma_clock_stop(c) : (uint64_t)lnuma_monotonic_raw_ns();
}
static inline uint64_t lnuma__kt_ns(const lnuma_clock *c, uint64_t ticks) {
  return c != NULL ? lnuma_clock_to_ns(c, ticks) : ticks;
}
/* ns elapsed since the ticks t0 of lnuma__kt_start(). */
static inline uint64_t lnuma__kt_since(const lnuma_clock *c, uint64_t t0) {
  return lnuma__kt_ns(c, lnuma__kt_stop(c) - t0);
}

/* Writes every byte of [p, p + n) (first touch / initialisation), pattern
 * chosen so that doubles read back as small finite numbers. */
void lnuma__ktouch(void *p, size_t n, double value);

/* Spins for about `iterations` cheap iterations (the loaded-latency delay). */
void lnuma__kdelay(uint64_t iterations);

/* Size of what one thread streams per array when `size` bytes are split
 * among n threads for a kernel with `arrays` arrays: a multiple of 4 KiB
 * from 16 KiB up (the PAGES walk's group), else of LNUMA_KERNEL_GRANULE. */
size_t lnuma__kshare(size_t size, int n, int arrays);

/* Bytes to leave out at the start of memory off a page, so that the shares
 * above start on pages (0 when it is on a page, or too small for it). */
size_t lnuma__kskip(const void *mem, size_t size, int n, int arrays);

#endif
