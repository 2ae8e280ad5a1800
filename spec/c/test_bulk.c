/* C tests of the typed-range operations (lnuma/bulk.h) and of
 * lnuma_histogram_record_many: kinds, exact integer sums across blocks and
 * past int64, unsigned u64, NaN in min/max, fills, and the checks made
 * before memory is touched (kind, alignment, empty ranges, value range). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lnuma.h"

static void kinds_have_names_sizes_and_ranges(void **state) {
  (void)state;
  static const char *const names[] = {"u8", "u16", "u32", "u64", "i8",
                                      "i16", "i32", "i64", "f32", "f64"};
  static const size_t sizes[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
  for (int k = 0; k < LNUMA_KIND_COUNT; k++) {
    assert_int_equal(lnuma_kind_parse(names[k], strlen(names[k])), k);
    assert_string_equal(lnuma_kind_name((lnuma_kind)k), names[k]);
    assert_int_equal(lnuma_kind_size((lnuma_kind)k), sizes[k]);
  }
  assert_int_equal(lnuma_kind_parse("u12", 3), -1);
  assert_int_equal(lnuma_kind_parse("u8x", 2), LNUMA_KIND_U8); /* len counts */
  assert_null(lnuma_kind_name(LNUMA_KIND_COUNT));
  assert_int_equal(lnuma_kind_size(LNUMA_KIND_COUNT), 0);
  int64_t lo, hi;
  assert_int_equal(lnuma_kind_range(LNUMA_KIND_I16, &lo, &hi), 0);
  assert_int_equal(lo, -32768);
  assert_int_equal(hi, 32767);
  assert_int_equal(lnuma_kind_range(LNUMA_KIND_F32, &lo, &hi), -1);
}

static void small_sums_are_exact_across_blocks(void **state) {
  (void)state;
  size_t n = ((size_t)1 << 20) * 3 + 5; /* three full blocks and a bit */
  uint8_t *u = malloc(n);
  assert_non_null(u);
  memset(u, 255, n);
  lnuma_scalar s;
  assert_int_equal(lnuma_bulk_sum(u, LNUMA_KIND_U8, n, &s, NULL), 0);
  assert_true(s.is_int);
  assert_int_equal(s.i, (int64_t)n * 255);
  assert_int_equal(lnuma_bulk_sum(u, LNUMA_KIND_I8, n, &s, NULL), 0);
  assert_int_equal(s.i, -(int64_t)n);
  free(u);
  int32_t v[7] = {INT32_MIN, INT32_MIN, -1, 0, 1, INT32_MAX, INT32_MAX};
  assert_int_equal(lnuma_bulk_sum(v, LNUMA_KIND_I32, 7, &s, NULL), 0);
  assert_int_equal(s.i, -2);
  assert_int_equal(lnuma_bulk_sum(v, LNUMA_KIND_U32, 7, &s, NULL), 0);
  assert_int_equal(s.i, 2 * INT64_C(2147483648) + 4294967295 + 1 + 2 * INT64_C(2147483647));
}

static void wide_sums_never_wrap(void **state) {
  (void)state;
  /* MAX + MAX + MIN + 5 = MAX + 4: a C loop would wrap to a negative */
  int64_t big[5] = {INT64_MAX, INT64_MAX, INT64_MIN, 5, -5};
  lnuma_scalar s;
  assert_int_equal(lnuma_bulk_sum(big, LNUMA_KIND_I64, 4, &s, NULL), 0);
  assert_false(s.is_int);
  assert_true(s.d == 9223372036854775808.0); /* 2^63 + 3, to the nearest double */
  assert_int_equal(lnuma_bulk_sum(big, LNUMA_KIND_I64, 5, &s, NULL), 0);
  assert_true(s.is_int); /* back in range: exact */
  assert_int_equal(s.i, INT64_MAX - 1);
}

static void sums_past_int64_are_doubles(void **state) {
  (void)state;
  int64_t big[3] = {INT64_MAX, INT64_MAX, INT64_MAX};
  lnuma_scalar s;
  assert_int_equal(lnuma_bulk_sum(big, LNUMA_KIND_I64, 3, &s, NULL), 0);
  assert_false(s.is_int);
  assert_true(fabs(s.d - 3 * 9223372036854775807.0) < 1e4);
  int64_t small[2] = {INT64_MIN, -1};
  assert_int_equal(lnuma_bulk_sum(small, LNUMA_KIND_I64, 2, &s, NULL), 0);
  assert_false(s.is_int);
  assert_true(s.d == -9223372036854775808.0 - 1.0);
  int64_t fits[3] = {INT64_MAX, INT64_MIN, INT64_MIN + 1};
  assert_int_equal(lnuma_bulk_sum(fits, LNUMA_KIND_I64, 3, &s, NULL), 0);
  assert_true(s.is_int);
  assert_int_equal(s.i, INT64_MIN);
  uint64_t u[2] = {UINT64_MAX, 1};
  assert_int_equal(lnuma_bulk_sum(u, LNUMA_KIND_U64, 2, &s, NULL), 0);
  assert_false(s.is_int);
  assert_true(s.d == 18446744073709551616.0);
  assert_int_equal(lnuma_bulk_sum(u, LNUMA_KIND_U64, 1, &s, NULL), 0);
  assert_false(s.is_int); /* 2^64 - 1 does not fit in int64 */
}

static void min_max_compare_u64_unsigned(void **state) {
  (void)state;
  uint64_t u[3] = {5, UINT64_MAX, 7};
  lnuma_scalar s;
  assert_int_equal(lnuma_bulk_max(u, LNUMA_KIND_U64, 3, &s, NULL), 0);
  assert_true(s.is_int);
  assert_int_equal(s.i, -1); /* the bit pattern of 2^64 - 1 */
  assert_int_equal(lnuma_bulk_min(u, LNUMA_KIND_U64, 3, &s, NULL), 0);
  assert_int_equal(s.i, 5);
  assert_int_equal(lnuma_bulk_min(u, LNUMA_KIND_I64, 3, &s, NULL), 0);
  assert_int_equal(s.i, -1);
  int8_t v[11] = {3, -7, 100, -128, 127, 0, 1, 2, 3, 4, 5}; /* past one lane of eight */
  assert_int_equal(lnuma_bulk_min(v, LNUMA_KIND_I8, 11, &s, NULL), 0);
  assert_int_equal(s.i, -128);
  assert_int_equal(lnuma_bulk_max(v, LNUMA_KIND_U8, 11, &s, NULL), 0);
  assert_int_equal(s.i, 249); /* -7 as u8 */
}

static void float_min_max_ignore_nan(void **state) {
  (void)state;
  double d[10] = {NAN, 2, NAN, -3, 9, NAN, NAN, NAN, NAN, 4};
  lnuma_scalar s;
  assert_int_equal(lnuma_bulk_min(d, LNUMA_KIND_F64, 10, &s, NULL), 0);
  assert_false(s.is_int);
  assert_true(s.d == -3);
  assert_int_equal(lnuma_bulk_max(d, LNUMA_KIND_F64, 10, &s, NULL), 0);
  assert_true(s.d == 9);
  assert_int_equal(lnuma_bulk_min(d, LNUMA_KIND_F64, 1, &s, NULL), 0);
  assert_true(isnan(s.d));
  assert_int_equal(lnuma_bulk_sum(d, LNUMA_KIND_F64, 10, &s, NULL), 0);
  assert_true(isnan(s.d));
  float f[3] = {NAN, INFINITY, NAN};
  assert_int_equal(lnuma_bulk_min(f, LNUMA_KIND_F32, 3, &s, NULL), 0);
  assert_true(isinf(s.d) && s.d > 0);
  float g[20];
  for (int i = 0; i < 20; i++) g[i] = 0.25f * (float)i;
  assert_int_equal(lnuma_bulk_sum(g, LNUMA_KIND_F32, 20, &s, NULL), 0);
  assert_true(s.d == 47.5);
}

static void checks_come_before_memory(void **state) {
  (void)state;
  uint64_t buf[4] = {1, 2, 3, 4};
  const char *odd = (const char *)buf + 1;
  lnuma_scalar s;
  lnuma_error err;
  assert_int_equal(lnuma_bulk_sum(odd, LNUMA_KIND_U16, 2, &s, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "2-byte aligned"));
  assert_int_equal(lnuma_bulk_sum(odd, LNUMA_KIND_U8, 2, &s, &err), 0);
  assert_int_equal(lnuma_bulk_min(buf, LNUMA_KIND_U64, 0, &s, &err), -1);
  assert_int_equal(err.code, ENODATA);
  assert_int_equal(lnuma_bulk_max(buf, (lnuma_kind)99, 1, &s, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_int_equal(lnuma_bulk_sum(NULL, LNUMA_KIND_U8, 0, &s, &err), 0);
  assert_true(s.is_int && s.i == 0);
  assert_int_equal(lnuma_bulk_sum(NULL, LNUMA_KIND_F32, 0, &s, &err), 0);
  assert_true(!s.is_int && s.d == 0);
}

static void fill_writes_the_range_only(void **state) {
  (void)state;
  unsigned char m[64];
  memset(m, 0xAA, sizeof m);
  lnuma_scalar v = {1, -2, 0};
  lnuma_error err;
  assert_int_equal(lnuma_bulk_fill(m + 8, LNUMA_KIND_I16, 4, v, &err), 0);
  int16_t x;
  for (int i = 0; i < 4; i++) {
    memcpy(&x, m + 8 + 2 * i, 2);
    assert_int_equal(x, -2);
  }
  assert_int_equal(m[7], 0xAA);
  assert_int_equal(m[16], 0xAA);
  v.i = 256;
  assert_int_equal(lnuma_bulk_fill(m, LNUMA_KIND_U8, 8, v, &err), -1);
  assert_int_equal(err.code, ERANGE);
  assert_non_null(strstr(err.msg, "value 256 out of range for u8"));
  assert_int_equal(m[0], 0xAA);
  lnuma_scalar f = {0, 0, 1.5};
  assert_int_equal(lnuma_bulk_fill(m, LNUMA_KIND_U32, 2, f, &err), -1);
  assert_int_equal(err.code, EINVAL);
  double d[5];
  assert_int_equal(lnuma_bulk_fill(d, LNUMA_KIND_F64, 5, f, &err), 0);
  for (int i = 0; i < 5; i++) assert_true(d[i] == 1.5);
  float g[3];
  lnuma_scalar three = {1, 3, 0};
  assert_int_equal(lnuma_bulk_fill(g, LNUMA_KIND_F32, 3, three, &err), 0);
  assert_true(g[2] == 3.0f);
  uint64_t u[3];
  lnuma_scalar all = {1, -1, 0};
  assert_int_equal(lnuma_bulk_fill(u, LNUMA_KIND_U64, 3, all, &err), 0);
  assert_true(u[1] == UINT64_MAX);
}

static void record_many_equals_recording_each(void **state) {
  (void)state;
  enum { N = 5000 };
  int32_t *v = malloc(N * sizeof *v);
  assert_non_null(v);
  for (int i = 0; i < N; i++) v[i] = (i * 7919) % 20000 - 100; /* some underflow */
  lnuma_histogram *a = lnuma_histogram_new(1, 10000, 3, NULL);
  lnuma_histogram *b = lnuma_histogram_new(1, 10000, 3, NULL);
  lnuma_histogram_record(a, 77, 1);
  lnuma_histogram_record(b, 77, 1);
  assert_int_equal(lnuma_histogram_record_many(a, v, LNUMA_KIND_I32, N, NULL), 0);
  for (int i = 0; i < N; i++) lnuma_histogram_record(b, v[i], 1);
  assert_int_equal(lnuma_histogram_count(a), lnuma_histogram_count(b));
  assert_int_equal(lnuma_histogram_underflow(a), lnuma_histogram_underflow(b));
  assert_int_equal(lnuma_histogram_overflow(a), lnuma_histogram_overflow(b));
  assert_int_equal(lnuma_histogram_min(a), lnuma_histogram_min(b));
  assert_int_equal(lnuma_histogram_max(a), lnuma_histogram_max(b));
  assert_true(fabs(lnuma_histogram_mean(a) - lnuma_histogram_mean(b)) < 1e-9);
  assert_true(fabs(lnuma_histogram_stddev(a) - lnuma_histogram_stddev(b)) < 1e-6);
  lnuma_histogram_bucket x = {0}, y = {0};
  while (lnuma_histogram_next(b, &y)) {
    assert_int_equal(lnuma_histogram_next(a, &x), 1);
    assert_int_equal(x.lowest, y.lowest);
    assert_int_equal(x.count, y.count);
  }
  assert_int_equal(lnuma_histogram_next(a, &x), 0);
  free(v);
  lnuma_histogram_free(a);
  lnuma_histogram_free(b);
}

static void record_many_refuses_whole(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000, 2, NULL);
  double d[2] = {1, 2};
  lnuma_error err;
  assert_int_equal(lnuma_histogram_record_many(h, d, LNUMA_KIND_F64, 2, &err), -1);
  assert_int_equal(err.code, EINVAL);
  uint64_t u[2] = {UINT64_MAX, 3};
  assert_int_equal(lnuma_histogram_record_many(h, (char *)u + 4, LNUMA_KIND_U64, 1, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_int_equal(lnuma_histogram_record_many(h, u, LNUMA_KIND_U64, 2, &err), 0);
  assert_int_equal(lnuma_histogram_min(h), -1); /* u64 as its bit pattern */
  assert_int_equal(lnuma_histogram_underflow(h), 1);
  lnuma_histogram_record(h, 5, INT64_MAX - 3);
  assert_int_equal(lnuma_histogram_record_many(h, u, LNUMA_KIND_U64, 2, &err), -1);
  assert_int_equal(err.code, EOVERFLOW);
  assert_int_equal(lnuma_histogram_count(h), INT64_MAX - 1);
  lnuma_histogram_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kinds_have_names_sizes_and_ranges),
      cmocka_unit_test(small_sums_are_exact_across_blocks),
      cmocka_unit_test(wide_sums_never_wrap),
      cmocka_unit_test(sums_past_int64_are_doubles),
      cmocka_unit_test(min_max_compare_u64_unsigned),
      cmocka_unit_test(float_min_max_ignore_nan),
      cmocka_unit_test(checks_come_before_memory),
      cmocka_unit_test(fill_writes_the_range_only),
      cmocka_unit_test(record_many_equals_recording_each),
      cmocka_unit_test(record_many_refuses_whole),
  };
  return cmocka_run_group_tests_name("bulk", tests, NULL, NULL);
}
