/* Bandwidth kernels in portable C (the compiler vectorises each 64-byte step
 * for the baseline ISA) and, on x86-64, in SSE2 with non-temporal stores.
 * Arrays are 64-byte aligned and a multiple of LNUMA_KERNEL_GRANULE bytes;
 * the loop is kernels_loop.h's. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <string.h>

#include "kernels_internal.h"
#include "kernels_loop.h"

/* ---- portable C ----------------------------------------------------------- */

static inline uint64_t c_read(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c, (void)s;
  const uint64_t *x = a; /* offsets are bytes: word (o) / 8 */
  uint64_t acc[4][8] = {{0}};
#define STEP(o, k)                                                                       \
  for (int w_ = 0; w_ < 8; w_++) acc[k][w_] += x[(o) / 8 + w_]
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  uint64_t sum = 0;
  for (int k = 0; k < 4; k++)
    for (int w = 0; w < 8; w++) sum += acc[k][w];
  return sum;
}

static inline uint64_t c_write(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c;
  double *x = a;
#define STEP(o, k)                                                                       \
  for (int w_ = 0; w_ < 8; w_++) x[(o) / 8 + w_] = s
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

static inline uint64_t c_copy(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)c, (void)s;
  char *x = a;
  const char *y = b;
#define STEP(o, k) memcpy(x + (o), y + (o), 64)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

static inline uint64_t c_triad(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  double *restrict x = a;
  const double *restrict y = b, *restrict z = c;
#define STEP(o, k)                                                                       \
  for (int w_ = 0; w_ < 8; w_++) x[(o) / 8 + w_] = y[(o) / 8 + w_] + s * z[(o) / 8 + w_]
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

/* Plain C has no portable non-temporal store: the _nt kernels store normally. */
LNUMA__KORDERS(, c_read)
LNUMA__KORDERS(, c_write)
LNUMA__KORDERS(, c_copy)
LNUMA__KORDERS(, c_triad)

const lnuma__kfn lnuma__kernels_c[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT] =
    LNUMA__KTABLE(c_read, c_write, c_write, c_copy, c_copy, c_triad);

/* ---- SSE2 (x86-64 baseline) ----------------------------------------------- */

#if defined(__x86_64__)
#include <immintrin.h>

#define LD(p) _mm_load_si128((const __m128i *)(p))
#define LDD(p) _mm_load_pd((const double *)(p))

static inline uint64_t sse2_read(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c, (void)s;
  const char *x = a;
  __m128i acc[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(),
                    _mm_setzero_si128()};
#define STEP(o, k)                                                                       \
  acc[k] = _mm_add_epi64(_mm_add_epi64(acc[k], _mm_add_epi64(LD(x + (o)), LD(x + (o) + 16))), \
                         _mm_add_epi64(LD(x + (o) + 32), LD(x + (o) + 48)))
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  __m128i t = _mm_add_epi64(_mm_add_epi64(acc[0], acc[1]), _mm_add_epi64(acc[2], acc[3]));
  return (uint64_t)_mm_cvtsi128_si64(t) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(t, t));
}

static inline uint64_t sse2_write(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c;
  char *x = a;
  __m128d v = _mm_set1_pd(s);
#define STEP(o, k)                                                                       \
  do {                                                                                   \
    _mm_store_pd((double *)(x + (o)), v);                                                \
    _mm_store_pd((double *)(x + (o) + 16), v);                                           \
    _mm_store_pd((double *)(x + (o) + 32), v);                                           \
    _mm_store_pd((double *)(x + (o) + 48), v);                                           \
  } while (0)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

static inline uint64_t sse2_write_nt(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c;
  char *x = a;
  __m128d v = _mm_set1_pd(s);
#define STEP(o, k)                                                                       \
  do {                                                                                   \
    _mm_stream_pd((double *)(x + (o)), v);                                               \
    _mm_stream_pd((double *)(x + (o) + 16), v);                                          \
    _mm_stream_pd((double *)(x + (o) + 32), v);                                          \
    _mm_stream_pd((double *)(x + (o) + 48), v);                                          \
  } while (0)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  _mm_sfence();
  return 0;
}

#define COPY_STEP(STORE, o)                                                              \
  do {                                                                                   \
    __m128i v0_ = LD(y + (o)), v1_ = LD(y + (o) + 16);                                   \
    __m128i v2_ = LD(y + (o) + 32), v3_ = LD(y + (o) + 48);                              \
    STORE((__m128i *)(x + (o)), v0_);                                                    \
    STORE((__m128i *)(x + (o) + 16), v1_);                                               \
    STORE((__m128i *)(x + (o) + 32), v2_);                                               \
    STORE((__m128i *)(x + (o) + 48), v3_);                                               \
  } while (0)

static inline uint64_t sse2_copy(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)c, (void)s;
  char *x = a;
  const char *y = b;
#define STEP(o, k) COPY_STEP(_mm_store_si128, o)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

static inline uint64_t sse2_copy_nt(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)c, (void)s;
  char *x = a;
  const char *y = b;
#define STEP(o, k) COPY_STEP(_mm_stream_si128, o)
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  _mm_sfence();
  return 0;
}

static inline uint64_t sse2_triad(int order, void *a, const void *b, const void *c, size_t bytes, double s) {
  char *x = a;
  const char *y = b, *z = c;
  __m128d vs = _mm_set1_pd(s);
#define STEP(o, k)                                                                       \
  for (int w_ = 0; w_ < 64; w_ += 16)                                                    \
  _mm_store_pd((double *)(x + (o) + w_),                                                 \
               _mm_add_pd(LDD(y + (o) + w_), _mm_mul_pd(vs, LDD(z + (o) + w_))))
  LNUMA__KLOOP(order, bytes, STEP);
#undef STEP
  return 0;
}

LNUMA__KORDERS(, sse2_read)
LNUMA__KORDERS(, sse2_write)
LNUMA__KORDERS(, sse2_write_nt)
LNUMA__KORDERS(, sse2_copy)
LNUMA__KORDERS(, sse2_copy_nt)
LNUMA__KORDERS(, sse2_triad)

const lnuma__kfn lnuma__kernels_sse2[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT] =
    LNUMA__KTABLE(sse2_read, sse2_write, sse2_write_nt, sse2_copy, sse2_copy_nt, sse2_triad);
#else
const lnuma__kfn lnuma__kernels_sse2[LNUMA__KORDER_COUNT][LNUMA_KERNEL_COUNT] = {{0}};
#endif
