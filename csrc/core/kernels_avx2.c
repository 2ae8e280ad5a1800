/* Bandwidth kernels in AVX2 (256-bit), compiled for that ISA by a target
 * attribute and only called when the CPU has it (lnuma__kernel_fn checks), so
 * the module itself still runs on any x86-64.  The loop is kernels_loop.h's. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include "kernels_internal.h"
#include "kernels_loop.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))
#define LD(p) _mm256_load_si256((const __m256i *)(p))
#define LDD(p) _mm256_load_pd((const double *)(p))

AVX2 static inline uint64_t avx2_read(int order, void *a, const void *b, const void *c, size_t bytes,
                               double s) {
  (void)b, (void)c, (void)s;
  const char *x = a;
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
#define STEP(o, k)                                                                       \
  acc[k] = _mm256_add_epi64(acc[k], _mm256_add_epi64(LD(x + (o)), LD(x + (o) + 32)))
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  __m256i t = _mm256_add_epi64(_mm256_add_epi64(acc[0], acc[1]),
                               _mm256_add_epi64(acc[2], acc[3]));
  __m128i h = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
  return (uint64_t)_mm_cvtsi128_si64(h) + (uint64_t)_mm_extract_epi64(h, 1);
}

AVX2 static inline uint64_t avx2_write(int order, void *a, const void *b, const void *c, size_t bytes,
                                double s) {
  (void)b, (void)c;
  char *x = a;
  __m256d v = _mm256_set1_pd(s);
#define STEP(o, k)                                                                       \
  do {                                                                                   \
    _mm256_store_pd((double *)(x + (o)), v);                                             \
    _mm256_store_pd((double *)(x + (o) + 32), v);                                        \
  } while (0)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

AVX2 static inline uint64_t avx2_write_nt(int order, void *a, const void *b, const void *c, size_t bytes,
                                   double s) {
  (void)b, (void)c;
  char *x = a;
  __m256d v = _mm256_set1_pd(s);
#define STEP(o, k)                                                                       \
  do {                                                                                   \
    _mm256_stream_pd((double *)(x + (o)), v);                                            \
    _mm256_stream_pd((double *)(x + (o) + 32), v);                                       \
  } while (0)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  _mm_sfence();
  return 0;
}

#define COPY_STEP(STORE, o)                                                              \
  do {                                                                                   \
    __m256i v0_ = LD(y + (o)), v1_ = LD(y + (o) + 32);                                   \
    STORE((__m256i *)(x + (o)), v0_);                                                    \
    STORE((__m256i *)(x + (o) + 32), v1_);                                               \
  } while (0)

AVX2 static inline uint64_t avx2_copy(int order, void *a, const void *b, const void *c, size_t bytes,
                               double s) {
  (void)c, (void)s;
  char *x = a;
  const char *y = b;
#define STEP(o, k) COPY_STEP(_mm256_store_si256, o)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

AVX2 static inline uint64_t avx2_copy_nt(int order, void *a, const void *b, const void *c, size_t bytes,
                                  double s) {
  (void)c, (void)s;
  char *x = a;
  const char *y = b;
#define STEP(o, k) COPY_STEP(_mm256_stream_si256, o)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  _mm_sfence();
  return 0;
}

AVX2 static inline uint64_t avx2_triad(int order, void *a, const void *b, const void *c, size_t bytes,
                                double s) {
  char *x = a;
  const char *y = b, *z = c;
  __m256d vs = _mm256_set1_pd(s);
#define STEP(o, k)                                                                       \
  do {                                                                                   \
    _mm256_store_pd((double *)(x + (o)),                                                 \
                    _mm256_add_pd(LDD(y + (o)), _mm256_mul_pd(vs, LDD(z + (o)))));       \
    _mm256_store_pd((double *)(x + (o) + 32),                                            \
                    _mm256_add_pd(LDD(y + (o) + 32), _mm256_mul_pd(vs, LDD(z + (o) + 32)))); \
  } while (0)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

LNUMA__KORDERS(AVX2, avx2_read)
LNUMA__KORDERS(AVX2, avx2_write)
LNUMA__KORDERS(AVX2, avx2_write_nt)
LNUMA__KORDERS(AVX2, avx2_copy)
LNUMA__KORDERS(AVX2, avx2_copy_nt)
LNUMA__KORDERS(AVX2, avx2_triad)

const lnuma__kfn lnuma__kernels_avx2[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT] =
    LNUMA__KTABLE(avx2_read, avx2_write, avx2_write_nt, avx2_copy, avx2_copy_nt, avx2_triad);
#else
const lnuma__kfn lnuma__kernels_avx2[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT] = {{0}};
#endif
