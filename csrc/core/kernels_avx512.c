/* Bandwidth kernels in AVX-512F (512-bit: one vector per cache line),
 * compiled for that ISA by a target attribute and only called when the CPU
 * has it (lnuma__kernel_fn checks), so the module itself still runs on any
 * x86-64.  The loop is kernels_loop.h's. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include "kernels_internal.h"
#include "kernels_loop.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define LD(p) _mm512_load_si512((const void *)(p))
#define LDD(p) _mm512_load_pd((const void *)(p))

AVX512 static inline uint64_t avx512_read(int order, void *a, const void *b, const void *c, size_t bytes,
                                   double s) {
  (void)b, (void)c, (void)s;
  const char *x = a;
  __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
#define STEP(o, k) acc[k] = _mm512_add_epi64(acc[k], LD(x + (o)))
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  __m512i t = _mm512_add_epi64(_mm512_add_epi64(acc[0], acc[1]),
                               _mm512_add_epi64(acc[2], acc[3]));
  /* Not _mm512_reduce_add_epi64: GCC adds signed lanes there, which wraps. */
  uint64_t lanes[8], sum = 0;
  _mm512_storeu_si512(lanes, t);
  for (int k = 0; k < 8; k++) sum += lanes[k];
  return sum;
}

AVX512 static inline uint64_t avx512_write(int order, void *a, const void *b, const void *c, size_t bytes,
                                    double s) {
  (void)b, (void)c;
  char *x = a;
  __m512d v = _mm512_set1_pd(s);
#define STEP(o, k) _mm512_store_pd((void *)(x + (o)), v)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

AVX512 static inline uint64_t avx512_write_nt(int order, void *a, const void *b, const void *c, size_t bytes,
                                       double s) {
  (void)b, (void)c;
  char *x = a;
  __m512d v = _mm512_set1_pd(s);
#define STEP(o, k) _mm512_stream_pd((void *)(x + (o)), v)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  _mm_sfence();
  return 0;
}

AVX512 static inline uint64_t avx512_copy(int order, void *a, const void *b, const void *c, size_t bytes,
                                   double s) {
  (void)c, (void)s;
  char *x = a;
  const char *y = b;
#define STEP(o, k) _mm512_store_si512((void *)(x + (o)), LD(y + (o)))
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

AVX512 static inline uint64_t avx512_copy_nt(int order, void *a, const void *b, const void *c, size_t bytes,
                                      double s) {
  (void)c, (void)s;
  char *x = a;
  const char *y = b;
#define STEP(o, k) _mm512_stream_si512((void *)(x + (o)), LD(y + (o)))
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  _mm_sfence();
  return 0;
}

AVX512 static inline uint64_t avx512_triad(int order, void *a, const void *b, const void *c, size_t bytes,
                                    double s) {
  char *x = a;
  const char *y = b, *z = c;
  __m512d vs = _mm512_set1_pd(s);
#define STEP(o, k) _mm512_store_pd((void *)(x + (o)), _mm512_fmadd_pd(vs, LDD(z + (o)), LDD(y + (o))))
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

LNUMA__KORDERS(AVX512, avx512_read)
LNUMA__KORDERS(AVX512, avx512_write)
LNUMA__KORDERS(AVX512, avx512_write_nt)
LNUMA__KORDERS(AVX512, avx512_copy)
LNUMA__KORDERS(AVX512, avx512_copy_nt)
LNUMA__KORDERS(AVX512, avx512_triad)

const lnuma__kfn lnuma__kernels_avx512[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT] =
    LNUMA__KTABLE(avx512_read, avx512_write, avx512_write_nt, avx512_copy, avx512_copy_nt, avx512_triad);
#else
const lnuma__kfn lnuma__kernels_avx512[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT] = {{0}};
#endif
