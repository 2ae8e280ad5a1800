/* The typed-range loops (bulk_loops.h) compiled for AVX-512 (F, BW, CD, DQ,
 * VL: byte, word and 64-bit min/max, lane-wise leading zeros) in 512-bit
 * vectors by a target pragma; bulk.c calls them only where the CPU has all
 * five.  The histogram blocks are written here with intrinsics: the
 * compiler does not pack the indexes in range (vpcompressd) by itself, and
 * packing them one by one cost as much as the rest of the block. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512cd,avx512dq,avx512vl,prefer-vector-width=512")
#include <immintrin.h>

#define LNUMA_BULK_LOOPS
#define LNUMA_BULK_OWN_HIST
#include "bulk_loops.h"

/* Eight elements at p as int64 lanes (u64 as its bit pattern). */
#define LD8_U8(p) _mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)(p)))
#define LD8_I8(p) _mm512_cvtepi8_epi64(_mm_loadl_epi64((const __m128i *)(p)))
#define LD8_U16(p) _mm512_cvtepu16_epi64(_mm_loadu_si128((const __m128i *)(p)))
#define LD8_I16(p) _mm512_cvtepi16_epi64(_mm_loadu_si128((const __m128i *)(p)))
#define LD8_U32(p) _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(p)))
#define LD8_I32(p) _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(p)))
#define LD8_64(p) _mm512_loadu_si512((const void *)(p))

/* Eight int64 lanes: min, max, the sum in 32-bit halves (128 rounds per
 * block cannot carry out of a lane), the squares, and lnuma__hist_bucket
 * lane by lane: with e the bit length of x | mask, b = e - unit - half - 1
 * and b + unit = e - half - 1, and ((b + 1) << half) - half_count is
 * b << half.  One masked compare finds the lanes in range; those above it
 * are counted as the rest.  The indexes in range are packed in a register
 * (vpcompressd to memory is slow on Zen 4) and stored at idx + k, which
 * never passes the element being read.  (The loop is bound by its vector
 * micro-ops, two ports' worth under 512 bits, near memory speed.) */
#define HIST512(name, type, LD8)                                                             \
  static size_t name(const lnuma__hist_shape *s, const void *v, size_t m, uint32_t *idx,     \
                     lnuma__hist_acc *a) {                                                   \
    const type *p = v;                                                                       \
    const __m512i lo = _mm512_set1_epi64(s->lowest), hi = _mm512_set1_epi64(s->highest);     \
    const __m512i mask = _mm512_set1_epi64(s->sub_bucket_mask);                              \
    const __m512i base_off = _mm512_set1_epi64(63 - s->unit_magnitude - s->half_magnitude);  \
    const __m512i sub_off = _mm512_set1_epi64(64 - s->half_magnitude - 1);                   \
    const __m512i halfm = _mm512_set1_epi64(s->half_magnitude);                              \
    const __m512i low32 = _mm512_set1_epi64(0xffffffff);                                     \
    const __m512d shift = _mm512_set1_pd((double)s->shift);                                  \
    __m512d q = _mm512_setzero_pd();                                                         \
    __m512i mn = _mm512_set1_epi64(a->min), mx = _mm512_set1_epi64(a->max);                  \
    __m512i sum_lo = _mm512_setzero_si512(), sum_hi = _mm512_setzero_si512();                \
    int64_t u = 0, rest_hi = 0;                                                              \
    uint64_t rest_lo = 0;                                                                    \
    size_t k = 0, i = 0;                                                                     \
    for (; i + 8 <= m; i += 8) {                                                             \
      __m512i x = LD8(p + i);                                                                \
      _mm_prefetch((const char *)(p + i) + HIST_AHEAD, _MM_HINT_T0);                         \
      mn = _mm512_min_epi64(mn, x);                                                          \
      mx = _mm512_max_epi64(mx, x);                                                          \
      sum_lo = _mm512_add_epi64(sum_lo, _mm512_and_si512(x, low32));                         \
      sum_hi = _mm512_add_epi64(sum_hi, _mm512_srai_epi64(x, 32));                           \
      __mmask8 below = _mm512_cmplt_epi64_mask(x, lo);                                       \
      __mmask8 in = _mm512_mask_cmple_epi64_mask((__mmask8)~below, x, hi);                   \
      u += __builtin_popcount(below);                                                        \
      __m512i lz = _mm512_lzcnt_epi64(_mm512_or_si512(x, mask)); /* 64 - e */                \
      __m512i at = _mm512_add_epi64(_mm512_sllv_epi64(_mm512_sub_epi64(base_off, lz), halfm), \
                                    _mm512_srav_epi64(x, _mm512_sub_epi64(sub_off, lz)));    \
      __m256i at32 = _mm512_cvtepi64_epi32(at);                                              \
      _mm256_storeu_si256((__m256i *)(idx + k), _mm256_maskz_compress_epi32(in, at32));      \
      k += (size_t)__builtin_popcount(in);                                                   \
      __m512d d = _mm512_sub_pd(_mm512_cvtepi64_pd(x), shift);                               \
      q = _mm512_fmadd_pd(d, d, q);                                                          \
    }                                                                                        \
    a->min = _mm512_reduce_min_epi64(mn);                                                    \
    a->max = _mm512_reduce_max_epi64(mx);                                                    \
    a->under += u;                                                                           \
    a->over += (int64_t)(i - k) - u; /* the vector part: those neither in range nor below */ \
    a->sq += _mm512_reduce_add_pd(q);                                                        \
    for (; i < m; i++) k = hist_one(s, (int64_t)p[i], idx, k, a, &rest_hi, &rest_lo);        \
    a->sum_lo = (uint64_t)_mm512_reduce_add_epi64(sum_lo) + rest_lo;                         \
    a->sum_hi = _mm512_reduce_add_epi64(sum_hi) + rest_hi;                                   \
    return k;                                                                                \
  }
HIST512(hist8_u8, uint8_t, LD8_U8)
HIST512(hist8_u16, uint16_t, LD8_U16)
HIST512(hist8_u32, uint32_t, LD8_U32)
HIST512(hist_u64, uint64_t, LD8_64)
HIST512(hist8_i8, int8_t, LD8_I8)
HIST512(hist8_i16, int16_t, LD8_I16)
HIST512(hist8_i32, int32_t, LD8_I32)
HIST512(hist_i64, int64_t, LD8_64)

/* Sixteen elements at p as 32-bit lanes. */
#define LD16_U8(p) _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p)))
#define LD16_I8(p) _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p)))
#define LD16_U16(p) _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p)))
#define LD16_I16(p) _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(p)))
#define LD16_32(p) _mm512_loadu_si512((const void *)(p))

/* Kinds of 32 bits or less in sixteen 32-bit lanes, half the work per
 * element of the int64 lanes, where the shape allows: the range's bounds
 * clamped to the kind (a lowest above it: the int64 loop), and x | mask
 * within 32 bits.  Unsigned kinds compare as unsigned (u32 above 2^31),
 * the signed ones as signed; the sum in 16-bit halves (64 rounds per block
 * cannot carry out of a lane); the squares in two sets of eight doubles. */
#define HIST16(name, type, LD16, EP, top, SRx, CVT, wide)                                    \
  static size_t name(const lnuma__hist_shape *s, const void *v, size_t m, uint32_t *idx,     \
                     lnuma__hist_acc *a) {                                                   \
    const type *p = v;                                                                       \
    if (s->lowest > (int64_t)(top) || s->sub_bucket_mask > (int64_t)UINT32_MAX)              \
      return wide(s, v, m, idx, a);                                                          \
    const __m512i lo = _mm512_set1_epi32((int)(uint32_t)s->lowest);                          \
    const __m512i hi = _mm512_set1_epi32(                                                    \
        (int)(uint32_t)(s->highest > (int64_t)(top) ? (int64_t)(top) : s->highest));         \
    const __m512i mask = _mm512_set1_epi32((int)(uint32_t)s->sub_bucket_mask);               \
    const __m512i base_off = _mm512_set1_epi32(31 - s->unit_magnitude - s->half_magnitude);  \
    const __m512i sub_off = _mm512_set1_epi32(32 - s->half_magnitude - 1);                   \
    const __m512i halfm = _mm512_set1_epi32(s->half_magnitude);                              \
    const __m512i low16 = _mm512_set1_epi32(0xffff);                                         \
    const __m512d shift = _mm512_set1_pd((double)s->shift);                                  \
    __m512d q0 = _mm512_setzero_pd(), q1 = _mm512_setzero_pd();                              \
    __m512i mn = _mm512_set1_epi32((int)p[0]), mx = mn; /* m >= 1 */                         \
    __m512i sum_lo = _mm512_setzero_si512(), sum_hi = _mm512_setzero_si512();                \
    int64_t u = 0, rest_hi = 0;                                                              \
    uint64_t rest_lo = 0;                                                                    \
    size_t k = 0, i = 0;                                                                     \
    for (; i + 16 <= m; i += 16) {                                                           \
      __m512i x = LD16(p + i);                                                               \
      _mm_prefetch((const char *)(p + i) + HIST_AHEAD, _MM_HINT_T0);                         \
      mn = _mm512_min_##EP(mn, x);                                                           \
      mx = _mm512_max_##EP(mx, x);                                                           \
      sum_lo = _mm512_add_epi32(sum_lo, _mm512_and_si512(x, low16));                         \
      sum_hi = _mm512_add_epi32(sum_hi, SRx(x, 16));                                         \
      __mmask16 below = _mm512_cmplt_##EP##_mask(x, lo);                                     \
      __mmask16 in = _mm512_mask_cmple_##EP##_mask((__mmask16)~below, x, hi);                \
      u += __builtin_popcount(below);                                                        \
      __m512i lz = _mm512_lzcnt_epi32(_mm512_or_si512(x, mask)); /* 32 - e */                \
      __m512i at = _mm512_add_epi32(_mm512_sllv_epi32(_mm512_sub_epi32(base_off, lz), halfm), \
                                    _mm512_srlv_epi32(x, _mm512_sub_epi32(sub_off, lz)));    \
      _mm512_storeu_si512((void *)(idx + k),                                                 \
                          _mm512_maskz_compress_epi32(in, at));                              \
      k += (size_t)__builtin_popcount(in);                                                   \
      __m512d d0 = _mm512_sub_pd(CVT(_mm512_castsi512_si256(x)), shift);                     \
      __m512d d1 = _mm512_sub_pd(CVT(_mm512_extracti64x4_epi64(x, 1)), shift);               \
      q0 = _mm512_fmadd_pd(d0, d0, q0);                                                      \
      q1 = _mm512_fmadd_pd(d1, d1, q1);                                                      \
    }                                                                                        \
    int64_t lmin = (int64_t)(type)_mm512_reduce_min_##EP(mn);                                \
    int64_t lmax = (int64_t)(type)_mm512_reduce_max_##EP(mx);                                \
    lnuma__hist_widen(a, lmin, lmax);                                                        \
    a->under += u;                                                                           \
    a->over += (int64_t)(i - k) - u; /* the vector part: those neither in range nor below */ \
    a->sq += _mm512_reduce_add_pd(_mm512_add_pd(q0, q1));                                    \
    for (; i < m; i++) k = hist_one(s, (int64_t)p[i], idx, k, a, &rest_hi, &rest_lo);        \
    lnuma__hist_set_sum(a, (int64_t)_mm512_reduce_add_epi32(sum_hi) * 65536 +                \
                               (int64_t)_mm512_reduce_add_epi32(sum_lo));                    \
    a->sum_lo += rest_lo;                                                                    \
    a->sum_hi += rest_hi;                                                                    \
    return k;                                                                                \
  }
HIST16(hist_u8, uint8_t, LD16_U8, epu32, UINT32_MAX, _mm512_srli_epi32, _mm512_cvtepu32_pd,
       hist8_u8)
HIST16(hist_u16, uint16_t, LD16_U16, epu32, UINT32_MAX, _mm512_srli_epi32, _mm512_cvtepu32_pd,
       hist8_u16)
HIST16(hist_u32, uint32_t, LD16_32, epu32, UINT32_MAX, _mm512_srli_epi32, _mm512_cvtepu32_pd,
       hist8_u32)
HIST16(hist_i8, int8_t, LD16_I8, epi32, INT32_MAX, _mm512_srai_epi32, _mm512_cvtepi32_pd,
       hist8_i8)
HIST16(hist_i16, int16_t, LD16_I16, epi32, INT32_MAX, _mm512_srai_epi32, _mm512_cvtepi32_pd,
       hist8_i16)
HIST16(hist_i32, int32_t, LD16_32, epi32, INT32_MAX, _mm512_srai_epi32, _mm512_cvtepi32_pd,
       hist8_i32)

/* hist_count's compare of sixteen indexes with the first: one vector
 * compare (the compiler leaves it scalar: fifteen loads and compares). */
static inline unsigned other16(const uint32_t *g) {
  return _mm512_cmpneq_epi32_mask(_mm512_loadu_si512((const void *)g),
                                  _mm512_set1_epi32((int)g[0]));
}
HIST_COUNT(other16)

LNUMA__BULK_OPS(lnuma__bulk_avx512);
#endif
