/* C tests of the core-to-core kernel: the tournament meets every pair
 * exactly once, no two (pair, sample)s ever share a line, both modes
 * measure on fresh lines, and what cannot be measured is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernels_internal.h" /* the kernels in each walk order */
#include "lnuma.h"
#include "support.h"

static void tournament_meets_every_pair_once(void **state) {
  (void)state;
  for (int n = 2; n <= 17; n++) {
    int rounds = lnuma_c2c_rounds(n);
    assert_int_equal(rounds, n % 2 ? n : n - 1);
    int *met = calloc((size_t)(n * n), sizeof *met);
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < n; i++) {
        int j = lnuma_c2c_partner(n, r, i);
        if (j < 0) continue;
        assert_true(j != i && j < n);
        assert_int_equal(lnuma_c2c_partner(n, r, j), i); /* disjoint pairs */
        met[i * n + j]++;
      }
    }
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) assert_int_equal(met[i * n + j], i == j ? 0 : 1);
    free(met);
  }
}

static void c2c_gives_every_pair_and_sample_a_line_of_its_own(void **state) {
  (void)state;
  for (int n = 2; n <= 9; n++) {
    int64_t pairs = lnuma_c2c_pairs(n);
    assert_int_equal(pairs, n * (n - 1) / 2);
    for (int samples = 1; samples <= 4; samples++) {
      size_t bytes = lnuma_c2c_memory(n, samples);
      assert_int_equal(bytes, (size_t)pairs * (size_t)samples * LNUMA_C2C_LINE_STRIDE);
      int64_t lines = pairs * samples;
      int *used = calloc((size_t)lines, sizeof *used);
      for (int s = 0; s < samples; s++)
        for (int r = 0; r < lnuma_c2c_rounds(n); r++)
          for (int i = 0; i < n; i++) {
            int j = lnuma_c2c_partner(n, r, i);
            if (j < i) continue;
            int64_t line = lnuma_c2c_line(n, samples, i, j, s);
            assert_int_equal(line, lnuma_c2c_line(n, samples, j, i, s)); /* either order */
            assert_true(line >= 0 && line < lines);
            assert_true((size_t)(line + 1) * LNUMA_C2C_LINE_STRIDE <= bytes);
            used[line]++;
          }
      for (int64_t k = 0; k < lines; k++) assert_int_equal(used[k], 1); /* never shared */
      free(used);
    }
  }
  assert_int_equal(lnuma_c2c_pair_index(4, 0, 1), 0);
  assert_int_equal(lnuma_c2c_pair_index(4, 2, 3), 5);
  assert_int_equal(lnuma_c2c_pair_index(4, 1, 1), -1);
  assert_int_equal(lnuma_c2c_line(4, 2, 0, 1, 2), -1);
  assert_int_equal(lnuma_c2c_memory(1, 3), 0);
  assert_int_equal(lnuma_c2c_memory(2, 0), 0);
}

static void c2c_measures_both_modes_on_fresh_lines(void **state) {
  (void)state;
  int cpus[2];
  if (allowed_cpus(cpus, 2) < 2) skip();
  /* Few round trips: under valgrind, which runs one thread at a time, every
   * handoff waits for the spinning thread's time slice to end. */
  enum { SAMPLES = 5, ROUNDTRIPS = 20, WARMUP = 4 };
  size_t size = lnuma_c2c_memory(2, SAMPLES);
  char *mem = aligned(size);
  uint64_t ns[SAMPLES], off[SAMPLES];
  lnuma_team_thread th[2];
  lnuma_error err;
  lnuma_clock clock;
  assert_int_equal(lnuma_clock_init(&clock, LNUMA_CLOCK_AUTO, NULL), 0);
  assert_int_equal(lnuma_c2c_mode_from_name("cas"), LNUMA_C2C_CAS);
  assert_string_equal(lnuma_c2c_mode_name(LNUMA_C2C_PINGPONG), "pingpong");
  assert_int_equal(lnuma_c2c_mode_from_name("xchg"), -1);
  for (int mode = 0; mode < LNUMA_C2C_MODE_COUNT; mode++) {
    lnuma_c2c_params p = {.mem = mem, .size = size, .n = 2, .cpus = cpus, .mode = mode,
                          .samples = SAMPLES, .roundtrips = ROUNDTRIPS, .warmup = WARMUP,
                          .clock = &clock};
    lnuma_c2c_result r = {.sample_ns = ns, .line_offset = off, .threads = th};
    assert_int_equal(lnuma_c2c_measure(&p, &r, &err), 0);
    for (int s = 0; s < SAMPLES; s++) {
      double one_way = (double)ns[s] / ROUNDTRIPS / 2;
      /* The upper bound only catches garbage: a handoff may wait out a time
       * slice (an oversubscribed VM), or tens of ms under valgrind. */
      assert_true(one_way > 0.1 && one_way < 1e9);
      assert_int_equal(off[s], (uint64_t)lnuma_c2c_line(2, SAMPLES, 0, 1, s) *
                                   LNUMA_C2C_LINE_STRIDE);
      /* every line ends at the count of its last handoff */
      uint64_t last = *(uint64_t *)(mem + off[s]);
      assert_int_equal(last, 2 * (ROUNDTRIPS + WARMUP));
    }
#if defined(__x86_64__)
    assert_int_equal(r.flushed, 1);
#endif
    assert_int_equal(th[0].cpu_start, cpus[0]);
    assert_int_equal(th[1].cpu_start, cpus[1]);
  }
  free(mem);
}

static void c2c_rejects_what_it_cannot_measure(void **state) {
  (void)state;
  int cpus[2];
  if (allowed_cpus(cpus, 2) < 2) skip();
  size_t size = lnuma_c2c_memory(2, 3);
  char *mem = aligned(size + 4096);
  uint64_t ns[3];
  lnuma_team_thread th[2];
  lnuma_error err;
  lnuma_c2c_params p = {.mem = mem, .size = size, .n = 2, .cpus = cpus, .samples = 3,
                        .roundtrips = 10};
  lnuma_c2c_result r = {.sample_ns = ns, .threads = th};
  int twice[2] = {cpus[0], cpus[0]};
  p.cpus = twice;
  assert_int_equal(lnuma_c2c_measure(&p, &r, &err), -1);
  assert_non_null(strstr(err.msg, "CPU"));
  assert_non_null(strstr(err.msg, "twice"));
  p.cpus = cpus;
  p.n = 1;
  assert_int_equal(lnuma_c2c_measure(&p, &r, &err), -1);
  assert_non_null(strstr(err.msg, "at least two CPUs"));
  assert_non_null(strstr(err.msg, "1 given"));
  p.n = 2;
  p.mode = LNUMA_C2C_MODE_COUNT;
  assert_int_equal(lnuma_c2c_measure(&p, &r, &err), -1);
  assert_non_null(strstr(err.msg, "unknown mode"));
  p.mode = LNUMA_C2C_CAS;
  p.size = size - 1;
  assert_int_equal(lnuma_c2c_measure(&p, &r, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "fresh line"));
  p.size = size;
  p.mem = mem + 64; /* a line, not a 128-byte pair, boundary */
  assert_int_equal(lnuma_c2c_measure(&p, &r, &err), -1);
  assert_non_null(strstr(err.msg, "aligned"));
  free(mem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tournament_meets_every_pair_once),
      cmocka_unit_test(c2c_gives_every_pair_and_sample_a_line_of_its_own),
      cmocka_unit_test(c2c_measures_both_modes_on_fresh_lines),
      cmocka_unit_test(c2c_rejects_what_it_cannot_measure),
  };
  return cmocka_run_group_tests_name("c2c", tests, NULL, NULL);
}
