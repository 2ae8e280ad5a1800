/** @file
 * lnuma/bulk.h -- typed ranges of memory: element kinds (u8 .. f64) and the
 * operations on a range of them that a script would otherwise loop over in
 * Lua: sum, min, max, fill.  Plain loops the compiler vectorises; no
 * allocation, no system call.  Included by lnuma.h.
 *
 * Elements are native-endian.  data must be aligned to the element size
 * (EINVAL otherwise: a misaligned typed pointer is undefined behaviour in C).
 *
 * Integer kinds: u64 elements are read as unsigned (0 .. 2^64-1), every
 * other integer kind as its C type.  A sum is exact: it is returned as an
 * int64 when it fits, else as the nearest double (is_int 0), so nothing
 * wraps silently.  min and max compare u64 as unsigned and return the
 * element as its 64-bit pattern in i (what buf:get("u64", i) reads).
 *
 * Float kinds (f32, f64) sum into a double, in blocks of eight partial sums
 * (so the last bits may differ from a sequential loop); NaN and infinities
 * follow IEEE 754 (a NaN element makes the sum NaN).  min and max ignore NaN
 * elements (as C's fmin/fmax); a range of NaNs only gives NaN.
 *
 * Thread safety: any thread; ranges written by one thread must not be read
 * or written by another at the same time.
 */
#ifndef LNUMA_BULK_H
#define LNUMA_BULK_H

#include "../lnuma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Element kinds, in the order of their names "u8" .. "f64". */
typedef enum lnuma_kind {
  LNUMA_KIND_U8, LNUMA_KIND_U16, LNUMA_KIND_U32, LNUMA_KIND_U64,
  LNUMA_KIND_I8, LNUMA_KIND_I16, LNUMA_KIND_I32, LNUMA_KIND_I64,
  LNUMA_KIND_F32, LNUMA_KIND_F64,
  LNUMA_KIND_COUNT
} lnuma_kind;

/** The kind named name (len bytes: "u8", "i32", "f64", ...), or -1. */
LNUMA_API int lnuma_kind_parse(const char *name, size_t len);
/** "u8" .. "f64", or NULL for a value outside the enum. */
LNUMA_API const char *lnuma_kind_name(lnuma_kind kind);
/** Bytes per element (1, 2, 4, 8), or 0 for a value outside the enum. */
LNUMA_API size_t lnuma_kind_size(lnuma_kind kind);
/** 1 for f32 and f64, 0 for the integer kinds. */
LNUMA_API int lnuma_kind_is_float(lnuma_kind kind);
/** The smallest and largest integer an integer kind stores (u64: the whole
 *  int64 range, as its bit pattern).  -1 with EINVAL for a float kind. */
LNUMA_API int lnuma_kind_range(lnuma_kind kind, int64_t *lo, int64_t *hi);

/** A scalar: an integer (is_int 1, value in i) or a double (is_int 0, d). */
typedef struct lnuma_scalar {
  int is_int; /**< 1: the value is the integer i; 0: the double d */
  int64_t i;  /**< the value when is_int (u64 elements as their bit pattern) */
  double d;   /**< the value when not is_int */
} lnuma_scalar;

/** The sum of n elements of kind at data (n == 0: integer 0, or 0.0 for
 *  floats).  0, or -1 with EINVAL (bad kind, misaligned data). */
LNUMA_API int lnuma_bulk_sum(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out,
                             lnuma_error *err);
/** The smallest of n elements.  0, or -1 with EINVAL (bad kind, misaligned
 *  data) or ENODATA (n == 0). */
LNUMA_API int lnuma_bulk_min(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out,
                             lnuma_error *err);
/** The largest of n elements.  0, or -1 with EINVAL (bad kind, misaligned
 *  data) or ENODATA (n == 0). */
LNUMA_API int lnuma_bulk_max(const void *data, lnuma_kind kind, size_t n, lnuma_scalar *out,
                             lnuma_error *err);
/** Stores value into n elements of kind at data.  An integer kind takes
 *  value.i, which must lie in lnuma_kind_range (ERANGE otherwise, nothing
 *  written; value.is_int must be 1, EINVAL otherwise); a float kind takes
 *  value.d (or value.i when is_int), f32 rounded.  0, or -1. */
LNUMA_API int lnuma_bulk_fill(void *data, lnuma_kind kind, size_t n, lnuma_scalar value,
                              lnuma_error *err);

#ifdef __cplusplus
}
#endif

#endif
