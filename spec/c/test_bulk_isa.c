/* The typed-range loops of every ISA this CPU runs (bulk_loops.h, the
 * AVX2 and AVX-512 histogram blocks written by hand) against the baseline table,
 * which the Lua specs never reach on a machine with AVX-512: sums, min and
 * max of every kind, and histogram blocks (indexes, counts, out of range,
 * min, max, exact sum, squares) over the kinds' extreme values, values
 * around the range's bounds and runs of one bucket, for shapes whose bucket
 * arithmetic fits 32-bit lanes and shapes that do not, 64-bit blocks of
 * 32-bit values, at every length from 1 to past one vector's tail; and each
 * table's counting against counting one by one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulk_loops.h"

enum { N = 1024 + 37 };

static uint64_t next_random(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

/* The tables this CPU can run, the baseline first: the one bulk.c picks
 * and, below AVX-512, AVX2 (every AVX-512 CPU has it). */
static int tables(const lnuma__bulk_ops **out) {
  const lnuma__bulk_ops *best = lnuma__bulk_ops_best();
  int n = 0;
  out[n++] = &lnuma__bulk_base;
  if (best == &lnuma__bulk_avx512) out[n++] = &lnuma__bulk_avx2;
  if (best != &lnuma__bulk_base) out[n++] = best;
  return n;
}

/* n bytes of elements of width w: random bits, the kind's extremes, values
 * near lo and hi, and a run of one value, so that every branch of a block is
 * taken somewhere. */
static void fill(unsigned char *p, size_t w, size_t count, int64_t lo, int64_t hi,
                 uint64_t *seed) {
  for (size_t i = 0; i < count; i++) {
    uint64_t r = next_random(seed), v;
    switch (r % 8) {
    case 0: v = r >> 3; break;                                  /* anything */
    case 1: v = (r & 1) ? UINT64_MAX : 0; break;                /* all ones, zero */
    case 2: v = (uint64_t)1 << (8 * w - 1); break;              /* the sign bit */
    case 3: v = (uint64_t)(lo + (int64_t)(r % 3) - 1); break;   /* lo - 1 .. lo + 1 */
    case 4: v = (uint64_t)(hi + (int64_t)(r % 3) - 1); break;   /* hi - 1 .. hi + 1 */
    case 5: v = (uint64_t)lo + (r >> 8) % (uint64_t)(hi - lo); break;
    default: v = 777; break;                                    /* a run */
    }
    memcpy(p + i * w, &v, w); /* little-endian: the low bytes */
  }
}

static void sums_and_extremes_agree(void **state) {
  (void)state;
  const lnuma__bulk_ops *t[3];
  int nt = tables(t);
  if (nt == 1) skip(); /* the baseline alone: nothing to compare it with */
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  unsigned char *p = malloc(N * 8);
  assert_non_null(p);
  for (int kind = 0; kind < LNUMA__BULK_INTS; kind++) {
    size_t w = lnuma_kind_size((lnuma_kind)kind);
    for (size_t m = 1; m <= N; m += (m < 80 ? 1 : 97)) {
      fill(p, w, m, 1, 100000, &seed);
      for (int i = 1; i < nt; i++) {
        assert_true(t[i]->int_min[kind](p, m) == t[0]->int_min[kind](p, m));
        assert_true(t[i]->int_max[kind](p, m) == t[0]->int_max[kind](p, m));
        if (w < 8) {
          assert_true(t[i]->narrow_sum[kind](p, m) == t[0]->narrow_sum[kind](p, m));
        } else {
          uint64_t a_lo, a_hi, b_lo, b_hi;
          t[0]->wide_sum[kind](p, m, &a_lo, &a_hi);
          t[i]->wide_sum[kind](p, m, &b_lo, &b_hi);
          assert_true(a_lo == b_lo && a_hi == b_hi);
        }
      }
    }
  }
  double *d = (double *)(void *)p;
  float *f = (float *)(void *)p;
  for (size_t m = 1; m <= N; m += (m < 80 ? 1 : 97)) {
    for (size_t i = 0; i < m; i++) {
      uint64_t r = next_random(&seed);
      d[i] = r % 17 == 0 ? NAN : (double)(int64_t)(r >> 20) / 3.0;
    }
    for (int i = 1; i < nt; i++) {
      assert_true(t[i]->float_min[1](d, m) == t[0]->float_min[1](d, m));
      assert_true(t[i]->float_max[1](d, m) == t[0]->float_max[1](d, m));
    }
    for (size_t i = 0; i < m; i++) f[i] = (float)(next_random(&seed) % 1000) - 500.0f;
    for (int i = 1; i < nt; i++) {
      assert_true(t[i]->float_min[0](f, m) == t[0]->float_min[0](f, m));
      assert_true(t[i]->float_max[0](f, m) == t[0]->float_max[0](f, m));
      /* small integers in floats: every order of additions is exact */
      assert_true(t[i]->float_sum[0](f, m) == t[0]->float_sum[0](f, m));
    }
  }
  free(p);
}

/* A shape as histogram.c computes it for (lowest, highest, precision): half
 * magnitude from the precision, unit from lowest. */
static lnuma__hist_shape shape(int64_t lowest, int64_t highest, int half, int unit,
                               int64_t shift) {
  int64_t count = (int64_t)1 << (half + 1);
  lnuma__hist_shape s = {lowest, highest, (count - 1) << unit, count / 2, unit, half, shift};
  return s;
}

/* The shapes the blocks are checked on.  32-bit lanes: the default shape,
 * lowest 1000 at precision 2, a highest below 2^16; a lowest between
 * INT32_MAX and UINT32_MAX (32-bit lanes for the unsigned kinds only); the
 * int64 lanes: a mask past 32 bits, a lowest past UINT32_MAX. */
static const lnuma__hist_shape *shapes(size_t *n) {
  static lnuma__hist_shape all[6];
  all[0] = shape(1, INT64_C(3600000000000), 10, 0, 5);
  all[1] = shape(1000, INT64_C(1) << 40, 7, 2, -7);
  all[2] = shape(3, 60000, 9, 0, 100);
  all[3] = shape(INT64_C(3) << 30, INT64_C(1) << 40, 4, 27, 0);
  all[4] = shape(INT64_C(1) << 30, INT64_C(1) << 50, 4, 28, 0);
  all[5] = shape(INT64_C(3) << 31, INT64_C(1) << 52, 4, 28, 1);
  *n = sizeof all / sizeof all[0];
  return all;
}

typedef struct block_check {
  uint32_t *ia, *ib;
  int64_t *ca, *cb;
} block_check;

enum { COUNTERS = 1 << 16 };

/* One block of m elements at p: every table gives the baseline's indexes,
 * counts, out of range, min, max, exact sum and squares. */
static void check_block(const block_check *c, const lnuma__bulk_ops *const *t, int nt,
                        const lnuma__hist_shape *s, int kind, const void *p, size_t m) {
  lnuma__hist_acc a = {.min = INT64_MAX, .max = INT64_MIN};
  size_t ka = t[0]->hist_block[kind](s, p, m, c->ia, &a);
  for (size_t i = 0; i < ka; i++) assert_true(c->ia[i] < COUNTERS);
  memset(c->ca, 0, COUNTERS * sizeof *c->ca);
  t[0]->hist_count(c->ca, c->ia, ka);
  for (int i = 1; i < nt; i++) {
    lnuma__hist_acc b = {.min = INT64_MAX, .max = INT64_MIN};
    size_t kb = t[i]->hist_block[kind](s, p, m, c->ib, &b);
    assert_int_equal(kb, ka);
    assert_memory_equal(c->ib, c->ia, ka * sizeof *c->ia);
    assert_int_equal(b.min, a.min);
    assert_int_equal(b.max, a.max);
    assert_int_equal(b.under, a.under);
    assert_int_equal(b.over, a.over);
    /* the sum exactly, though split differently: compare the value */
    assert_true((__int128)b.sum_hi * ((__int128)1 << 32) + b.sum_lo ==
                (__int128)a.sum_hi * ((__int128)1 << 32) + a.sum_lo);
    assert_true(fabs(b.sq - a.sq) <= 1e-12 * fabs(a.sq));
    memset(c->cb, 0, COUNTERS * sizeof *c->cb);
    t[i]->hist_count(c->cb, c->ib, kb);
    assert_memory_equal(c->cb, c->ca, COUNTERS * sizeof *c->ca);
  }
}

static block_check check_new(void) {
  block_check c = {malloc(N * sizeof *c.ia), malloc(N * sizeof *c.ib),
                   calloc(COUNTERS, sizeof *c.ca), calloc(COUNTERS, sizeof *c.cb)};
  assert_true(c.ia && c.ib && c.ca && c.cb);
  return c;
}

static void check_free(block_check *c) {
  free(c->ia);
  free(c->ib);
  free(c->ca);
  free(c->cb);
}

static void hist_blocks_agree(void **state) {
  (void)state;
  const lnuma__bulk_ops *t[3];
  int nt = tables(t);
  if (nt == 1) skip(); /* the baseline alone: nothing to compare it with */
  size_t ns;
  const lnuma__hist_shape *all = shapes(&ns);
  uint64_t seed = 12345;
  unsigned char *p = malloc(N * 8);
  assert_non_null(p);
  block_check c = check_new();
  for (size_t si = 0; si < ns; si++) {
    for (int kind = 0; kind < LNUMA__BULK_INTS; kind++) {
      size_t w = lnuma_kind_size((lnuma_kind)kind);
      for (size_t m = 1; m <= LNUMA__HIST_BLOCK; m += (m < 40 ? 1 : 131)) {
        fill(p, w, m, all[si].lowest, all[si].highest, &seed);
        check_block(&c, t, nt, &all[si], kind, p, m);
      }
    }
    /* 64-bit blocks whose values all fit 32 bits (latencies, mostly), which
     * a table may take in 32-bit lanes (fill's values, their low halves);
     * and the same with one element at 2^32, or negative. */
    const int kinds[] = {LNUMA_KIND_U64, LNUMA_KIND_I64};
    const uint64_t spoilers[] = {0, (uint64_t)1 << 32, UINT64_MAX};
    uint64_t *q = (uint64_t *)(void *)p;
    for (size_t m = 1; m <= LNUMA__HIST_BLOCK; m += (m < 40 ? 1 : 131)) {
      fill(p, 8, m, all[si].lowest, all[si].highest, &seed);
      for (size_t i = 0; i < m; i++) q[i] &= UINT32_MAX;
      for (size_t sp = 0; sp < sizeof spoilers / sizeof spoilers[0]; sp++) {
        if (sp > 0) q[(m * 7) / 11] = spoilers[sp]; /* 0: none */
        for (size_t k = 0; k < 2; k++) check_block(&c, t, nt, &all[si], kinds[k], p, m);
      }
    }
  }
  free(p);
  check_free(&c);
}

/* Every table's hist_count against counting one by one, on indexes in runs
 * of one bucket of 1 to 40, each run aligned or not to sixteen: sixteen in
 * one bucket take one add, and so does a bucket that holds half of sixteen
 * or more with the others counted one by one. */
static void hist_counts_agree_with_one_by_one(void **state) {
  (void)state;
  const lnuma__bulk_ops *t[3];
  int nt = tables(t);
  uint32_t *idx = malloc(N * sizeof *idx);
  int64_t *want = calloc(64, sizeof *want), *got = calloc(64, sizeof *got);
  assert_true(idx && want && got);
  uint64_t seed = 99;
  for (size_t len = 1; len <= 40; len++) {
    size_t k = 0;
    while (k + len <= N) {
      uint32_t b = (uint32_t)(next_random(&seed) % 64);
      size_t run = next_random(&seed) % 3 == 0 ? 1 : len;
      for (size_t j = 0; j < run; j++) idx[k++] = b;
    }
    memset(want, 0, 64 * sizeof *want);
    for (size_t i = 0; i < k; i++) want[idx[i]]++;
    for (int i = 0; i < nt; i++) {
      memset(got, 0, 64 * sizeof *got);
      t[i]->hist_count(got, idx, k);
      assert_memory_equal(got, want, 64 * sizeof *want);
    }
  }
  free(idx);
  free(want);
  free(got);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sums_and_extremes_agree),
      cmocka_unit_test(hist_blocks_agree),
      cmocka_unit_test(hist_counts_agree_with_one_by_one),
  };
  return cmocka_run_group_tests_name("bulk_isa", tests, NULL, NULL);
}
