/* Typed ranges: sum, min, max and fill over n elements of one kind (see
 * lnuma/bulk.h for the semantics).  The inner loops are bulk_loops.h's,
 * compiled per ISA and chosen here at run time; fills stream through the
 * bandwidth write kernel, so that both run at memory speed. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "bulk_loops.h"
#include "internal.h"
#include "kernels_internal.h"

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

/* The AVX-512 loops need BW, CD, DQ and VL beside F (byte, word and 64-bit
 * lanes, lane-wise leading zeros). */
const lnuma__bulk_ops *lnuma__bulk_ops_best(void) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return &lnuma__bulk_avx512;
  if (__builtin_cpu_supports("avx2")) return &lnuma__bulk_avx2;
#endif
  return &lnuma__bulk_base;
}

/* Elements per block: small enough that no block sum can overflow 64 bits
 * (2^20 elements of at most 2^32 each), large enough to amortise. */
#define BLOCK ((size_t)1048576) /* 2^20 */

/* Integer kinds, block by block into the 128-bit accumulator.  Signed
 * elements are summed biased to unsigned (x + 2^(bits-1): the sign bit
 * flipped), because widening unsigned values is cheap in every vector ISA
 * and sign extension is not (SSE2 has no pmovsx); n * 2^(bits-1) is taken
 * off at the end. */
static void int_sum(const lnuma__bulk_ops *o, lnuma_kind kind, const char *p, size_t n,
                    acc128 *a) {
  size_t w = kind_sizes[kind];
  for (size_t at = 0; at < n; at += BLOCK) {
    size_t m = n - at < BLOCK ? n - at : BLOCK;
    if (w < 8) {
      acc_add(a, o->narrow_sum[kind](p + at * w, m), 0);
    } else {
      uint64_t lo, hi;
      o->wide_sum[kind](p + at * w, m, &lo, &hi);
      acc_add(a, lo, 0);
      acc_add_shifted(a, hi);
    }
  }
  if (kind >= LNUMA_KIND_I8) { /* - n * 2^(bits-1), as a 128-bit two's complement */
    unsigned bits = 8 * (unsigned)w - 1; /* 7, 15, 31 or 63 */
    uint64_t lo = (uint64_t)n << bits, hi = (uint64_t)n >> (64 - bits);
    uint64_t nlo = ~lo + 1, nhi = ~hi + (nlo == 0);
    acc_add(a, nlo, nhi);
  }
}

int lnuma_bulk_sum(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out,
                   lnuma_error *err) {
  if (check(data, kind, n, err) != 0) return -1;
  const lnuma__bulk_ops *o = lnuma__bulk_ops_best();
  out->is_int = 0;
  out->i = 0;
  if (lnuma_kind_is_float(kind)) {
    out->d = o->float_sum[kind - LNUMA_KIND_F32](data, n);
    return 0;
  }
  acc128 a = {0, 0};
  int_sum(o, kind, data, n, &a);
  acc_result(&a, out);
  return 0;
}

/* ---- min and max ------------------------------------------------------------ */

static int extreme(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out, int want_max,
                   lnuma_error *err) {
  if (check(data, kind, n, err) != 0) return -1;
  if (n == 0) return lnuma__fail(err, ENODATA, "%s of an empty range", want_max ? "max" : "min");
  const lnuma__bulk_ops *o = lnuma__bulk_ops_best();
  out->is_int = !lnuma_kind_is_float(kind);
  if (out->is_int) {
    out->i = (int64_t)(want_max ? o->int_max[kind] : o->int_min[kind])(data, n);
    out->d = (double)out->i;
    return 0;
  }
  int f = kind - LNUMA_KIND_F32;
  out->i = 0;
  out->d = (want_max ? o->float_max[f] : o->float_min[f])(data, n);
  if (out->d == (want_max ? -INFINITY : INFINITY)) {
    /* Still the identity: either that is the answer, or the range held no
     * number at all (all NaN: the answer is NaN); a second pass tells, in
     * that rare case only. */
    size_t w = kind_sizes[kind];
    for (size_t i = 0; i < n; i++) {
      double x;
      if (w == 4) {
        float y;
        memcpy(&y, (const char *)data + i * w, 4);
        x = y;
      } else {
        memcpy(&x, (const char *)data + i * w, 8);
      }
      if (x == x) return 0;
    }
    out->d = NAN;
  }
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

/* Stores n elements of w bytes, all of them the w-byte value in the low bits
 * of pattern (repeated to 64 bits): the unaligned head and the tail element
 * by element, the 64-byte-aligned middle, in multiples of the kernel granule,
 * by the bandwidth write kernel of the best ISA in the walk order the vendor
 * table gives (the store loop lnuma measures as its write bandwidth). */
static void fill_pattern(char *p, size_t n, size_t w, uint64_t pattern) {
  size_t bytes = n * w, head = (size_t)(-(uintptr_t)p & 63);
  if (head > bytes) head = bytes;
  size_t mid = (bytes - head) - (bytes - head) % LNUMA_KERNEL_GRANULE;
  lnuma__kfn write = lnuma__kernel_fn(LNUMA_KERNEL_WRITE, LNUMA_ISA_AUTO);
  if (write == NULL) mid = 0;
  /* head and the tail are multiples of w (p and 64 are aligned to w) */
  for (size_t i = 0; i < head; i += w) memcpy(p + i, &pattern, w);
  if (mid > 0) {
    double s;
    memcpy(&s, &pattern, sizeof s); /* the kernel stores the bits of s */
    write(p + head, NULL, NULL, mid, s);
  }
  for (size_t i = head + mid; i < bytes; i += w) memcpy(p + i, &pattern, w);
}

int lnuma_bulk_fill(void *data, lnuma_kind kind, size_t n, lnuma_scalar value,
                    lnuma_error *err) {
  if (check(data, kind, n, err) != 0) return -1;
  if (lnuma_kind_is_float(kind)) {
    double d = value.is_int ? (double)value.i : value.d;
    uint64_t bits;
    if (kind == LNUMA_KIND_F32) {
      float f = (float)d;
      uint32_t b32;
      memcpy(&b32, &f, sizeof b32);
      bits = b32 * UINT64_C(0x0000000100000001);
    } else {
      memcpy(&bits, &d, sizeof bits);
    }
    fill_pattern(data, n, kind_sizes[kind], bits);
    return 0;
  }
  if (!value.is_int)
    return lnuma__fail(err, EINVAL, "%s elements take an integer value", kind_names[kind]);
  int64_t lo, hi;
  lnuma_kind_range(kind, &lo, &hi);
  if (value.i < lo || value.i > hi)
    return lnuma__fail(err, ERANGE, "value %lld out of range for %s (%lld..%lld)",
                       (long long)value.i, kind_names[kind], (long long)lo, (long long)hi);
  /* The value repeated to 64 bits (on a little-endian machine the element
   * is the low bytes, and every w-byte piece of the pattern is the value). */
  static const uint64_t repeat[9] = {0, UINT64_C(0x0101010101010101),
                                     UINT64_C(0x0001000100010001), 0,
                                     UINT64_C(0x0000000100000001), 0, 0, 0, 1};
  size_t w = kind_sizes[kind];
  uint64_t mask = w == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * w)) - 1;
  fill_pattern(data, n, w, ((uint64_t)value.i & mask) * repeat[w]);
  return 0;
}
