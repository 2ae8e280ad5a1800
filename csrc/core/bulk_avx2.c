/* The typed-range loops (bulk_loops.h) compiled for AVX2 by a target pragma;
 * bulk.c calls them only where the CPU has AVX2.  The histogram blocks are
 * written here with intrinsics, in eight 32-bit lanes (64-bit kinds too,
 * where a block's values fit 32 bits): the compiler's loops took four passes
 * and a scalar bucket each (AVX2 has no lane-wise leading-zero count), 3 ns
 * per u32 element on a Xeon against 0.4 under AVX-512. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#pragma GCC target("avx2")
#include <immintrin.h>

#define LNUMA_BULK_LOOPS
#define LNUMA_BULK_OWN_HIST
#include "bulk_loops.h"

/* The compiler's loops, for the shapes and values the lanes cannot take. */
HIST_BLOCKS(any_)

/* Eight elements at p as 32-bit lanes; for the 64-bit kinds, their low
 * halves, the bits of all of them ORed into high (those kinds take the
 * lanes only where every high half is zero). */
#define LD8_U8(p, high) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p)))
#define LD8_I8(p, high) _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p)))
#define LD8_U16(p, high) _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p)))
#define LD8_I16(p, high) _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(p)))
#define LD8_32(p, high) _mm256_loadu_si256((const __m256i *)(p))
#define LD8_64(p, high) ld8_64((const uint64_t *)(p), &(high))
static inline __m256i ld8_64(const uint64_t *p, __m256i *high) {
  __m256i x0 = _mm256_loadu_si256((const __m256i *)p);
  __m256i x1 = _mm256_loadu_si256((const __m256i *)(p + 4));
  *high = _mm256_or_si256(*high, _mm256_or_si256(x0, x1));
  /* Low halves of elements 0 1 4 5 | 2 3 6 7, then the middle pairs swapped. */
  __m256 lows = _mm256_shuffle_ps(_mm256_castsi256_ps(x0), _mm256_castsi256_ps(x1),
                                  _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_permute4x64_epi64(_mm256_castps_si256(lows), _MM_SHUFFLE(3, 1, 2, 0));
}

/* Whether a 64-bit block has a value past 32 bits: in the lanes' ORed bits,
 * or among the elements from i on that the lanes did not take. */
#define HIGH_NONE(high, p, i, m) ((void)(high), 0)
#define HIGH_64(high, p, i, m) high_64(high, (const uint64_t *)(p), i, m)
static inline int high_64(__m256i high, const uint64_t *p, size_t i, size_t m) {
  uint64_t rest = 0;
  for (; i < m; i++) rest |= p[i];
  return !_mm256_testz_si256(high, _mm256_set1_epi64x((int64_t)0xffffffff00000000u)) ||
         rest >> 32 != 0;
}

/* The indexes of the lanes set in `in` (bit j: lane j), packed at idx. */
static inline size_t pack_lanes(__m256i at, unsigned in, uint32_t *idx) {
  if (in == 0xff) {
    _mm256_storeu_si256((__m256i *)idx, at);
    return 8;
  }
  uint32_t lane[8];
  _mm256_storeu_si256((__m256i *)lane, at);
  size_t k = 0;
  for (; in != 0; in &= in - 1) idx[k++] = lane[__builtin_ctz(in)];
  return k;
}

/* The histogram block of bulk_loops.h in eight 32-bit lanes, where the
 * shape allows (as bulk_avx512.c's HIST16: bounds clamped to the kind, a
 * lowest above it or x | mask past 32 bits go to the compiler's loop).
 * Unsigned kinds compare with their sign bit flipped (AVX2 compares signed
 * only).  The bit length e of v = x | mask (>= 31: every shape's mask) comes
 * from a float's exponent: v & ~(v >> 1) keeps v's top bit and clears the
 * one below it, so halved and converted it cannot round up to the next
 * power of two, and its exponent is e - 2.  The sum in 16-bit halves (128
 * rounds per block cannot carry out of a lane), the squares in doubles; the
 * bucket and the count above the range as bulk_avx512.c takes them.
 * Elements of etype in lanes of type (uint32_t or int32_t); HIGH sends a
 * 64-bit block with a value past 32 bits to the compiler's loop. */
#define HIST8(name, etype, type, LD8, HIGH, EP, flip, top, SRx, wide)                        \
  static size_t name(const lnuma__hist_shape *s, const void *v, size_t m, uint32_t *idx,     \
                     lnuma__hist_acc *a) {                                                   \
    const etype *p = v;                                                                      \
    if (s->lowest > (int64_t)(top) || s->sub_bucket_mask > (int64_t)UINT32_MAX ||            \
        HIGH(_mm256_setzero_si256(), p, 0, 1)) /* a first value past 32 bits: all likely */  \
      return wide(s, v, m, idx, a);                                                          \
    const __m256i sign = _mm256_set1_epi32((int)(flip));                                     \
    const __m256i lo = _mm256_set1_epi32((int)((uint32_t)s->lowest ^ (flip)));               \
    const __m256i hi = _mm256_set1_epi32((int)(                                              \
        (uint32_t)(s->highest > (int64_t)(top) ? (int64_t)(top) : s->highest) ^ (flip)));    \
    const __m256i mask = _mm256_set1_epi32((int)(uint32_t)s->sub_bucket_mask);               \
    const __m256i base_off = _mm256_set1_epi32(126 + s->unit_magnitude + s->half_magnitude); \
    const __m256i sub_off = _mm256_set1_epi32(126 + s->half_magnitude);                      \
    const __m256i halfm = _mm256_set1_epi32(s->half_magnitude);                              \
    const __m256i low16 = _mm256_set1_epi32(0xffff);                                         \
    const __m256d unflip = _mm256_set1_pd((flip) ? 2147483648.0 : 0.0);                      \
    const __m256d shift = _mm256_set1_pd((double)s->shift);                                  \
    __m256d q0 = _mm256_setzero_pd(), q1 = _mm256_setzero_pd();                              \
    __m256i mn = _mm256_set1_epi32((int)p[0]), mx = mn; /* m >= 1 */                         \
    __m256i sum_lo = _mm256_setzero_si256(), sum_hi = _mm256_setzero_si256();                \
    __m256i high = _mm256_setzero_si256();                                                   \
    int64_t u = 0, rest_hi = 0;                                                              \
    uint64_t rest_lo = 0;                                                                    \
    size_t k = 0, i = 0;                                                                     \
    for (; i + 8 <= m; i += 8) {                                                             \
      __m256i x = LD8(p + i, high);                                                          \
      _mm_prefetch((const char *)(p + i) + HIST_AHEAD, _MM_HINT_T0);                         \
      mn = _mm256_min_##EP(mn, x);                                                           \
      mx = _mm256_max_##EP(mx, x);                                                           \
      sum_lo = _mm256_add_epi32(sum_lo, _mm256_and_si256(x, low16));                         \
      sum_hi = _mm256_add_epi32(sum_hi, SRx(x, 16));                                         \
      __m256i xs = _mm256_xor_si256(x, sign);                                                \
      unsigned below = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(                     \
          _mm256_cmpgt_epi32(lo, xs)));                                                      \
      unsigned above = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(                     \
          _mm256_cmpgt_epi32(xs, hi)));                                                      \
      u += __builtin_popcount(below);                                                        \
      __m256i w = _mm256_or_si256(x, mask);                                                  \
      w = _mm256_srli_epi32(_mm256_andnot_si256(_mm256_srli_epi32(w, 1), w), 1);             \
      __m256i e = _mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(w)), 23);         \
      __m256i at = _mm256_add_epi32(_mm256_sllv_epi32(_mm256_sub_epi32(e, base_off), halfm), \
                                    _mm256_srlv_epi32(x, _mm256_sub_epi32(e, sub_off)));     \
      k += pack_lanes(at, ~(below | above) & 0xffu, idx + k);                                \
      __m256d d0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(xs));                           \
      __m256d d1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(xs, 1));                      \
      d0 = _mm256_sub_pd(_mm256_add_pd(d0, unflip), shift);                                  \
      d1 = _mm256_sub_pd(_mm256_add_pd(d1, unflip), shift);                                  \
      q0 = _mm256_add_pd(q0, _mm256_mul_pd(d0, d0));                                         \
      q1 = _mm256_add_pd(q1, _mm256_mul_pd(d1, d1));                                         \
    }                                                                                        \
    if (HIGH(high, p, i, m)) return wide(s, v, m, idx, a); /* nothing taken into *a yet */   \
    uint32_t lmn[8], lmx[8];                                                                 \
    int32_t shi[8], slo[8];                                                                  \
    double sq[4];                                                                            \
    _mm256_storeu_si256((__m256i *)lmn, mn);                                                 \
    _mm256_storeu_si256((__m256i *)lmx, mx);                                                 \
    _mm256_storeu_si256((__m256i *)shi, sum_hi);                                             \
    _mm256_storeu_si256((__m256i *)slo, sum_lo);                                             \
    _mm256_storeu_pd(sq, _mm256_add_pd(q0, q1));                                             \
    int64_t least = (type)lmn[0], most = (type)lmx[0], total = 0;                            \
    for (int j = 0; j < 8; j++) {                                                            \
      if ((int64_t)(type)lmn[j] < least) least = (type)lmn[j];                               \
      if ((int64_t)(type)lmx[j] > most) most = (type)lmx[j];                                 \
      total += (int64_t)shi[j] * 65536 + slo[j];                                             \
    }                                                                                        \
    lnuma__hist_widen(a, least, most);                                                       \
    a->under += u;                                                                           \
    a->over += (int64_t)(i - k) - u; /* the vector part: those neither in range nor below */ \
    a->sq += (sq[0] + sq[1]) + (sq[2] + sq[3]);                                              \
    for (; i < m; i++) k = hist_one(s, (int64_t)p[i], idx, k, a, &rest_hi, &rest_lo);        \
    lnuma__hist_set_sum(a, total);                                                           \
    a->sum_lo += rest_lo;                                                                    \
    a->sum_hi += rest_hi;                                                                    \
    return k;                                                                                \
  }
/* The lanes of unsigned and of signed kinds; for min and max a lane is read
 * back as the lane type, which gives each kind's value (the loads widen
 * with zeros or with the sign). */
#define HIST8_UNSIGNED(name, etype, LD8, HIGH, wide)                                         \
  HIST8(name, etype, uint32_t, LD8, HIGH, epu32, 0x80000000u, UINT32_MAX, _mm256_srli_epi32, \
        wide)
#define HIST8_SIGNED(name, etype, LD8, wide)                                                 \
  HIST8(name, etype, int32_t, LD8, HIGH_NONE, epi32, 0u, INT32_MAX, _mm256_srai_epi32, wide)
HIST8_UNSIGNED(hist_u8, uint8_t, LD8_U8, HIGH_NONE, any_u8)
HIST8_UNSIGNED(hist_u16, uint16_t, LD8_U16, HIGH_NONE, any_u16)
HIST8_UNSIGNED(hist_u32, uint32_t, LD8_32, HIGH_NONE, any_u32)
HIST8_SIGNED(hist_i8, int8_t, LD8_I8, any_i8)
HIST8_SIGNED(hist_i16, int16_t, LD8_I16, any_i16)
HIST8_SIGNED(hist_i32, int32_t, LD8_32, any_i32)
/* 64-bit elements, the usual latencies among them, go through the u32 lanes
 * where the whole block is in [0, 2^32) (there u64, i64 and u32 agree); a
 * block with a value past that is taken again by the compiler's loop. */
HIST8_UNSIGNED(hist_u64, uint64_t, LD8_64, HIGH_64, any_u64)
HIST8_UNSIGNED(hist_i64, int64_t, LD8_64, HIGH_64, any_i64)

/* hist_count's compare of sixteen indexes with the first: two vector
 * compares. */
static inline unsigned other16(const uint32_t *g) {
  __m256i f = _mm256_set1_epi32((int)g[0]);
  __m256i lo = _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)g), f);
  __m256i hi = _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(g + 8)), f);
  return ~((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(lo)) |
           (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(hi)) << 8) &
         0xffffu;
}
HIST_COUNT(other16)

LNUMA__BULK_OPS(lnuma__bulk_avx2);
#endif
