/* The typed-range loops (bulk_loops.h) compiled for AVX-512 (F, BW, CD, DQ,
 * VL: byte, word and 64-bit min/max, lane-wise leading zeros) in 512-bit
 * vectors by a target pragma; bulk.c calls them only where the CPU has all
 * five.  The histogram blocks are written here with intrinsics: the
 * compiler does not pack the indexes in range (vpcompressd) by itself, and
 * packing them one by one cost as much as the rest of the block. */
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

/* lnuma__hist_bucket lane by lane: with e the bit length of x | mask,
 * b + 1 = e - unit - half and b + unit = e - half - 1.  The indexes in range
 * are packed in a register (vpcompressd to memory is slow on Zen 4) and
 * stored at idx + k, which never passes the element being read. */
#define HIST512(name, type, LD8)                                                             \
  static size_t name(const lnuma__hist_shape *s, const void *v, size_t m, uint32_t *idx,     \
                     int64_t *under, int64_t *over, double *sq) {                            \
    const type *p = v;                                                                       \
    const __m512i lo = _mm512_set1_epi64(s->lowest), hi = _mm512_set1_epi64(s->highest);     \
    const __m512i mask = _mm512_set1_epi64(s->sub_bucket_mask);                              \
    const __m512i base_off = _mm512_set1_epi64(64 - s->unit_magnitude - s->half_magnitude);  \
    const __m512i sub_off = _mm512_set1_epi64(64 - s->half_magnitude - 1);                   \
    const __m512i halfm = _mm512_set1_epi64(s->half_magnitude);                              \
    const __m512i half = _mm512_set1_epi64(s->half_count);                                   \
    const __m512d shift = _mm512_set1_pd((double)s->shift);                                  \
    __m512d q = _mm512_setzero_pd();                                                         \
    int64_t u = 0, o = 0;                                                                    \
    size_t k = 0, i = 0;                                                                     \
    for (; i + 8 <= m; i += 8) {                                                             \
      __m512i x = LD8(p + i);                                                                \
      __mmask8 below = _mm512_cmplt_epi64_mask(x, lo), above = _mm512_cmpgt_epi64_mask(x, hi); \
      u += __builtin_popcount(below);                                                        \
      o += __builtin_popcount(above);                                                        \
      __m512i lz = _mm512_lzcnt_epi64(_mm512_or_si512(x, mask)); /* 64 - e */                \
      __m512i at = _mm512_add_epi64(_mm512_sllv_epi64(_mm512_sub_epi64(base_off, lz), halfm), \
                                    _mm512_srav_epi64(x, _mm512_sub_epi64(sub_off, lz)));    \
      __mmask8 in = (__mmask8)~(below | above);                                              \
      __m256i at32 = _mm512_cvtepi64_epi32(_mm512_sub_epi64(at, half));                      \
      _mm256_storeu_si256((__m256i *)(idx + k), _mm256_maskz_compress_epi32(in, at32));      \
      k += (size_t)__builtin_popcount(in);                                                   \
      __m512d d = _mm512_sub_pd(_mm512_cvtepi64_pd(x), shift);                               \
      q = _mm512_fmadd_pd(d, d, q);                                                          \
    }                                                                                        \
    double tail = 0;                                                                         \
    for (; i < m; i++) {                                                                     \
      int64_t x = (int64_t)p[i];                                                             \
      u += x < s->lowest;                                                                    \
      o += x > s->highest;                                                                   \
      if (x >= s->lowest && x <= s->highest) idx[k++] = (uint32_t)lnuma__hist_bucket(s, x);  \
      double d = (double)x - (double)s->shift;                                               \
      tail += d * d;                                                                         \
    }                                                                                        \
    *under += u;                                                                             \
    *over += o;                                                                              \
    *sq += _mm512_reduce_add_pd(q) + tail;                                                   \
    return k;                                                                                \
  }
HIST512(hist_u8, uint8_t, LD8_U8)
HIST512(hist_u16, uint16_t, LD8_U16)
HIST512(hist_u32, uint32_t, LD8_U32)
HIST512(hist_u64, uint64_t, LD8_64)
HIST512(hist_i8, int8_t, LD8_I8)
HIST512(hist_i16, int16_t, LD8_I16)
HIST512(hist_i32, int32_t, LD8_I32)
HIST512(hist_i64, int64_t, LD8_64)

LNUMA__BULK_OPS(lnuma__bulk_avx512);
#endif
