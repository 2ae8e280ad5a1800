/* C tests of lnuma/clock_sync.h: counter skew between CPUs, drift against
 * CLOCK_MONOTONIC_RAW, and background recalibration with readers running
 * (make tsan also runs spec/c/test_threads.c, which recalibrates under load). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lnuma.h"

/* The first two CPUs this process may use, or skip. */
static void two_cpus(int cpus[2]) {
  lnuma_set allowed;
  if (lnuma_allowed(&allowed, NULL, NULL) != 0 || lnuma_set_count(&allowed) < 2) skip();
  cpus[0] = lnuma_set_next(&allowed, -1);
  cpus[1] = lnuma_set_next(&allowed, cpus[0]);
}

static void skew_bounds_hold_and_the_diagonal_is_zero(void **state) {
  (void)state;
  /* valgrind runs one thread at a time: two threads spinning on each other
   * take seconds per round trip there. */
  const char *vg = getenv("VALGRIND");
  if (vg != NULL && strcmp(vg, "1") == 0) skip();
  int cpus[2];
  two_cpus(cpus);
  lnuma_clock c;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  lnuma_skew_params p = {&c, 2, cpus, 100};
  lnuma_skew_cell cells[4];
  lnuma_team_thread threads[2];
  lnuma_skew_result r = {cells, threads};
  lnuma_error err;
  assert_int_equal(lnuma_clock_skew(&p, &r, &err), 0);
  assert_int_equal(cells[0].lo_ticks, 0);
  assert_int_equal(cells[3].hi_ticks, 0);
  assert_int_equal(cells[0].rtt_ticks, 0);
  for (int k = 1; k <= 2; k++) {
    assert_true(cells[k].rtt_ticks > 0);
    assert_true(cells[k].rtt_median_ticks >= cells[k].rtt_ticks);
    /* both bounds come from one round trip each: their gap is at least
     * -rtt (crossed) and at most the fastest round trip */
    assert_true(cells[k].hi_ticks - cells[k].lo_ticks <= (int64_t)cells[k].rtt_ticks);
  }
  /* the two directions bound the same offset: their intervals overlap
   * (counter(1) - counter(0) from 0, and its negative from 1) */
  assert_true(cells[1].lo_ticks <= -cells[2].lo_ticks);
  assert_true(-cells[2].hi_ticks <= cells[1].hi_ticks);
  assert_int_equal(threads[0].cpu_asked, cpus[0]);
  assert_int_equal(threads[1].cpu_asked, cpus[1]);
}

static void skew_refuses_bad_parameters(void **state) {
  (void)state;
  lnuma_clock c;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  static const int twice[2] = {0, 0}, two[2] = {0, 1};
  lnuma_skew_cell cells[4];
  lnuma_skew_result r = {cells, NULL};
  lnuma_skew_params p = {&c, 2, twice, 10};
  lnuma_error err;
  assert_int_equal(lnuma_clock_skew(&p, &r, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "listed twice"));
  p.cpus = two;
  p.tries = 0;
  assert_int_equal(lnuma_clock_skew(&p, &r, &err), -1);
  assert_non_null(strstr(err.msg, "tries"));
  p.tries = 10;
  p.n = LNUMA_SKEW_MAX_CPUS + 1;
  assert_int_equal(lnuma_clock_skew(&p, &r, &err), -1);
  assert_non_null(strstr(err.msg, "CPUs"));
  assert_int_equal(lnuma_clock_skew(NULL, &r, &err), -1);
}

static void drift_is_small_and_says_when_to_recalibrate(void **state) {
  (void)state;
  lnuma_clock c;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  lnuma_drift_result d;
  lnuma_error err;
  assert_int_equal(lnuma_clock_drift(&c, 30000000, 7, 1000, &d, &err), 0);
  assert_int_equal(d.samples, 7);
  assert_true(d.duration_ns >= 30000000);
  assert_true(d.uncertainty_ppm >= 0);
  assert_true(d.error_uncertainty_ns > 0);
  if (c.source != LNUMA_CLOCK_MONOTONIC_RAW) {
    assert_true(d.drift_ppm > -100 && d.drift_ppm < 100);
    assert_true(d.recalibrate_after_ns >= 0);
  } else {
    assert_int_equal(d.recalibrate_after_ns, -1);
  }
}

static void drift_refuses_bad_parameters(void **state) {
  (void)state;
  lnuma_clock c;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  lnuma_drift_result d;
  lnuma_error err;
  assert_int_equal(lnuma_clock_drift(&c, LNUMA_DRIFT_MAX_NS + 1, 3, 1000, &d, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "1 ms .. 1 h"));
  assert_int_equal(lnuma_clock_drift(&c, 999999, 3, 1000, &d, &err), -1);
  assert_int_equal(lnuma_clock_drift(&c, 1000000, 12, 1000, &d, &err), -1);
  assert_non_null(strstr(err.msg, "samples"));
  assert_int_equal(lnuma_clock_drift(&c, 1000000, 2, 0, &d, &err), -1);
  assert_non_null(strstr(err.msg, "threshold"));
}

typedef struct reader {
  const lnuma_clock *c;
  int64_t backwards;
  int64_t calls;
} reader;

static void *read_clock(void *arg) {
  reader *r = arg;
  int64_t prev = lnuma_clock_now(r->c), end = lnuma_monotonic_raw_ns() + 150000000;
  while (lnuma_monotonic_raw_ns() < end) {
    for (int i = 0; i < 1000; i++) {
      int64_t t = lnuma_clock_now(r->c);
      if (t < prev) r->backwards++;
      prev = t;
    }
    r->calls += 1000;
  }
  return NULL;
}

static void recalibration_keeps_now_monotonic_for_readers(void **state) {
  (void)state;
  lnuma_clock c;
  lnuma_error err;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  lnuma_clock_recalibrator *rc = lnuma_clock_recalibrate_start(&c, 10000000, &err);
  assert_non_null(rc);
  reader rd[2] = {{&c, 0, 0}, {&c, 0, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, read_clock, &rd[i]), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
  lnuma_recalibration_status st;
  lnuma_clock_recalibrate_status(rc, &st);
  lnuma_clock_recalibrate_stop(rc);
  assert_int_equal(st.every_ns, 10000000);
  if (c.source != LNUMA_CLOCK_MONOTONIC_RAW) assert_true(st.count >= 1);
  assert_int_equal(st.steps, 0);
  /* each reader stays on its own time line (one thread may migrate between
   * CPUs; the VM stage measures how far their counters differ) */
  assert_int_equal(rd[0].backwards, 0);
  assert_int_equal(rd[1].backwards, 0);
  lnuma_clock snap;
  lnuma_clock_snapshot(&c, &snap);
  assert_true(snap.recalibrations >= st.count);
  assert_true(snap.mult > 0 && snap.hz > 0);
  assert_string_equal(snap.reason, c.reason);
}

static void recalibrator_refuses_bad_periods(void **state) {
  (void)state;
  lnuma_clock c;
  lnuma_error err;
  assert_int_equal(lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, NULL), 0);
  assert_null(lnuma_clock_recalibrate_start(&c, LNUMA_RECALIBRATE_MIN_NS - 1, &err));
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "10 ms .. 1 day"));
  assert_null(lnuma_clock_recalibrate_start(NULL, LNUMA_RECALIBRATE_MIN_NS, &err));
  lnuma_clock_recalibrate_stop(NULL); /* harmless */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(skew_bounds_hold_and_the_diagonal_is_zero),
      cmocka_unit_test(skew_refuses_bad_parameters),
      cmocka_unit_test(drift_is_small_and_says_when_to_recalibrate),
      cmocka_unit_test(drift_refuses_bad_parameters),
      cmocka_unit_test(recalibration_keeps_now_monotonic_for_readers),
      cmocka_unit_test(recalibrator_refuses_bad_periods),
  };
  return cmocka_run_group_tests_name("clock_sync", tests, NULL, NULL);
}
