/* Core-to-core latency: a cache line bounced between two pinned threads.
 * Every pair of CPUs is measured; a round-robin tournament schedules the
 * pairs so that disjoint pairs run at the same time, round after round. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_internal.h"

#define PAGE 4096
#define SPINS_BEFORE_YIELD (1u << 20)

int lnuma_c2c_rounds(int n) {
  if (n < 2) return 0;
  return n % 2 == 0 ? n - 1 : n;
}

/* The circle method: with m players (n rounded up to even; the extra one is
 * a bye), player m-1 stays put and meets player r in round r; the others
 * meet the player mirrored around r: i + j = 2r (mod m-1). */
int lnuma_c2c_partner(int n, int round, int i) {
  if (n < 2 || round < 0 || round >= lnuma_c2c_rounds(n) || i < 0 || i >= n) return -1;
  int m = n + n % 2, q = m - 1, j;
  if (i == q)
    j = round;
  else if (i == round)
    j = q;
  else
    j = ((2 * round - i) % q + q) % q;
  return j >= n ? -1 : j;
}

/* The page (of mem) that the pair of player i uses in a round: distinct for
 * the pairs of one round, at most (n + 1) / 2 of them. */
static int pair_slot(int n, int round, int i) {
  int m = n + n % 2, q = m - 1;
  if (i == q || i == round) return 0;
  int k = ((i - round) % q + q) % q;
  return k <= q / 2 ? k : q - k;
}

size_t lnuma_c2c_memory(int n) { return (size_t)(n < 2 ? 1 : (n + 1) / 2 + 1) * PAGE; }

typedef struct c2c_job {
  char *mem;
  int n, samples;
  uint64_t roundtrips;
  const lnuma_clock *clock;
  double *matrix;
  uint64_t *scratch; /* [n * samples]: the samples of initiator i */
} c2c_job;

static void wait_for(atomic_uint_fast64_t *line, uint64_t value) {
  unsigned spins = 0;
  while (atomic_load_explicit(line, memory_order_acquire) != value)
    if (++spins == SPINS_BEFORE_YIELD) {
      spins = 0;
      sched_yield(); /* the partner shares our CPU: let it run */
    }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static void c2c_thread(lnuma_team *team, int i, void *arg) {
  c2c_job *j = arg;
  int rounds = lnuma_c2c_rounds(j->n);
  uint64_t *mine = j->scratch + (size_t)i * (size_t)j->samples;
  for (int r = 0; r < rounds; r++) {
    int partner = lnuma_c2c_partner(j->n, r, i);
    int initiator = partner >= 0 && i < partner;
    atomic_uint_fast64_t *line =
        (atomic_uint_fast64_t *)(j->mem + (size_t)pair_slot(j->n, r, i) * PAGE);
    /* Every pair is done with the previous round before a line is reset: the
     * slot may be the one another pair was still bouncing (a bye, or a pair
     * that finished first, would clobber it and leave that pair spinning). */
    if (r > 0) lnuma_team_sync(team);
    if (initiator) atomic_store_explicit(line, 0, memory_order_relaxed);
    lnuma_team_sync(team);
    /* Sample 0 warms up (the line's first transfers, the partner waking). */
    for (int s = -1; s < j->samples; s++) {
      lnuma_team_sync(team);
      if (partner < 0) continue;
      uint64_t base = (uint64_t)(s + 1) * 2 * j->roundtrips;
      if (initiator) {
        uint64_t t0 = lnuma__kt_start(j->clock);
        for (uint64_t k = 0; k < j->roundtrips; k++) {
          atomic_store_explicit(line, base + 2 * k + 1, memory_order_release);
          wait_for(line, base + 2 * k + 2);
        }
        uint64_t t = lnuma__kt_since(j->clock, t0);
        if (s >= 0) mine[s] = t;
      } else {
        for (uint64_t k = 0; k < j->roundtrips; k++) {
          wait_for(line, base + 2 * k + 1);
          atomic_store_explicit(line, base + 2 * k + 2, memory_order_release);
        }
      }
    }
    if (initiator) {
      qsort(mine, (size_t)j->samples, sizeof *mine, cmp_u64);
      int h = j->samples / 2;
      double med = j->samples % 2 ? (double)mine[h] : ((double)mine[h - 1] + (double)mine[h]) / 2;
      double one_way = med / (double)j->roundtrips / 2.0;
      j->matrix[(size_t)i * (size_t)j->n + (size_t)partner] = one_way;
      j->matrix[(size_t)partner * (size_t)j->n + (size_t)i] = one_way;
    }
  }
}

int lnuma_c2c_measure(void *mem, size_t size, int n, const int *cpus, int samples,
                      uint64_t roundtrips, const lnuma_clock *clock, double *matrix,
                      lnuma_team_thread *threads, lnuma_error *err) {
  if (n < 2 || n > LNUMA_TEAM_MAX || cpus == NULL || matrix == NULL)
    return lnuma__fail(err, EINVAL, "c2c: needs 2 to %d CPUs, not %d", LNUMA_TEAM_MAX, n);
  if (samples < 1 || roundtrips < 1)
    return lnuma__fail(err, EINVAL, "c2c: at least one sample of one round trip");
  if (mem == NULL || ((uintptr_t)mem % 64) != 0 || size < lnuma_c2c_memory(n))
    return lnuma__fail(err, EINVAL, "c2c: needs %zu bytes of 64-byte aligned memory, got %zu",
                       lnuma_c2c_memory(n), size);
  for (int a = 0; a < n; a++)
    for (int b = a + 1; b < n; b++)
      if (cpus[a] == cpus[b])
        return lnuma__fail(err, EINVAL, "c2c: CPU %d is named twice", cpus[a]);
  c2c_job j = {.mem = mem, .n = n, .samples = samples, .roundtrips = roundtrips,
               .clock = clock, .matrix = matrix};
  j.scratch = calloc((size_t)n * (size_t)samples, sizeof *j.scratch);
  if (j.scratch == NULL) return lnuma__fail_sys(err, ENOMEM, "c2c");
  for (size_t k = 0; k < (size_t)n * (size_t)n; k++) matrix[k] = 0;
  int rc = lnuma_team_run(n, cpus, c2c_thread, &j, threads, err);
  free(j.scratch);
  return rc;
}
