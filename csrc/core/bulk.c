/* Typed ranges: sum, min, max and fill over n elements of one kind (see
 * lnuma/bulk.h for the semantics).  The inner loops are plain C over typed
 * pointers with independent accumulators, so the compiler vectorises them
 * (the Makefile builds this file -O3) and they run at memory speed. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

static const char *const kind_names[LNUMA_KIND_COUNT] = {"u8",  "u16", "u32", "u64", "i8",
                                                         "i16", "i32", "i64", "f32", "f64"};
static const unsigned char kind_sizes[LNUMA_KIND_COUNT] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};

int lnuma_kind_parse(const char *name, size_t len) {
  for (int k = 0; k < LNUMA_KIND_COUNT; k++)
    if (strlen(kind_names[k]) == len && memcmp(kind_names[k], name, len) == 0) return k;
  return -1;
}

static int valid(lnuma_kind kind) { return (unsigned)kind < LNUMA_KIND_COUNT; }

const char *lnuma_kind_name(lnuma_kind kind) { return valid(kind) ? kind_names[kind] : NULL; }

size_t lnuma_kind_size(lnuma_kind kind) { return valid(kind) ? kind_sizes[kind] : 0; }

int lnuma_kind_is_float(lnuma_kind kind) {
  return kind == LNUMA_KIND_F32 || kind == LNUMA_KIND_F64;
}

int lnuma_kind_range(lnuma_kind kind, int64_t *lo, int64_t *hi) {
  static const int64_t los[] = {0, 0, 0, INT64_MIN, INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN};
  static const int64_t his[] = {UINT8_MAX, UINT16_MAX, UINT32_MAX, INT64_MAX,
                                INT8_MAX,  INT16_MAX,  INT32_MAX,  INT64_MAX};
  if (!valid(kind) || lnuma_kind_is_float(kind)) {
    errno = EINVAL;
    return -1;
  }
  *lo = los[kind];
  *hi = his[kind];
  return 0;
}

/* The checks every operation makes before touching memory. */
static int check(const void *data, lnuma_kind kind, size_t n, lnuma_error *err) {
  if (!valid(kind)) return lnuma__fail(err, EINVAL, "kind %d is not an element kind", (int)kind);
  if (n > 0 && data == NULL) return lnuma__fail(err, EINVAL, "data is NULL");
  if ((uintptr_t)data % kind_sizes[kind] != 0)
    return lnuma__fail(err, EINVAL, "%s elements at %p are not %u-byte aligned",
                       kind_names[kind], data, (unsigned)kind_sizes[kind]);
  return 0;
}

/* ---- exact integer sums ------------------------------------------------- */

/* A 128-bit two's complement accumulator (portable: no __int128 needed).
 * Only block sums are added to it, so its cost is not per element. */
typedef struct acc128 {
  uint64_t lo, hi;
} acc128;

static void acc_add(acc128 *a, uint64_t lo, uint64_t hi) {
  uint64_t l = a->lo + lo;
  a->hi += hi + (l < lo);
  a->lo = l;
}

static void acc_add_i64(acc128 *a, int64_t v) {
  acc_add(a, (uint64_t)v, v < 0 ? UINT64_MAX : 0);
}

/* Adds h * 2^32 (h unsigned). */
static void acc_add_shifted(acc128 *a, uint64_t h) { acc_add(a, h << 32, h >> 32); }

static void acc_result(const acc128 *a, lnuma_scalar *out) {
  int neg = (a->hi >> 63) != 0;
  if ((a->hi == 0 && a->lo <= (uint64_t)INT64_MAX) ||
      (a->hi == UINT64_MAX && a->lo > (uint64_t)INT64_MAX)) {
    out->is_int = 1;
    out->i = (int64_t)a->lo; /* two's complement: the low word is the value */
    out->d = (double)out->i;
    return;
  }
  uint64_t lo = a->lo, hi = a->hi;
  if (neg) { /* magnitude = -value */
    lo = ~lo + 1;
    hi = ~hi + (lo == 0);
  }
  double m = (double)hi * 18446744073709551616.0 + (double)lo;
  out->is_int = 0;
  out->i = 0;
  out->d = neg ? -m : m;
}

/* Elements per block: small enough that no block sum can overflow 64 bits
 * (2^20 elements of at most 2^32 each), large enough to amortise. */
#define BLOCK ((size_t)1048576) /* 2^20 */

/* Narrow kinds sum into a uint64 per block.  Signed elements are first
 * biased to unsigned (x + 2^(bits-1): the sign bit flipped), because
 * widening unsigned values is cheap in every vector ISA and sign extension
 * is not (SSE2 has no pmovsx); the bias, m * 2^(bits-1), is taken off per
 * block. */
#define SMALL_SUM(name, type, utype, bias)                                    \
  static void name(const type *p, size_t n, acc128 *a) {                      \
    for (size_t at = 0; at < n; at += BLOCK) {                                \
      size_t m = n - at < BLOCK ? n - at : BLOCK;                             \
      uint64_t s = 0;                                                         \
      for (size_t i = 0; i < m; i++) s += (utype)((utype)p[at + i] ^ (bias)); \
      acc_add_i64(a, (int64_t)s - (int64_t)m * (int64_t)(bias));              \
    }                                                                         \
  }
SMALL_SUM(sum_u8, uint8_t, uint8_t, 0u)
SMALL_SUM(sum_u16, uint16_t, uint16_t, 0u)
SMALL_SUM(sum_u32, uint32_t, uint32_t, 0u)
SMALL_SUM(sum_i8, int8_t, uint8_t, 0x80u)
SMALL_SUM(sum_i16, int16_t, uint16_t, 0x8000u)
SMALL_SUM(sum_i32, int32_t, uint32_t, 0x80000000u)

/* 64-bit elements: each split into its high and low 32-bit halves, summed
 * apart (no carries, so the loop vectorises) and joined per block. */
static void sum_u64(const uint64_t *p, size_t n, acc128 *a) {
  while (n > 0) {
    size_t m = n < BLOCK ? n : BLOCK;
    uint64_t lo = 0, hi = 0;
    /* cppcheck (2.10) takes m for 0 here; it is 1..BLOCK */
    // cppcheck-suppress knownConditionTrueFalse
    for (size_t i = 0; i < m; i++) {
      lo += p[i] & 0xffffffffu;
      hi += p[i] >> 32;
    }
    acc_add(a, lo, 0);
    acc_add_shifted(a, hi);
    p += m;
    n -= m;
  }
}

/* i64: x + 2^63 is x with its sign bit flipped, an unsigned sum; then the
 * n * 2^63 added is taken off again. */
static void sum_i64(const int64_t *p, size_t n, acc128 *a) {
  for (size_t left = n; left > 0;) {
    size_t m = left < BLOCK ? left : BLOCK;
    uint64_t lo = 0, hi = 0;
    // cppcheck-suppress knownConditionTrueFalse
    for (size_t i = 0; i < m; i++) {
      uint64_t u = (uint64_t)p[i] ^ ((uint64_t)1 << 63);
      lo += u & 0xffffffffu;
      hi += u >> 32;
    }
    acc_add(a, lo, 0);
    acc_add_shifted(a, hi);
    p += m;
    left -= m;
  }
  /* - n * 2^63 = -((n >> 1) * 2^64 + (n & 1) * 2^63) */
  uint64_t lo = (uint64_t)(n & 1) << 63, hi = (uint64_t)n >> 1;
  uint64_t nlo = ~lo + 1, nhi = ~hi + (nlo == 0);
  acc_add(a, nlo, nhi);
}

/* Floats: eight partial sums, so the additions are independent (the
 * compiler may not reorder a single floating-point sum). */
#define FLOAT_SUM(name, type)                                                 \
  static double name(const type *p, size_t n) {                               \
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                   \
    size_t i = 0;                                                             \
    for (; i + 8 <= n; i += 8)                                                \
      for (int j = 0; j < 8; j++) s[j] += (double)p[i + (size_t)j];           \
    for (; i < n; i++) s[0] += (double)p[i];                                  \
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])); \
  }
FLOAT_SUM(sum_f32, float)
FLOAT_SUM(sum_f64, double)

int lnuma_bulk_sum(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out,
                   lnuma_error *err) {
  if (check(data, kind, n, err) != 0) return -1;
  acc128 a = {0, 0};
  out->is_int = 0;
  out->i = 0;
  switch (kind) {
  case LNUMA_KIND_U8: sum_u8(data, n, &a); break;
  case LNUMA_KIND_U16: sum_u16(data, n, &a); break;
  case LNUMA_KIND_U32: sum_u32(data, n, &a); break;
  case LNUMA_KIND_U64: sum_u64(data, n, &a); break;
  case LNUMA_KIND_I8: sum_i8(data, n, &a); break;
  case LNUMA_KIND_I16: sum_i16(data, n, &a); break;
  case LNUMA_KIND_I32: sum_i32(data, n, &a); break;
  case LNUMA_KIND_I64: sum_i64(data, n, &a); break;
  case LNUMA_KIND_F32: out->d = sum_f32(data, n); return 0;
  default: out->d = sum_f64(data, n); return 0;
  }
  acc_result(&a, out);
  return 0;
}

/* ---- min and max ------------------------------------------------------------ */

/* Integer kinds: one running extreme per lane of eight (a reduction the
 * compiler turns into vector min/max). */
#define INT_EXTREME(name, type, op)                                           \
  static type name(const type *p, size_t n) {                                 \
    type m[8];                                                                \
    for (int j = 0; j < 8; j++) m[j] = p[0];                                  \
    size_t i = 0;                                                             \
    for (; i + 8 <= n; i += 8)                                                \
      for (int j = 0; j < 8; j++) {                                           \
        type x = p[i + (size_t)j];                                            \
        m[j] = x op m[j] ? x : m[j];                                          \
      }                                                                       \
    for (; i < n; i++) m[0] = p[i] op m[0] ? p[i] : m[0];                     \
    for (int j = 1; j < 8; j++) m[0] = m[j] op m[0] ? m[j] : m[0];            \
    return m[0];                                                              \
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

/* Floats: lanes start at the identity (+inf for min, -inf for max); a NaN
 * compares false and so never replaces a lane.  When the result is still
 * the identity, the range is checked for one non-NaN element (all NaN: the
 * answer is NaN); that rare case costs a second pass, the common one none. */
#define FLOAT_EXTREME(name, type, op, start)                                  \
  static double name(const type *p, size_t n) {                               \
    type m[8];                                                                \
    for (int j = 0; j < 8; j++) m[j] = start;                                 \
    size_t i = 0;                                                             \
    for (; i + 8 <= n; i += 8)                                                \
      for (int j = 0; j < 8; j++) {                                           \
        type x = p[i + (size_t)j];                                            \
        m[j] = x op m[j] ? x : m[j];                                          \
      }                                                                       \
    for (; i < n; i++) m[0] = p[i] op m[0] ? p[i] : m[0];                     \
    for (int j = 1; j < 8; j++) m[0] = m[j] op m[0] ? m[j] : m[0];            \
    if (m[0] == start) {                                                      \
      for (i = 0; i < n; i++)                                                 \
        if (p[i] == p[i]) return (double)m[0];                                \
      return (double)NAN;                                                     \
    }                                                                         \
    return (double)m[0];                                                      \
  }
FLOAT_EXTREME(min_f32, float, <, INFINITY)
FLOAT_EXTREME(min_f64, double, <, INFINITY)
FLOAT_EXTREME(max_f32, float, >, -INFINITY)
FLOAT_EXTREME(max_f64, double, >, -INFINITY)

static int extreme(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out, int want_max,
                   lnuma_error *err) {
  if (check(data, kind, n, err) != 0) return -1;
  if (n == 0) return lnuma__fail(err, ENODATA, "%s of an empty range", want_max ? "max" : "min");
  out->is_int = !lnuma_kind_is_float(kind);
  out->i = 0;
  out->d = 0;
  switch (kind) {
  case LNUMA_KIND_U8: out->i = want_max ? max_u8(data, n) : min_u8(data, n); break;
  case LNUMA_KIND_U16: out->i = want_max ? max_u16(data, n) : min_u16(data, n); break;
  case LNUMA_KIND_U32: out->i = want_max ? max_u32(data, n) : min_u32(data, n); break;
  case LNUMA_KIND_U64: out->i = (int64_t)(want_max ? max_u64(data, n) : min_u64(data, n)); break;
  case LNUMA_KIND_I8: out->i = want_max ? max_i8(data, n) : min_i8(data, n); break;
  case LNUMA_KIND_I16: out->i = want_max ? max_i16(data, n) : min_i16(data, n); break;
  case LNUMA_KIND_I32: out->i = want_max ? max_i32(data, n) : min_i32(data, n); break;
  case LNUMA_KIND_I64: out->i = want_max ? max_i64(data, n) : min_i64(data, n); break;
  case LNUMA_KIND_F32: out->d = want_max ? max_f32(data, n) : min_f32(data, n); break;
  default: out->d = want_max ? max_f64(data, n) : min_f64(data, n); break;
  }
  if (out->is_int) out->d = (double)out->i;
  return 0;
}

int lnuma_bulk_min(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out,
                   lnuma_error *err) {
  return extreme(data, kind, n, out, 0, err);
}

int lnuma_bulk_max(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out,
                   lnuma_error *err) {
  return extreme(data, kind, n, out, 1, err);
}

/* ---- fill ------------------------------------------------------------------- */

#define FILL(name, type)                                                      \
  static void name(type *p, size_t n, type v) {                               \
    for (size_t i = 0; i < n; i++) p[i] = v;                                  \
  }
FILL(fill_16, uint16_t)
FILL(fill_32, uint32_t)
FILL(fill_64, uint64_t)

int lnuma_bulk_fill(void *data, lnuma_kind kind, size_t n, lnuma_scalar value,
                    lnuma_error *err) {
  if (check(data, kind, n, err) != 0) return -1;
  if (lnuma_kind_is_float(kind)) {
    double d = value.is_int ? (double)value.i : value.d;
    if (kind == LNUMA_KIND_F32) {
      float f = (float)d;
      uint32_t bits;
      memcpy(&bits, &f, sizeof bits);
      fill_32(data, n, bits);
    } else {
      uint64_t bits;
      memcpy(&bits, &d, sizeof bits);
      fill_64(data, n, bits);
    }
    return 0;
  }
  if (!value.is_int)
    return lnuma__fail(err, EINVAL, "%s elements take an integer value", kind_names[kind]);
  int64_t lo, hi;
  lnuma_kind_range(kind, &lo, &hi);
  if (value.i < lo || value.i > hi)
    return lnuma__fail(err, ERANGE, "value %lld out of range for %s (%lld..%lld)",
                       (long long)value.i, kind_names[kind], (long long)lo, (long long)hi);
  switch (kind_sizes[kind]) {
  case 1: memset(data, (int)(uint8_t)value.i, n); break;
  case 2: fill_16(data, n, (uint16_t)value.i); break;
  case 4: fill_32(data, n, (uint32_t)value.i); break;
  default: fill_64(data, n, (uint64_t)value.i); break;
  }
  return 0;
}
