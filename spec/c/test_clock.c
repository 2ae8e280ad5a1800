/* C tests of the clock: source choice, conversion, monotonicity, agreement
 * with CLOCK_MONOTONIC_RAW, fences, calibration and the fallback source. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h" /* lnuma__clock_init: the no-RDTSCP path on any x86-64 */
#include "lnuma.h"

static int64_t iabs64(int64_t v) { return v < 0 ? -v : v; }

/* now() - CLOCK_MONOTONIC_RAW, from the narrowest of several brackets. */
static int64_t offset_vs_raw(const lnuma_clock *c) {
  int64_t best = INT64_MAX, off = 0;
  for (int i = 0; i < 15; i++) {
    int64_t a = lnuma_monotonic_raw_ns();
    int64_t n = lnuma_clock_now(c);
    int64_t b = lnuma_monotonic_raw_ns();
    if (b - a < best) {
      best = b - a;
      off = n - (a + (b - a) / 2);
    }
  }
  return off;
}

static void auto_source_is_described(void **state) {
  (void)state;
  lnuma_clock c;
  lnuma_error err;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, &err), 0);
  assert_non_null(lnuma_clock_source_name(c.source));
  assert_true(c.source != LNUMA_CLOCK_AUTO);
  assert_true(c.hz > 0);
  assert_true(c.mult > 0);
  assert_true(strlen(c.reason) > 0);
  assert_true(c.cost_ns > 0);
  assert_true(c.resolution_ns > 0);
  assert_string_not_equal(lnuma_clock_freq_method_name(c.freq_method), "none");
  if (c.source == LNUMA_CLOCK_TSC) {
    assert_int_equal(c.invariant, 1);
    assert_non_null(c.invariant_from);
  }
  if (c.source == LNUMA_CLOCK_MONOTONIC_RAW)
    assert_non_null(strstr(c.reason, "CLOCK_MONOTONIC_RAW"));
}

static void one_second_of_ticks_is_one_second(void **state) {
  (void)state;
  lnuma_clock c;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  uint64_t ns = lnuma_clock_to_ns(&c, c.hz);
  assert_true(iabs64((int64_t)ns - 1000000000) <= 1000); /* 1 ppm: rounding of hz */
  assert_int_equal(lnuma_clock_to_ns(&c, 0), 0);
  /* large tick counts do not overflow: a year of ticks */
  uint64_t year = c.hz * 3600u * 24u * 365u;
  uint64_t year_ns = lnuma_clock_to_ns(&c, year);
  assert_true(year_ns / 1000000000u >= 3600u * 24u * 365u - 1);
  assert_true(year_ns / 1000000000u <= 3600u * 24u * 365u + 1);
}

static void now_is_monotonic_over_a_million_calls(void **state) {
  (void)state;
  lnuma_clock c;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  int64_t prev = lnuma_clock_now(&c);
  int backwards = 0;
  for (int i = 0; i < 1000000; i++) {
    int64_t t = lnuma_clock_now(&c);
    if (t < prev) backwards++;
    prev = t;
  }
  assert_int_equal(backwards, 0);
}

static void now_follows_monotonic_raw(void **state) {
  (void)state;
  lnuma_clock c;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  int64_t o0 = offset_vs_raw(&c);
  /* aligned at calibration: within a few microseconds */
  assert_true(iabs64(o0) < 20000);
  int64_t r0 = lnuma_monotonic_raw_ns();
  lnuma_sleep_ns(200000000);
  int64_t o1 = offset_vs_raw(&c);
  int64_t r1 = lnuma_monotonic_raw_ns();
  double ppm = (double)(o1 - o0) / (double)(r1 - r0) * 1e6;
  /* the bound is 100 ppm over 1 s; 200 ms is enough here */
  assert_true(ppm > -100 && ppm < 100);
}

static void fenced_reads_bracket_a_region(void **state) {
  (void)state;
  lnuma_clock c;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  uint64_t t0 = lnuma_clock_start(&c);
  lnuma_sleep_ns(1000000);
  uint64_t t1 = lnuma_clock_stop(&c);
  assert_true(t1 > t0);
  uint64_t ns = lnuma_clock_to_ns(&c, t1 - t0);
  assert_true(ns >= 1000000);
  assert_true(ns < 1000000000);
}

/* The end of a region without RDTSCP (lfence; rdtsc; lfence), as on CPUs and
 * under emulators that lack it: the same source and frequency as the default
 * clock, reads that never go back, and a region's ns within the
 * CLOCK_MONOTONIC_RAW readings that bracket it. */
static void stop_without_rdtscp_is_fenced_and_sane(void **state) {
  (void)state;
  lnuma_clock c, ref;
  lnuma_error err;
  assert_int_equal(lnuma__clock_init(&c, LNUMA_CLOCK_AUTO, LNUMA__CLOCK_NO_RDTSCP, &err), 0);
  assert_int_equal(c.has_rdtscp, 0);
  assert_int_equal(lnuma_clock_init(&ref, LNUMA_CLOCK_AUTO, NULL), 0);
  assert_int_equal(c.source, ref.source); /* the flag changes the fence only */
  double change = ((double)c.hz - (double)ref.hz) / (double)ref.hz;
  assert_true(change > -1e-3 && change < 1e-3);
  uint64_t prev = lnuma_clock_start(&c);
  int backwards = 0;
  for (int i = 0; i < 100000; i++) {
    uint64_t t0 = lnuma_clock_start(&c);
    uint64_t t1 = lnuma_clock_stop(&c);
    if (t0 < prev || t1 < t0) backwards++;
    prev = t1;
  }
  assert_int_equal(backwards, 0);
  int64_t r0 = lnuma_monotonic_raw_ns();
  uint64_t t0 = lnuma_clock_start(&c);
  lnuma_sleep_ns(2000000);
  uint64_t t1 = lnuma_clock_stop(&c);
  int64_t r1 = lnuma_monotonic_raw_ns();
  int64_t ns = (int64_t)lnuma_clock_to_ns(&c, t1 - t0);
  assert_true(ns >= 2000000 - 2000); /* 1000 ppm for the frequency's error */
  assert_true(ns <= r1 - r0 + 2000);
  assert_true(iabs64(offset_vs_raw(&c)) < 20000);
}

static void calibration_estimates_its_error(void **state) {
  (void)state;
  lnuma_clock c;
  lnuma_error err;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  uint64_t before = c.hz;
  double ppm = -1;
  assert_int_equal(lnuma_clock_calibrate(&c, 50000000, &ppm, &err), 0);
  assert_true(ppm >= 0);
  assert_true(ppm < 100);
  assert_true(c.error_ppm == ppm);
  /* the frequency moves by far less than 0.1% */
  double change = ((double)c.hz - (double)before) / (double)before;
  assert_true(change > -1e-3 && change < 1e-3);
  if (c.source == LNUMA_CLOCK_TSC)
    assert_string_equal(lnuma_clock_freq_method_name(c.freq_method), "calibration");
  assert_true(c.calibrated_ns >= 50000000);
  assert_true(iabs64(offset_vs_raw(&c)) < 20000);
}

static void calibration_rejects_bad_durations(void **state) {
  (void)state;
  lnuma_clock c;
  lnuma_error err;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  lnuma_clock copy = c;
  assert_int_equal(lnuma_clock_calibrate(&c, 0, NULL, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "duration"));
  assert_int_equal(lnuma_clock_calibrate(&c, -5, NULL, &err), -1);
  assert_int_equal(lnuma_clock_calibrate(&c, 61000000000, NULL, &err), -1);
  assert_memory_equal(&c, &copy, sizeof c); /* untouched */
}

static void monotonic_raw_source_is_the_reference(void **state) {
  (void)state;
  lnuma_clock c;
  lnuma_error err;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_MONOTONIC_RAW, &err), 0);
  assert_int_equal(c.source, LNUMA_CLOCK_MONOTONIC_RAW);
  assert_string_equal(lnuma_clock_source_name(c.source), "monotonic_raw");
  assert_string_equal(lnuma_clock_freq_method_name(c.freq_method), "definition");
  assert_int_equal(c.hz, 1000000000);
  assert_int_equal(lnuma_clock_to_ns(&c, 123456789), 123456789);
  assert_non_null(strstr(c.reason, "requested"));
  int64_t a = lnuma_monotonic_raw_ns();
  int64_t n = lnuma_clock_now(&c);
  int64_t b = lnuma_monotonic_raw_ns();
  assert_true(a <= n && n <= b);
  assert_true(lnuma_clock_start(&c) <= lnuma_clock_stop(&c));
  double ppm = -1;
  assert_int_equal(lnuma_clock_calibrate(&c, 1000000, &ppm, &err), 0);
  assert_true(ppm == 0);
}

static void unavailable_sources_are_refused(void **state) {
  (void)state;
  lnuma_clock c;
  lnuma_error err;
  assert_int_equal(lnuma_clock_init(&c, 99, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_int_equal(lnuma_clock_init(&c, -1, &err), -1);
#if defined(__x86_64__)
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_CNTVCT, &err), -1);
  assert_int_equal(err.code, ENOTSUP);
  assert_non_null(strstr(err.msg, "cntvct"));
#elif defined(__aarch64__)
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_TSC, &err), -1);
  assert_int_equal(err.code, ENOTSUP);
#endif
  assert_null(lnuma_clock_source_name(42));
}

static void sleep_sleeps_at_least_as_asked(void **state) {
  (void)state;
  int64_t t0 = lnuma_monotonic_raw_ns();
  lnuma_sleep_ns(2000000);
  int64_t t1 = lnuma_monotonic_raw_ns();
  assert_true(t1 - t0 >= 2000000);
  lnuma_sleep_ns(0);
  lnuma_sleep_ns(-1);
}

static void thread_cpu_time_counts_only_running(void **state) {
  (void)state;
  int64_t c0 = lnuma_thread_cpu_ns();
  if (c0 < 0) skip();
  int64_t t0 = lnuma_monotonic_raw_ns();
  while (lnuma_monotonic_raw_ns() - t0 < 5000000) {
  }
  int64_t spun = lnuma_thread_cpu_ns() - c0;
  assert_true(spun > 0);
  assert_true(spun <= lnuma_monotonic_raw_ns() - t0 + 1000000);
  int64_t c1 = lnuma_thread_cpu_ns();
  lnuma_sleep_ns(20000000);
  assert_true(lnuma_thread_cpu_ns() - c1 < 10000000); /* asleep: hardly any CPU */
}

static void kernel_clocksource_is_named(void **state) {
  (void)state;
  char name[64];
  lnuma_error err;
  if (lnuma_kernel_clocksource(name, sizeof name, &err) != 0) {
    skip();
  }
  assert_true(strlen(name) > 0);
  assert_null(strchr(name, '\n'));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(auto_source_is_described),
      cmocka_unit_test(one_second_of_ticks_is_one_second),
      cmocka_unit_test(now_is_monotonic_over_a_million_calls),
      cmocka_unit_test(now_follows_monotonic_raw),
      cmocka_unit_test(fenced_reads_bracket_a_region),
      cmocka_unit_test(stop_without_rdtscp_is_fenced_and_sane),
      cmocka_unit_test(calibration_estimates_its_error),
      cmocka_unit_test(calibration_rejects_bad_durations),
      cmocka_unit_test(monotonic_raw_source_is_the_reference),
      cmocka_unit_test(unavailable_sources_are_refused),
      cmocka_unit_test(sleep_sleeps_at_least_as_asked),
      cmocka_unit_test(thread_cpu_time_counts_only_running),
      cmocka_unit_test(kernel_clocksource_is_named),
  };
  return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
