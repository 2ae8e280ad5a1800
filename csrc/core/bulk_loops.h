/* The inner loops of the typed-range operations (bulk.c), written once and
 * compiled once per ISA: bulk_base.c for any x86-64 (SSE2), bulk_avx2.c and
 * bulk_avx512.c under a target pragma, chosen at run time by bulk.c.  Plain
 * C over typed pointers with independent accumulators, so that the compiler
 * vectorises each for its ISA (built -O3 by optimize.h): SSE2
 * has no 64-bit min/max and no sign extension, AVX2 has the second,
 * AVX-512 both, and the difference is what keeps sum(i32) and min(u64) at
 * memory speed.  Private to the core. */
#ifndef LNUMA_BULK_LOOPS_H
#define LNUMA_BULK_LOOPS_H

#include <stddef.h>
#include <stdint.h>

#include "lnuma.h"

/* Kinds in the order of the tables below (that of lnuma_kind). */
enum { LNUMA__BULK_INTS = 8, LNUMA__BULK_FLOATS = 2 };

/* What a histogram's bucket arithmetic needs (histogram.c, after
 * HdrHistogram): the tracked range and the shape of its buckets, and the
 * first value recorded, from which squares are taken. */
typedef struct lnuma__hist_shape {
  int64_t lowest, highest;
  int64_t sub_bucket_mask;   /* (sub_bucket_count - 1) << unit_magnitude */
  int64_t half_count;        /* sub_bucket_count / 2 */
  int unit_magnitude, half_magnitude;
  int64_t shift;
} lnuma__hist_shape;

/* Elements a histogram block holds, and the bucket index of a value
 * outside the tracked range. */
#define LNUMA__HIST_BLOCK 1024
#define LNUMA__HIST_NONE UINT32_MAX

/* What a histogram block adds to (histogram.c, record_blocks): the least
 * and greatest element and the counts below and above the range, running;
 * the sum of the squares of (v - shift), running; the block's exact sum as
 * sum_hi * 2^32 + sum_lo, set by each block. */
typedef struct lnuma__hist_acc {
  int64_t min, max, under, over;
  double sq;
  int64_t sum_hi;
  uint64_t sum_lo;
} lnuma__hist_acc;

/* A block's sum s as sum_hi * 2^32 + sum_lo (no shift of a negative). */
static inline void lnuma__hist_set_sum(lnuma__hist_acc *a, int64_t s) {
  uint64_t lo = (uint64_t)s & 0xffffffffu;
  a->sum_lo = lo;
  a->sum_hi = (s - (int64_t)lo) / ((int64_t)1 << 32);
}

/* Widens a's running least and greatest to take in lo and hi. */
static inline void lnuma__hist_widen(lnuma__hist_acc *a, int64_t lo, int64_t hi) {
  if (lo < a->min) a->min = lo;
  if (hi > a->max) a->max = hi;
}

/* One ISA's loops.  Integer kinds are indexed by lnuma_kind (U8..I64),
 * float kinds by kind - LNUMA_KIND_F32. */
typedef struct lnuma__bulk_ops {
  /* The sum of m elements (m <= 2^20) with the sign bit flipped for signed
   * kinds (x ^ bias: unsigned), as a 64-bit integer for the narrow kinds and
   * as the sums of the low and high 32-bit halves for the 64-bit ones. */
  uint64_t (*narrow_sum[LNUMA__BULK_INTS])(const void *p, size_t m);
  void (*wide_sum[LNUMA__BULK_INTS])(const void *p, size_t m, uint64_t *lo, uint64_t *hi);
  double (*float_sum[LNUMA__BULK_FLOATS])(const void *p, size_t n);
  /* The least/greatest of n >= 1 elements, as the 64-bit pattern of the
   * kind's value (signed kinds sign-extended). */
  uint64_t (*int_min[LNUMA__BULK_INTS])(const void *p, size_t n);
  uint64_t (*int_max[LNUMA__BULK_INTS])(const void *p, size_t n);
  /* NaN-ignoring least/greatest of n elements; +inf / -inf when there is no
   * number (bulk.c tells an all-NaN range apart). */
  double (*float_min[LNUMA__BULK_FLOATS])(const void *p, size_t n);
  double (*float_max[LNUMA__BULK_FLOATS])(const void *p, size_t n);
  /* For m <= LNUMA__HIST_BLOCK elements read as int64 (u64 as its bit
   * pattern, as lnuma_histogram_record takes it), in one call: the counter
   * index of each one inside [lowest, highest], packed at the front of idx
   * in the order of the elements, their number returned; and into *a. */
  size_t (*hist_block[LNUMA__BULK_INTS])(const lnuma__hist_shape *s, const void *p, size_t m,
                                         uint32_t *idx, lnuma__hist_acc *a);
  /* One increment of counts[idx[i]] for each of the k indexes. */
  void (*hist_count)(int64_t *counts, const uint32_t *idx, size_t k);
} lnuma__bulk_ops;

extern const lnuma__bulk_ops lnuma__bulk_base, lnuma__bulk_avx2, lnuma__bulk_avx512;

/* The counter of a value x >= 1 (one count-leading-zeros and two shifts,
 * after HdrHistogram_c); for x out of range the result is meaningless but
 * defined.  The AVX-512 loop does the same lane by lane. */
static inline int64_t lnuma__hist_bucket(const lnuma__hist_shape *s, int64_t x) {
  int b = 64 - __builtin_clzll((uint64_t)(x | s->sub_bucket_mask)) - s->unit_magnitude -
          (s->half_magnitude + 1);
  return ((int64_t)(b + 1) << s->half_magnitude) + (x >> (b + s->unit_magnitude)) -
         s->half_count;
}

/* The loops of the best ISA this CPU has (bulk.c). */
const lnuma__bulk_ops *lnuma__bulk_ops_best(void);

/* ---- the loops (included by the per-ISA files only) ------------------------ */
#ifdef LNUMA_BULK_LOOPS
#include <string.h>

/* 8- and 16-bit elements into partial sums of twice their width, 64 lanes,
 * folded before they can carry (ROUNDS rows of the largest element): the
 * compiler widens once per row, not to 64 bits per element, which is what
 * kept a u8 sum at a fifth of memory speed. */
#define NARROW_SUM(name, type, utype, ptype, bias, ROUNDS)                    \
  static uint64_t name(const void *v, size_t m) {                             \
    enum { LANES = 64 };                                                      \
    const type *p = v;                                                        \
    uint64_t s = 0;                                                           \
    size_t i = 0;                                                             \
    while (m - i >= LANES) {                                                  \
      size_t rows = (m - i) / LANES;                                          \
      if (rows > (ROUNDS)) rows = (ROUNDS);                                   \
      ptype part[LANES] = {0};                                                \
      for (size_t end = i + rows * LANES; i < end; i += LANES)                \
        for (int j = 0; j < LANES; j++) part[j] += (utype)((utype)p[i + (size_t)j] ^ (bias)); \
      for (int j = 0; j < LANES; j++) s += part[j];                           \
    }                                                                         \
    for (; i < m; i++) s += (utype)((utype)p[i] ^ (bias));                    \
    return s;                                                                 \
  }
NARROW_SUM(sum_u8, uint8_t, uint8_t, uint16_t, 0u, 257)
NARROW_SUM(sum_i8, int8_t, uint8_t, uint16_t, 0x80u, 257)
NARROW_SUM(sum_u16, uint16_t, uint16_t, uint32_t, 0u, 65537)
NARROW_SUM(sum_i16, int16_t, uint16_t, uint32_t, 0x8000u, 65537)

#define SMALL_SUM(name, type, utype, bias)                                    \
  static uint64_t name(const void *v, size_t m) {                             \
    const type *p = v;                                                        \
    uint64_t s = 0;                                                           \
    for (size_t i = 0; i < m; i++) s += (utype)((utype)p[i] ^ (bias));        \
    return s;                                                                 \
  }
SMALL_SUM(sum_u32, uint32_t, uint32_t, 0u)
SMALL_SUM(sum_i32, int32_t, uint32_t, 0x80000000u)

/* 64-bit elements: the high and low 32-bit halves summed apart (no carries,
 * so the loop vectorises); i64 with its sign bit flipped. */
#define WIDE_SUM(name, bias)                                                  \
  static void name(const void *v, size_t m, uint64_t *lo_out, uint64_t *hi_out) { \
    const uint64_t *p = v;                                                    \
    uint64_t lo = 0, hi = 0;                                                  \
    for (size_t i = 0; i < m; i++) {                                          \
      uint64_t u = p[i] ^ (bias);                                             \
      lo += u & 0xffffffffu;                                                  \
      hi += u >> 32;                                                          \
    }                                                                         \
    *lo_out = lo;                                                             \
    *hi_out = hi;                                                             \
  }
WIDE_SUM(sum_u64, (uint64_t)0)
WIDE_SUM(sum_i64, (uint64_t)1 << 63)

/* Floats: sixteen partial sums in doubles, two vectors of eight (GCC vector
 * types), so the additions are independent (the compiler may not reorder a
 * single floating-point sum) and two chains are in flight. */
#define FLOAT_SUM(name, type)                                                 \
  static double name(const void *v, size_t n) {                               \
    typedef type in __attribute__((vector_size(8 * sizeof(type))));           \
    typedef double acc __attribute__((vector_size(64)));                      \
    const type *p = v;                                                        \
    acc s0 = {0}, s1 = {0};                                                   \
    in x0, x1;                                                                \
    size_t i = 0;                                                             \
    for (; i + 16 <= n; i += 16) {                                            \
      __builtin_prefetch((const char *)(p + i) + 4096);                       \
      memcpy(&x0, p + i, sizeof x0);                                          \
      memcpy(&x1, p + i + 8, sizeof x1);                                      \
      s0 += __builtin_convertvector(x0, acc);                                 \
      s1 += __builtin_convertvector(x1, acc);                                 \
    }                                                                         \
    for (; i < n; i++) s0[0] += (double)p[i];                                 \
    acc t = s0 + s1;                                                          \
    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7])); \
  }
FLOAT_SUM(sum_f32, float)
FLOAT_SUM(sum_f64, double)

/* Integer kinds: one running extreme per lane, as many lanes as a 64-byte
 * line holds (a reduction the compiler turns into vector min/max). */
#define INT_EXTREME(name, type, op)                                           \
  static uint64_t name(const void *v, size_t n) {                             \
    enum { LANES = 64 / sizeof(type) };                                       \
    const type *p = v;                                                        \
    type m[LANES];                                                            \
    for (int j = 0; j < LANES; j++) m[j] = p[0];                              \
    size_t i = 0;                                                             \
    for (; i + LANES <= n; i += LANES)                                        \
      for (int j = 0; j < LANES; j++) {                                       \
        type x = p[i + (size_t)j];                                            \
        m[j] = x op m[j] ? x : m[j];                                          \
      }                                                                       \
    for (; i < n; i++) m[0] = p[i] op m[0] ? p[i] : m[0];                     \
    for (int j = 1; j < LANES; j++) m[0] = m[j] op m[0] ? m[j] : m[0];        \
    return (uint64_t)(int64_t)m[0];                                           \
  }
INT_EXTREME(min_u8, uint8_t, <)
INT_EXTREME(min_u16, uint16_t, <)
INT_EXTREME(min_u32, uint32_t, <)
INT_EXTREME(min_u64, uint64_t, <)
INT_EXTREME(min_i8, int8_t, <)
INT_EXTREME(min_i16, int16_t, <)
INT_EXTREME(min_i32, int32_t, <)
INT_EXTREME(min_i64, int64_t, <)
INT_EXTREME(max_u8, uint8_t, >)
INT_EXTREME(max_u16, uint16_t, >)
INT_EXTREME(max_u32, uint32_t, >)
INT_EXTREME(max_u64, uint64_t, >)
INT_EXTREME(max_i8, int8_t, >)
INT_EXTREME(max_i16, int16_t, >)
INT_EXTREME(max_i32, int32_t, >)
INT_EXTREME(max_i64, int64_t, >)

/* Floats: two 64-byte vectors of running extremes (GCC vector types: the
 * compiler left the array form scalar, since it may not turn the select into
 * a min without -ffinite-math-only), each lane replaced where x op lane, so
 * that a NaN, comparing false, never replaces one; lanes start at the
 * identity. */
#define FLOAT_EXTREME(name, type, itype, op, start)                           \
  static double name(const void *v, size_t n) {                               \
    typedef type vec __attribute__((vector_size(64)));                        \
    typedef itype ivec __attribute__((vector_size(64)));                      \
    enum { LANES = 64 / sizeof(type) };                                       \
    const type *p = v;                                                        \
    const vec zero = {0};                                                     \
    vec m0 = zero + (start), m1 = m0, x0, x1; /* every lane the identity */   \
    size_t i = 0;                                                             \
    for (; i + 2 * LANES <= n; i += 2 * LANES) {                              \
      memcpy(&x0, p + i, sizeof x0);                                          \
      memcpy(&x1, p + i + LANES, sizeof x1);                                  \
      ivec t0 = x0 op m0, t1 = x1 op m1;                                      \
      m0 = (vec)(((ivec)x0 & t0) | ((ivec)m0 & ~t0));                         \
      m1 = (vec)(((ivec)x1 & t1) | ((ivec)m1 & ~t1));                         \
    }                                                                         \
    type r = start;                                                           \
    for (int j = 0; j < LANES; j++) {                                         \
      r = m0[j] op r ? m0[j] : r;                                             \
      r = m1[j] op r ? m1[j] : r;                                             \
    }                                                                         \
    for (; i < n; i++) r = p[i] op r ? p[i] : r;                              \
    return (double)r;                                                         \
  }
FLOAT_EXTREME(min_f32, float, int32_t, <, INFINITY)
FLOAT_EXTREME(min_f64, double, int64_t, <, INFINITY)
FLOAT_EXTREME(max_f32, float, int32_t, >, -INFINITY)
FLOAT_EXTREME(max_f64, double, int64_t, >, -INFINITY)

/* Histogram blocks: the buckets lane by lane (vectorised; vplzcntq under
 * AVX-512), then those in range packed (a store and an add each, no
 * branch); the squares in a second loop over the same block (in L1 by then),
 * eight partial sums. */
#define HIST_INDEX(name, type)                                                \
  static size_t name(const lnuma__hist_shape *s, const void *v, size_t m, uint32_t *idx, \
                     int64_t *under, int64_t *over, double *sq) {             \
    const type *p = v;                                                        \
    const int64_t lo = s->lowest, hi = s->highest;                            \
    const double shift = (double)s->shift;                                    \
    int64_t u = 0, o = 0;                                                     \
    for (size_t i = 0; i < m; i++) {                                          \
      int64_t x = (int64_t)p[i];                                              \
      u += x < lo;                                                            \
      o += x > hi;                                                            \
      idx[i] = x >= lo && x <= hi ? (uint32_t)lnuma__hist_bucket(s, x) : LNUMA__HIST_NONE; \
    }                                                                         \
    *under += u;                                                              \
    *over += o;                                                               \
    size_t k = 0;                                                             \
    for (size_t i = 0; i < m; i++) {                                          \
      uint32_t x = idx[i];                                                    \
      idx[k] = x;                                                             \
      k += x != LNUMA__HIST_NONE;                                             \
    }                                                                         \
    double q[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                   \
    size_t i = 0;                                                             \
    for (; i + 8 <= m; i += 8)                                                \
      for (int j = 0; j < 8; j++) {                                           \
        double d = (double)(int64_t)p[i + (size_t)j] - shift;                 \
        q[j] += d * d;                                                        \
      }                                                                       \
    for (; i < m; i++) {                                                      \
      double d = (double)(int64_t)p[i] - shift;                               \
      q[0] += d * d;                                                          \
    }                                                                         \
    *sq += ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7])); \
    return k;                                                                 \
  }

/* The whole block: min, max and the exact sum by the loops above (signed
 * sums unbiased here: - m * 2^(bits-1)), then the indexes.  u64 is read as
 * i64, as lnuma_histogram_record takes it. */
#define HIST_NARROW(name, type, mn, mx, sum, bias)                            \
  HIST_INDEX(index_##name, type)                                              \
  static size_t name(const lnuma__hist_shape *s, const void *p, size_t m, uint32_t *idx, \
                     lnuma__hist_acc *a) {                                    \
    lnuma__hist_widen(a, (int64_t)mn(p, m), (int64_t)mx(p, m));               \
    lnuma__hist_set_sum(a, (int64_t)sum(p, m) - (int64_t)m * (int64_t)(bias)); \
    return index_##name(s, p, m, idx, &a->under, &a->over, &a->sq);           \
  }
#define HIST_WIDE(name, type)                                                 \
  HIST_INDEX(index_##name, type)                                              \
  static size_t name(const lnuma__hist_shape *s, const void *p, size_t m, uint32_t *idx, \
                     lnuma__hist_acc *a) {                                    \
    lnuma__hist_widen(a, (int64_t)min_i64(p, m), (int64_t)max_i64(p, m));     \
    uint64_t slo, shi;                                                        \
    sum_i64(p, m, &slo, &shi);                                                \
    a->sum_lo = slo;                                                          \
    a->sum_hi = (int64_t)shi - (int64_t)m * ((int64_t)1 << 31);               \
    return index_##name(s, p, m, idx, &a->under, &a->over, &a->sq);           \
  }
/* The eight kinds' blocks by the loops above, named prefix##u8 .. i64. */
#define HIST_BLOCKS(prefix)                                                   \
  HIST_NARROW(prefix##u8, uint8_t, min_u8, max_u8, sum_u8, 0)                 \
  HIST_NARROW(prefix##u16, uint16_t, min_u16, max_u16, sum_u16, 0)            \
  HIST_NARROW(prefix##u32, uint32_t, min_u32, max_u32, sum_u32, 0)            \
  HIST_WIDE(prefix##u64, uint64_t)                                            \
  HIST_NARROW(prefix##i8, int8_t, min_i8, max_i8, sum_i8, 0x80)               \
  HIST_NARROW(prefix##i16, int16_t, min_i16, max_i16, sum_i16, 0x8000)        \
  HIST_NARROW(prefix##i32, int32_t, min_i32, max_i32, sum_i32, 0x80000000u)   \
  HIST_WIDE(prefix##i64, int64_t)

#ifdef LNUMA_BULK_OWN_HIST
/* For the histogram blocks written with intrinsics (bulk_avx2.c,
 * bulk_avx512.c).  How far ahead of the loads they prefetch: a block's loop
 * is slow enough per byte that the hardware prefetchers alone fell behind
 * (u32 at 512 MiB on a Xeon: 0.48 ns per element without, 0.39 with). */
#define HIST_AHEAD 4096

/* One element the vector loop left over: what a lane does, in scalars.
 * The sum is kept as its high and low 32-bit halves, so that the fifteen
 * at most left over cannot overflow. */
static inline size_t hist_one(const lnuma__hist_shape *s, int64_t x, uint32_t *idx, size_t k,
                              lnuma__hist_acc *a, int64_t *hi, uint64_t *lo) {
  lnuma__hist_widen(a, x, x);
  uint64_t low = (uint64_t)x & 0xffffffffu;
  *lo += low;
  *hi += (x - (int64_t)low) / ((int64_t)1 << 32);
  double d = (double)x - (double)s->shift;
  a->sq += d * d;
  a->under += x < s->lowest;
  a->over += x > s->highest;
  if (x >= s->lowest && x <= s->highest) idx[k++] = (uint32_t)lnuma__hist_bucket(s, x);
  return k;
}
#endif

/* hist_count: one increment of counts[idx[i]] for each index, sixteen at a
 * time.  Latencies crowd into one bucket, and incrementing one counter
 * several times in a row waits on the store each time: with nine values in
 * ten in one bucket, 1.7 ns per element against 0.3 spread out (AVX-512, a
 * Xeon).  So where the first and the last of sixteen share a bucket and it
 * holds at least half of them, it takes one add (a run of sixteen: at once)
 * and the others are counted one by one; else all sixteen are, and spread
 * data pays for the test one compare of two indexes that predicts well.
 * OTHER16(g): the mask of the lanes of g[0..15] that differ from g[0], from
 * the ISA's compares. */
#define HIST_COUNT(OTHER16)                                                             \
  static void hist_count(int64_t *counts, const uint32_t *idx, size_t k) {              \
    size_t i = 0;                                                                       \
    for (; i + 16 <= k; i += 16) {                                                      \
      const uint32_t *g = idx + i;                                                      \
      if (g[15] == g[0]) {                                                              \
        unsigned other = (unsigned)(OTHER16(g));                                        \
        if (other == 0) {                                                               \
          counts[g[0]] += 16;                                                           \
          continue;                                                                     \
        }                                                                               \
        int n = __builtin_popcount(other);                                              \
        if (n <= 8) {                                                                   \
          counts[g[0]] += 16 - n;                                                       \
          for (; other != 0; other &= other - 1) counts[g[__builtin_ctz(other)]]++;     \
          continue;                                                                     \
        }                                                                               \
      }                                                                                 \
      for (int j = 0; j < 16; j++) counts[g[j]]++;                                      \
    }                                                                                   \
    for (; i < k; i++) counts[idx[i]]++;                                                \
  }

#ifndef LNUMA_BULK_OWN_HIST
static inline unsigned other16(const uint32_t *g) {
  unsigned m = 0;
  for (int j = 1; j < 16; j++) m |= (unsigned)(g[j] != g[0]) << j;
  return m;
}
HIST_COUNT(other16)
HIST_BLOCKS(hist_)
#endif

#define LNUMA__BULK_OPS(name)                                                          \
  const lnuma__bulk_ops name = {                                                       \
      .narrow_sum = {sum_u8, sum_u16, sum_u32, NULL, sum_i8, sum_i16, sum_i32, NULL},  \
      .wide_sum = {NULL, NULL, NULL, sum_u64, NULL, NULL, NULL, sum_i64},              \
      .float_sum = {sum_f32, sum_f64},                                                 \
      .int_min = {min_u8, min_u16, min_u32, min_u64, min_i8, min_i16, min_i32, min_i64}, \
      .int_max = {max_u8, max_u16, max_u32, max_u64, max_i8, max_i16, max_i32, max_i64}, \
      .float_min = {min_f32, min_f64},                                                 \
      .float_max = {max_f32, max_f64},                                                 \
      .hist_block = {hist_u8, hist_u16, hist_u32, hist_u64, hist_i8, hist_i16, hist_i32, \
                     hist_i64},                                                        \
      .hist_count = hist_count,                                                        \
  }

#endif /* LNUMA_BULK_LOOPS */
#endif
