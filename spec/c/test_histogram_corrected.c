/* C tests of lnuma_histogram_record_corrected: the coordinated-omission
 * correction gives what recording HdrHistogram's missing values one by one
 * gives (bucket counts, underflow, overflow, min, max, mean, stddev), also
 * when it counts them bucket by bucket, and refuses a count past INT64_MAX. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lnuma.h"

/* What record_corrected promises, one value at a time. */
static void record_one_by_one(lnuma_histogram *h, int64_t v, int64_t n, int64_t step) {
  assert_int_equal(lnuma_histogram_record(h, v, n), 0);
  if (step <= 0) return;
  for (int64_t missing = v - step; missing >= step; missing -= step)
    assert_int_equal(lnuma_histogram_record(h, missing, n), 0);
}

static void assert_same(const lnuma_histogram *a, const lnuma_histogram *b) {
  assert_int_equal(lnuma_histogram_count(a), lnuma_histogram_count(b));
  assert_int_equal(lnuma_histogram_underflow(a), lnuma_histogram_underflow(b));
  assert_int_equal(lnuma_histogram_overflow(a), lnuma_histogram_overflow(b));
  assert_int_equal(lnuma_histogram_min(a), lnuma_histogram_min(b));
  assert_int_equal(lnuma_histogram_max(a), lnuma_histogram_max(b));
  double ma = lnuma_histogram_mean(a), mb = lnuma_histogram_mean(b);
  assert_true(fabs(ma - mb) <= 1e-9 * fabs(mb) + 1e-9);
  double sa = lnuma_histogram_stddev(a), sb = lnuma_histogram_stddev(b);
  assert_true(fabs(sa - sb) <= 1e-6 * sb + 1e-6);
  lnuma_histogram_bucket x = {0}, y = {0};
  for (;;) {
    int more = lnuma_histogram_next(a, &x);
    assert_int_equal(more, lnuma_histogram_next(b, &y));
    if (!more) break;
    assert_int_equal(x.lowest, y.lowest);
    assert_int_equal(x.count, y.count);
  }
}

/* One case: (value, count, interval) recorded after `before`, into a
 * histogram of lowest..highest, both ways. */
static void check_case(int64_t lowest, int64_t highest, int64_t before, int64_t v, int64_t n,
                       int64_t step) {
  lnuma_histogram *fast = lnuma_histogram_new(lowest, highest, 3, NULL);
  lnuma_histogram *slow = lnuma_histogram_new(lowest, highest, 3, NULL);
  assert_non_null(fast);
  assert_non_null(slow);
  if (before != 0) {
    assert_int_equal(lnuma_histogram_record(fast, before, 1), 0);
    assert_int_equal(lnuma_histogram_record(slow, before, 1), 0);
  }
  assert_int_equal(lnuma_histogram_record_corrected(fast, v, n, step), 0);
  record_one_by_one(slow, v, n, step);
  assert_same(fast, slow);
  lnuma_histogram_free(fast);
  lnuma_histogram_free(slow);
}

static void corrected_equals_recording_the_missing_values(void **state) {
  (void)state;
  check_case(1, 3600000000000, 0, 5000, 1, 1000);  /* 4000, 3000, 2000, 1000 added */
  check_case(1, 3600000000000, 0, 1999, 1, 1000);  /* under two intervals: none */
  check_case(1, 3600000000000, 0, 1000, 3, 1000);  /* at the interval: none */
  check_case(1, 3600000000000, 0, 5000, 2, 0);     /* no interval: no correction */
  check_case(1, 3600000000000, 7, 3500, 4, 1000);  /* 2500, 1500; after another value */
  /* Long progressions, counted bucket by bucket (one term per ns here). */
  check_case(1, 3600000000000, 0, 1000000, 1, 1);
  check_case(1, 3600000000000, 50, 777777, 3, 7);
  /* Terms below lowest and above highest are counted, not dropped. */
  check_case(1000, 100000, 0, 250000, 1, 10);
  check_case(1000, 100000, 3, 250000, 2, 333);
}

static void a_huge_progression_takes_no_time_and_keeps_its_sums(void **state) {
  (void)state;
  /* 2^40 - 1 values added: counted per bucket, sums in closed form. */
  lnuma_histogram *h = lnuma_histogram_new(1, INT64_C(3600000000000), 3, NULL);
  assert_non_null(h);
  int64_t v = INT64_C(1) << 40;
  assert_int_equal(lnuma_histogram_record_corrected(h, v, 1, 1), 0);
  assert_int_equal(lnuma_histogram_count(h), v);
  assert_int_equal(lnuma_histogram_min(h), 1);
  assert_int_equal(lnuma_histogram_max(h), v);
  /* The values are 1..v: mean (v + 1) / 2, stddev sqrt((v^2 - 1) / 12). */
  assert_true(fabs(lnuma_histogram_mean(h) - ((double)v + 1) / 2) <= 1e-6 * (double)v);
  double sd = sqrt(((double)v * (double)v - 1) / 12);
  assert_true(fabs(lnuma_histogram_stddev(h) - sd) <= 1e-6 * sd);
  int64_t p50 = 0;
  assert_int_equal(lnuma_histogram_percentile(h, 50, &p50, NULL), 0);
  assert_true(p50 >= v / 2 && (double)p50 <= (double)(v / 2) * 1.001);
  lnuma_histogram_free(h);
}

static void a_count_past_int64_max_is_refused_whole(void **state) {
  (void)state;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000000, 2, NULL);
  assert_non_null(h);
  assert_int_equal(lnuma_histogram_record(h, 5, 1), 0);
  /* 2^62 values, each with 3 more: past INT64_MAX, so nothing changes. */
  assert_int_equal(lnuma_histogram_record_corrected(h, 400, INT64_C(1) << 62, 100), -1);
  assert_int_equal(lnuma_histogram_count(h), 1);
  assert_int_equal(lnuma_histogram_max(h), 5);
  /* The largest values and intervals do not overflow. */
  assert_int_equal(lnuma_histogram_record_corrected(h, INT64_MAX, 1, INT64_MAX / 3), 0);
  assert_int_equal(lnuma_histogram_count(h), 4); /* 5, INT64_MAX and two more */
  assert_int_equal(lnuma_histogram_record_corrected(h, INT64_MAX, 1, INT64_MAX), 0);
  assert_int_equal(lnuma_histogram_record_corrected(h, -5, 1, 2), 0);
  assert_int_equal(lnuma_histogram_record_corrected(h, 9, 0, 2), 0); /* count 0: nothing */
  assert_int_equal(lnuma_histogram_count(h), 6);
  assert_int_equal(lnuma_histogram_min(h), -5);
  lnuma_histogram_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(corrected_equals_recording_the_missing_values),
      cmocka_unit_test(a_huge_progression_takes_no_time_and_keeps_its_sums),
      cmocka_unit_test(a_count_past_int64_max_is_refused_whole),
  };
  return cmocka_run_group_tests_name("histogram_corrected", tests, NULL, NULL);
}
