/* C tests of the log-linear histogram: shapes, precision of percentiles on
 * known distributions, exact min/max/mean/stddev, out-of-range values,
 * merge, iteration, reset and caller-provided memory. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lnuma.h"

#define HOUR_NS INT64_C(3600000000000)

static double pow10i(int p) {
  double r = 1;
  while (p-- > 0) r *= 10;
  return r;
}

/* true when reported is within the stated precision of exact: never below,
 * at most exact * (1 + 10^-precision) */
static int within(int64_t reported, int64_t exact, int precision) {
  if (reported < exact) return 0;
  return (double)(reported - exact) <= (double)exact / pow10i(precision);
}

static void bad_shapes_are_refused(void **state) {
  (void)state;
  lnuma_error err;
  assert_null(lnuma_histogram_new(1, 1000, 0, &err));
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "precision"));
  assert_null(lnuma_histogram_new(1, 1000, 6, &err));
  assert_non_null(strstr(err.msg, "precision 6"));
  assert_null(lnuma_histogram_new(0, 1000, 3, &err));
  assert_non_null(strstr(err.msg, "lowest 0"));
  assert_null(lnuma_histogram_new(-5, 1000, 3, &err));
  assert_null(lnuma_histogram_new(1000, 1000, 3, &err));
  assert_non_null(strstr(err.msg, "below highest"));
  assert_null(lnuma_histogram_new(2000, 1000, 3, &err));
  assert_int_equal(lnuma_histogram_footprint(1, 1000, 9, &err), 0);
  assert_int_equal(err.code, EINVAL);
}

static void uniform_percentiles_hold_the_precision(void **state) {
  (void)state;
  for (int precision = 1; precision <= 5; precision++) {
    lnuma_histogram *h = lnuma_histogram_new(1, HOUR_NS, precision, NULL);
    assert_non_null(h);
    for (int64_t v = 1; v <= 1000000; v++) lnuma_histogram_record(h, v, 1);
    assert_int_equal(lnuma_histogram_count(h), 1000000);
    assert_int_equal(lnuma_histogram_min(h), 1);
    assert_int_equal(lnuma_histogram_max(h), 1000000);
    assert_true(fabs(lnuma_histogram_mean(h) - 500000.5) < 1e-6);
    /* population stddev of 1..n: sqrt((n^2 - 1) / 12) */
    assert_true(fabs(lnuma_histogram_stddev(h) - sqrt((1e12 - 1) / 12)) < 1e-3);
    const double ps[] = {1, 10, 25, 50, 75, 90, 99, 99.9, 99.99};
    int64_t out[9];
    assert_int_equal(lnuma_histogram_percentiles(h, ps, out, 9, NULL), 0);
    for (int i = 0; i < 9; i++) {
      int64_t exact = (int64_t)llround(ps[i] * 10000);
      assert_true(within(out[i], exact, precision));
    }
    int64_t v;
    assert_int_equal(lnuma_histogram_percentile(h, 0, &v, NULL), 0);
    assert_int_equal(v, 1);
    assert_int_equal(lnuma_histogram_percentile(h, 100, &v, NULL), 0);
    assert_int_equal(v, 1000000);
    lnuma_histogram_free(h);
  }
}

static void a_constant_is_exact(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, HOUR_NS, 2, NULL);
  lnuma_histogram_record(h, 123456789, 1000);
  const double ps[] = {0, 50, 99.9, 100};
  int64_t out[4];
  assert_int_equal(lnuma_histogram_percentiles(h, ps, out, 4, NULL), 0);
  for (int i = 0; i < 4; i++) assert_int_equal(out[i], 123456789);
  assert_true(lnuma_histogram_mean(h) == 123456789.0);
  assert_true(lnuma_histogram_stddev(h) == 0.0);
  assert_int_equal(lnuma_histogram_count(h), 1000);
  lnuma_histogram_free(h);
}

static void a_two_point_mix_splits_at_its_weight(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, HOUR_NS, 3, NULL);
  lnuma_histogram_record(h, 100, 900);
  lnuma_histogram_record(h, 10000, 100);
  const double ps[] = {50, 90, 90.1, 99, 100};
  int64_t out[5];
  assert_int_equal(lnuma_histogram_percentiles(h, ps, out, 5, NULL), 0);
  assert_int_equal(out[0], 100);
  assert_int_equal(out[1], 100);
  assert_true(within(out[2], 10000, 3));
  assert_true(within(out[3], 10000, 3));
  assert_int_equal(out[4], 10000);
  assert_true(fabs(lnuma_histogram_mean(h) - 1090.0) < 1e-9);
  /* sqrt(0.9*0.1) * 9900 */
  assert_true(fabs(lnuma_histogram_stddev(h) - 2970.0) < 1e-6);
  lnuma_histogram_free(h);
}

static void requests_in_any_order_get_the_same_answers(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000000, 3, NULL);
  for (int64_t v = 1; v <= 5000; v++) lnuma_histogram_record(h, v * 7 % 10007, 1);
  const double up[] = {10, 50, 90, 99}, down[] = {99, 90, 50, 10};
  int64_t a[4], b[4], one;
  lnuma_histogram_percentiles(h, up, a, 4, NULL);
  lnuma_histogram_percentiles(h, down, b, 4, NULL);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(a[i], b[3 - i]);
    lnuma_histogram_percentile(h, up[i], &one, NULL);
    assert_int_equal(one, a[i]);
  }
  lnuma_histogram_free(h);
}

static void bad_percentiles_and_empty_histograms(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000, 3, NULL);
  int64_t v;
  assert_int_equal(lnuma_histogram_percentile(h, 50, &v, &err), -1);
  assert_int_equal(err.code, ENODATA);
  assert_int_equal(lnuma_histogram_min(h), 0);
  assert_true(lnuma_histogram_mean(h) == 0);
  lnuma_histogram_record(h, 5, 1);
  assert_int_equal(lnuma_histogram_percentile(h, 100.5, &v, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "100.5"));
  assert_int_equal(lnuma_histogram_percentile(h, -1, &v, &err), -1);
  assert_int_equal(lnuma_histogram_percentile(h, NAN, &v, &err), -1);
  lnuma_histogram_free(h);
}

static void out_of_range_values_are_counted_not_dropped(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(100, 1000, 3, NULL);
  lnuma_histogram_record(h, 5, 2);      /* underflow */
  lnuma_histogram_record(h, -7, 1);     /* underflow */
  lnuma_histogram_record(h, 500, 4);    /* in range */
  lnuma_histogram_record(h, 100000, 3); /* overflow */
  assert_int_equal(lnuma_histogram_count(h), 10);
  assert_int_equal(lnuma_histogram_underflow(h), 3);
  assert_int_equal(lnuma_histogram_overflow(h), 3);
  assert_int_equal(lnuma_histogram_min(h), -7);
  assert_int_equal(lnuma_histogram_max(h), 100000);
  assert_true(fabs(lnuma_histogram_mean(h) - (10 - 7 + 2000 + 300000) / 10.0) < 1e-9);
  int64_t v;
  lnuma_histogram_percentile(h, 10, &v, NULL); /* rank 1: an underflow value */
  assert_int_equal(v, 99);                     /* lowest - 1, their upper bound */
  lnuma_histogram_percentile(h, 50, &v, NULL);
  assert_int_equal(v, 500);
  lnuma_histogram_percentile(h, 80, &v, NULL); /* rank 8: overflow */
  assert_int_equal(v, 100000);
  lnuma_histogram_percentile(h, 0, &v, NULL);
  assert_int_equal(v, -7);
  /* iteration covers only in-range buckets; cumulative starts at underflow */
  lnuma_histogram_bucket b = {0};
  assert_int_equal(lnuma_histogram_next(h, &b), 1);
  assert_true(b.lowest <= 500 && 500 <= b.highest);
  assert_int_equal(b.count, 4);
  assert_int_equal(b.cumulative, 7);
  assert_int_equal(lnuma_histogram_next(h, &b), 0);
  lnuma_histogram_free(h);
}

static void only_out_of_range_values(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(100, 1000, 3, NULL);
  lnuma_histogram_record(h, 1, 1);
  lnuma_histogram_record(h, 5000, 1);
  int64_t v;
  assert_int_equal(lnuma_histogram_percentile(h, 50, &v, NULL), 0);
  assert_int_equal(v, 99);
  assert_int_equal(lnuma_histogram_percentile(h, 99, &v, NULL), 0);
  assert_int_equal(v, 5000);
  lnuma_histogram_bucket b = {0};
  assert_int_equal(lnuma_histogram_next(h, &b), 0);
  lnuma_histogram_free(h);
}

static void merge_equals_recording_both(void **state) {
  (void)state;
  lnuma_histogram *a = lnuma_histogram_new(1, HOUR_NS, 3, NULL);
  lnuma_histogram *b = lnuma_histogram_new(1, HOUR_NS, 3, NULL);
  lnuma_histogram *both = lnuma_histogram_new(1, HOUR_NS, 3, NULL);
  uint64_t x = 12345;
  for (int i = 0; i < 100000; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    int64_t v = (int64_t)(x >> 40) + 1;
    lnuma_histogram_record(i % 3 ? a : b, v + (i % 3 ? 0 : 50000), 1);
    lnuma_histogram_record(both, v + (i % 3 ? 0 : 50000), 1);
  }
  assert_int_equal(lnuma_histogram_merge(a, b, NULL), 0);
  assert_int_equal(lnuma_histogram_count(a), lnuma_histogram_count(both));
  assert_int_equal(lnuma_histogram_min(a), lnuma_histogram_min(both));
  assert_int_equal(lnuma_histogram_max(a), lnuma_histogram_max(both));
  assert_true(fabs(lnuma_histogram_mean(a) - lnuma_histogram_mean(both)) < 1e-6);
  assert_true(fabs(lnuma_histogram_stddev(a) - lnuma_histogram_stddev(both)) <
              1e-6 * lnuma_histogram_stddev(both));
  lnuma_histogram_bucket p = {0}, q = {0};
  int n = 0;
  while (lnuma_histogram_next(a, &p)) {
    assert_int_equal(lnuma_histogram_next(both, &q), 1);
    assert_int_equal(p.lowest, q.lowest);
    assert_int_equal(p.count, q.count);
    n++;
  }
  assert_int_equal(lnuma_histogram_next(both, &q), 0);
  assert_true(n > 100);
  lnuma_histogram_free(a);
  lnuma_histogram_free(b);
  lnuma_histogram_free(both);
}

static void merge_into_itself_doubles(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000000, 3, NULL);
  lnuma_histogram_record(h, 10, 1);
  lnuma_histogram_record(h, 30, 1);
  assert_int_equal(lnuma_histogram_merge(h, h, NULL), 0);
  assert_int_equal(lnuma_histogram_count(h), 4);
  assert_true(fabs(lnuma_histogram_mean(h) - 20) < 1e-12);
  assert_true(fabs(lnuma_histogram_stddev(h) - 10) < 1e-12);
  lnuma_histogram_free(h);
}

static void merge_refuses_other_shapes(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_histogram *a = lnuma_histogram_new(1, 1000, 3, NULL);
  lnuma_histogram *b = lnuma_histogram_new(1, 1000, 2, NULL);
  lnuma_histogram *c = lnuma_histogram_new(1, 2000, 3, NULL);
  lnuma_histogram_record(b, 5, 1);
  assert_int_equal(lnuma_histogram_merge(a, b, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "shape"));
  assert_int_equal(lnuma_histogram_merge(a, c, &err), -1);
  assert_int_equal(lnuma_histogram_count(a), 0);
  lnuma_histogram_free(a);
  lnuma_histogram_free(b);
  lnuma_histogram_free(c);
}

static void buckets_cover_every_in_range_value(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000000, 2, NULL);
  for (int64_t v = 1; v <= 10000; v += 3) lnuma_histogram_record(h, v, 2);
  lnuma_histogram_bucket b = {0};
  int64_t total = 0, prev_high = 0;
  while (lnuma_histogram_next(h, &b)) {
    assert_true(b.count > 0);
    assert_true(b.lowest > prev_high);
    assert_true(b.highest >= b.lowest);
    /* bucket width within the precision of its values */
    assert_true((double)(b.highest - b.lowest + 1) <= (double)b.lowest / 100.0 + 1);
    total += b.count;
    assert_int_equal(b.cumulative, total);
    prev_high = b.highest;
  }
  assert_int_equal(total, lnuma_histogram_count(h));
  lnuma_histogram_free(h);
}

static void lowest_sets_where_the_precision_starts(void **state) {
  (void)state;
  /* precision holds right from lowest, however large lowest is */
  lnuma_histogram *h = lnuma_histogram_new(1000000, 1000000000, 3, NULL);
  lnuma_histogram_record(h, 1000000, 1);
  lnuma_histogram_record(h, 1000999, 1);
  int64_t v;
  lnuma_histogram_percentile(h, 50, &v, NULL);
  assert_true(within(v, 1000000, 3));
  lnuma_histogram_free(h);
}

/* A histogram holds at most INT64_MAX values: a record or merge past that
 * is refused whole, and everything read afterwards stays exact. */
static void counts_stop_at_int64_max(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000, 3, NULL);
  assert_int_equal(lnuma_histogram_record(h, 5, INT64_MAX), 0);
  assert_int_equal(lnuma_histogram_record(h, 5, INT64_MAX), -1);
  assert_int_equal(lnuma_histogram_record(h, 7, 1), -1);
  assert_int_equal(lnuma_histogram_record(h, 7, 0), 0); /* nothing to record */
  assert_int_equal(lnuma_histogram_count(h), INT64_MAX);
  assert_int_equal(lnuma_histogram_max(h), 5);
  assert_true(lnuma_histogram_mean(h) == 5);
  static const double ps[] = {0, 50, 99.999, 100};
  int64_t out[4] = {-1, -1, -1, -1};
  assert_int_equal(lnuma_histogram_percentiles(h, ps, out, 4, NULL), 0);
  for (int i = 0; i < 4; i++) assert_int_equal(out[i], 5);
  lnuma_histogram *one = lnuma_histogram_new(1, 1000, 3, NULL);
  lnuma_histogram_record(one, 9, 1);
  assert_int_equal(lnuma_histogram_merge(h, one, &err), -1);
  assert_int_equal(err.code, EOVERFLOW);
  assert_int_equal(lnuma_histogram_merge(h, h, &err), -1);
  assert_int_equal(lnuma_histogram_count(h), INT64_MAX);
  assert_int_equal(lnuma_histogram_max(h), 5);
  assert_int_equal(lnuma_histogram_merge(one, one, &err), 0);
  assert_int_equal(lnuma_histogram_count(one), 2);
  lnuma_histogram_free(one);
  lnuma_histogram_free(h);
}

/* Sums stay in range at the extremes: values 2^64 apart, INT64_MAX of them. */
static void sums_of_extreme_values_do_not_overflow(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, INT64_MAX, 2, NULL);
  assert_int_equal(lnuma_histogram_record(h, INT64_MIN, INT64_C(1) << 62), 0);
  assert_int_equal(lnuma_histogram_record(h, INT64_MAX, (INT64_C(1) << 62) - 1), 0);
  assert_int_equal(lnuma_histogram_count(h), INT64_MAX);
  assert_true(fabs(lnuma_histogram_mean(h)) < 1e6); /* half at each end: about 0 */
  assert_true(lnuma_histogram_stddev(h) > 9e18);
  int64_t v;
  assert_int_equal(lnuma_histogram_percentile(h, 100, &v, NULL), 0);
  assert_int_equal(v, INT64_MAX);
  lnuma_histogram_free(h);
}

static void extremes_of_int64(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, INT64_MAX, 3, NULL);
  assert_non_null(h);
  lnuma_histogram_record(h, INT64_MAX, 1);
  lnuma_histogram_record(h, 1, 1);
  lnuma_histogram_record(h, INT64_MIN, 1);
  assert_int_equal(lnuma_histogram_max(h), INT64_MAX);
  assert_int_equal(lnuma_histogram_min(h), INT64_MIN);
  assert_int_equal(lnuma_histogram_underflow(h), 1);
  assert_int_equal(lnuma_histogram_overflow(h), 0);
  int64_t v;
  lnuma_histogram_percentile(h, 99, &v, NULL);
  assert_int_equal(v, INT64_MAX);
  lnuma_histogram_free(h);
  lnuma_error err;
  h = lnuma_histogram_new(INT64_C(1) << 60, INT64_MAX, 5, &err);
  if (h == NULL) {
    assert_int_equal(err.code, EINVAL);
  } else {
    lnuma_histogram_record(h, INT64_MAX, 1);
    assert_int_equal(lnuma_histogram_count(h), 1);
    lnuma_histogram_free(h);
  }
}

static void reset_empties_and_keeps_the_shape(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(10, 1000, 3, NULL);
  lnuma_histogram_record(h, 50, 5);
  lnuma_histogram_record(h, 1, 5);
  lnuma_histogram_reset(h);
  assert_int_equal(lnuma_histogram_count(h), 0);
  assert_int_equal(lnuma_histogram_underflow(h), 0);
  assert_int_equal(lnuma_histogram_lowest(h), 10);
  assert_int_equal(lnuma_histogram_highest(h), 1000);
  assert_int_equal(lnuma_histogram_precision(h), 3);
  lnuma_histogram_bucket b = {0};
  assert_int_equal(lnuma_histogram_next(h, &b), 0);
  lnuma_histogram_record(h, 70, 1);
  assert_int_equal(lnuma_histogram_min(h), 70);
  lnuma_histogram_free(h);
}

static void counts_below_one_record_nothing(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000, 3, NULL);
  lnuma_histogram_record(h, 5, 0);
  lnuma_histogram_record(h, 5, -3);
  assert_int_equal(lnuma_histogram_count(h), 0);
  lnuma_histogram_free(h);
}

static void caller_memory_is_used_and_checked(void **state) {
  (void)state;
  lnuma_error err;
  size_t need = lnuma_histogram_footprint(1, 1000000, 3, &err);
  assert_true(need > 0);
  void *mem = malloc(need);
  assert_null(lnuma_histogram_init_at(mem, need - 1, 1, 1000000, 3, &err));
  assert_int_equal(err.code, ENOSPC);
  lnuma_histogram *h = lnuma_histogram_init_at(mem, need, 1, 1000000, 3, &err);
  assert_ptr_equal(h, mem);
  lnuma_histogram_record(h, 1000000, 1);
  assert_int_equal(lnuma_histogram_count(h), 1);
  free(mem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_shapes_are_refused),
      cmocka_unit_test(uniform_percentiles_hold_the_precision),
      cmocka_unit_test(a_constant_is_exact),
      cmocka_unit_test(a_two_point_mix_splits_at_its_weight),
      cmocka_unit_test(requests_in_any_order_get_the_same_answers),
      cmocka_unit_test(bad_percentiles_and_empty_histograms),
      cmocka_unit_test(out_of_range_values_are_counted_not_dropped),
      cmocka_unit_test(only_out_of_range_values),
      cmocka_unit_test(merge_equals_recording_both),
      cmocka_unit_test(merge_into_itself_doubles),
      cmocka_unit_test(merge_refuses_other_shapes),
      cmocka_unit_test(buckets_cover_every_in_range_value),
      cmocka_unit_test(lowest_sets_where_the_precision_starts),
      cmocka_unit_test(extremes_of_int64),
      cmocka_unit_test(counts_stop_at_int64_max),
      cmocka_unit_test(sums_of_extreme_values_do_not_overflow),
      cmocka_unit_test(reset_empties_and_keeps_the_shape),
      cmocka_unit_test(counts_below_one_record_nothing),
      cmocka_unit_test(caller_memory_is_used_and_checked),
  };
  return cmocka_run_group_tests_name("histogram", tests, NULL, NULL);
}
