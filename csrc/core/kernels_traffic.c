/* The traffic of the loaded-latency measurement: what each type reads and
 * writes, and the kernels the bandwidth tables lack (read-modify-write in
 * place, 2:1 and 1:1), in portable C that the compiler vectorises for the
 * baseline ISA and, on x86-64, again for AVX2 and AVX-512. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <math.h>
#include <string.h>

#include "kernels_traffic.h"

static const lnuma_traffic_info traffic_info[LNUMA_TRAFFIC_COUNT] = {
    [LNUMA_TRAFFIC_READ] = {"read", 1, 1, 0, 0, 0},
    [LNUMA_TRAFFIC_RW2_1] = {"rw2:1", 2, 2, 1, 0, 0},
    [LNUMA_TRAFFIC_RW1_1] = {"rw1:1", 1, 1, 1, 0, 0},
    [LNUMA_TRAFFIC_WRITE] = {"write", 1, 0, 1, 1, 0},
    [LNUMA_TRAFFIC_WRITE_NT] = {"write_nt", 1, 0, 1, 0, 1},
    [LNUMA_TRAFFIC_COPY] = {"copy", 2, 1, 1, 1, 0},
};

const lnuma_traffic_info *lnuma_traffic_get(int traffic) {
  return traffic >= 0 && traffic < LNUMA_TRAFFIC_COUNT ? &traffic_info[traffic] : NULL;
}

int lnuma_traffic_from_name(const char *name) {
  if (name == NULL) return -1;
  for (int t = 0; t < LNUMA_TRAFFIC_COUNT; t++)
    if (strcmp(traffic_info[t].name, name) == 0) return t;
  return -1;
}

/* ---- read-modify-write kernels ---------------------------------------------- */

/* a += b over 64-bit words: each line of a is read before it is written, so
 * no write-allocate read is added: 2 reads, 1 write. */
#define RW21_BODY                                                                        \
  uint64_t *restrict x = a;                                                              \
  const uint64_t *restrict y = b;                                                        \
  (void)c, (void)s;                                                                      \
  for (size_t i = 0; i < bytes / 8; i++) x[i] += y[i];                                   \
  return 0;

/* a += 1: 1 read, 1 write. */
#define RW11_BODY                                                                        \
  uint64_t *restrict x = a;                                                              \
  (void)b, (void)c, (void)s;                                                             \
  for (size_t i = 0; i < bytes / 8; i++) x[i] += 1;                                      \
  return 0;

#define RW_KERNELS(sfx, attr)                                                            \
  attr static uint64_t rw21_##sfx(void *a, const void *b, const void *c, size_t bytes,   \
                                  double s) {                                            \
    RW21_BODY                                                                            \
  }                                                                                      \
  attr static uint64_t rw11_##sfx(void *a, const void *b, const void *c, size_t bytes,   \
                                  double s) {                                            \
    RW11_BODY                                                                            \
  }

RW_KERNELS(c, )
#if defined(__x86_64__) && defined(__GNUC__)
RW_KERNELS(avx2, __attribute__((target("avx2"))))
RW_KERNELS(avx512, __attribute__((target("avx512f"))))
#endif

lnuma__kfn lnuma__traffic_fn(int traffic, int isa) {
  if (!lnuma_isa_supported(isa) || isa == LNUMA_ISA_AUTO) return NULL;
  switch (traffic) {
  case LNUMA_TRAFFIC_READ: return lnuma__kernel_fn(LNUMA_KERNEL_READ, isa);
  case LNUMA_TRAFFIC_WRITE: return lnuma__kernel_fn(LNUMA_KERNEL_WRITE, isa);
  case LNUMA_TRAFFIC_WRITE_NT: return lnuma__kernel_fn(LNUMA_KERNEL_WRITE_NT, isa);
  case LNUMA_TRAFFIC_COPY: return lnuma__kernel_fn(LNUMA_KERNEL_COPY, isa);
  case LNUMA_TRAFFIC_RW2_1:
  case LNUMA_TRAFFIC_RW1_1: {
    int two = traffic == LNUMA_TRAFFIC_RW2_1;
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == LNUMA_ISA_AVX512) return two ? rw21_avx512 : rw11_avx512;
    if (isa == LNUMA_ISA_AVX2) return two ? rw21_avx2 : rw11_avx2;
#endif
    return two ? rw21_c : rw11_c; /* C and SSE2: the baseline ISA */
  }
  default: return NULL;
  }
}

/* ---- the delay -------------------------------------------------------------- */

uint64_t lnuma__ns_to_ticks(const lnuma_clock *c, uint64_t ns) {
  if (c == NULL || ns == 0) return ns;
  /* to_ns is ticks * mult >> 32, so ticks = ns * 2^32 / mult. */
  uint64_t mult = lnuma_clock_mult(c);
  double t = ceil((double)ns * 4294967296.0 / (double)(mult ? mult : 1));
  return t >= 1.8e19 ? UINT64_MAX : (uint64_t)t;
}
