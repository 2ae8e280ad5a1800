/* Counter skew between CPUs: round trips through one shared cache line per
 * pair, on the worker team (team.c), pairs scheduled as c2c schedules them
 * (lnuma_c2c_partner: disjoint pairs at once, every pair once).  Within a
 * pair the two threads take turns starting the round trips, so both
 * directions are measured alike. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_internal.h"

#define LINE 128 /* two cache lines: no neighbour shares the adjacent-line prefetch */
#define SPINS_BEFORE_YIELD (1u << 16)

/* The line a pair exchanges: seq says whose turn it is, stamp carries t2
 * (aligned to LINE, so sizeof is LINE: one pair per line). */
typedef struct skew_line {
  _Alignas(LINE) uint64_t seq;
  uint64_t stamp;
} skew_line;

typedef struct skew_job {
  const lnuma_skew_params *p;
  lnuma_skew_result *r;
  skew_line *lines;  /* [n]: a pair uses the line of its lower index */
  uint64_t *rtts;    /* [n][tries]: each thread's round trips, for the median */
  int rounds;
} skew_job;

/* A partner may share our CPU (an oversubscribed VM): yield now and then. */
static void wait_seq(uint64_t *seq, uint64_t value) {
  unsigned spins = 0;
  while (__atomic_load_n(seq, __ATOMIC_ACQUIRE) != value)
    if (++spins == SPINS_BEFORE_YIELD) {
      spins = 0;
      sched_yield();
    }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Try k of 2 * tries: the initiator waits for seq 3k, reads t1 and writes
 * 3k+1; the responder, seeing 3k+1, reads t2, stores it and writes 3k+2;
 * the initiator, seeing 3k+2, reads t3 and writes 3k+3.  Counter reads are
 * the clock's stop() (rdtscp; lfence, or lfence; rdtsc; lfence): each is
 * taken after the load before it completes and before the store after it
 * starts, so t1 <= t2 <= t3 hold in real time. */
static void pair_run(const skew_job *job, int me, int other) {
  const lnuma_skew_params *p = job->p;
  const lnuma_clock *c = p->clock;
  int lo_i = me < other ? me : other;
  skew_line *line = &job->lines[lo_i];
  int n = p->n, tries = p->tries;
  lnuma_skew_cell *cell = &job->r->cells[(size_t)me * (size_t)n + (size_t)other];
  uint64_t *rtt = job->rtts + (size_t)me * (size_t)tries;
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  uint64_t best = UINT64_MAX;
  int mine = 0;
  for (int k = 0; k < 2 * tries; k++) {
    uint64_t base = 3 * (uint64_t)k;
    /* The lower index starts the even tries, the higher one the odd ones. */
    if ((k % 2 == 0) == (me == lo_i)) {
      wait_seq(&line->seq, base);
      uint64_t t1 = lnuma_clock_stop(c);
      __atomic_store_n(&line->seq, base + 1, __ATOMIC_RELEASE);
      wait_seq(&line->seq, base + 2);
      uint64_t t3 = lnuma_clock_stop(c);
      uint64_t t2 = __atomic_load_n(&line->stamp, __ATOMIC_RELAXED);
      __atomic_store_n(&line->seq, base + 3, __ATOMIC_RELEASE);
      int64_t a = (int64_t)(t2 - t3), b = (int64_t)(t2 - t1);
      if (a > lo) lo = a;
      if (b < hi) hi = b;
      if (t3 - t1 < best) best = t3 - t1;
      rtt[mine++] = t3 - t1;
    } else {
      wait_seq(&line->seq, base + 1);
      uint64_t t2 = lnuma_clock_stop(c);
      __atomic_store_n(&line->stamp, t2, __ATOMIC_RELAXED);
      __atomic_store_n(&line->seq, base + 2, __ATOMIC_RELEASE);
    }
  }
  qsort(rtt, (size_t)mine, sizeof *rtt, cmp_u64);
  cell->lo_ticks = lo;
  cell->hi_ticks = hi;
  cell->rtt_ticks = best;
  cell->rtt_median_ticks = mine > 0 ? rtt[mine / 2] : 0;
}

static void skew_member(lnuma_team *team, int index, void *arg) {
  skew_job *job = arg;
  for (int round = 0; round < job->rounds; round++) {
    int other = lnuma_c2c_partner(job->p->n, round, index);
    if (other >= 0) {
      /* The lower index resets the line; both wait for the other to arrive. */
      if (index < other) __atomic_store_n(&job->lines[index].seq, 0, __ATOMIC_RELAXED);
      lnuma_team_sync(team);
      pair_run(job, index, other);
    } else {
      lnuma_team_sync(team);
    }
    lnuma_team_sync(team);
  }
}

int lnuma_clock_skew(const lnuma_skew_params *p, lnuma_skew_result *r, lnuma_error *err) {
  if (p == NULL || r == NULL || p->clock == NULL || p->cpus == NULL || r->cells == NULL)
    return lnuma__fail(err, EINVAL, "skew: missing parameters or result arrays");
  if (p->n < 2 || p->n > LNUMA_SKEW_MAX_CPUS)
    return lnuma__fail(err, EINVAL, "skew: 2 to %d CPUs, not %d", LNUMA_SKEW_MAX_CPUS, p->n);
  if (p->tries < 1 || p->tries > LNUMA_SKEW_MAX_TRIES)
    return lnuma__fail(err, EINVAL, "skew: 1 to %d tries, not %d", LNUMA_SKEW_MAX_TRIES,
                       p->tries);
  for (int i = 0; i < p->n; i++)
    for (int j = 0; j < i; j++)
      if (p->cpus[i] == p->cpus[j])
        return lnuma__fail(err, EINVAL, "skew: CPU %d is listed twice", p->cpus[i]);
  skew_job job = {p, r, NULL, NULL, lnuma_c2c_rounds(p->n)};
  job.lines = aligned_alloc(LINE, (size_t)p->n * LINE);
  job.rtts = malloc((size_t)p->n * (size_t)p->tries * sizeof *job.rtts);
  if (job.lines == NULL || job.rtts == NULL) {
    free(job.lines);
    free(job.rtts);
    return lnuma__fail_sys(err, ENOMEM, "skew");
  }
  memset(job.lines, 0, (size_t)p->n * LINE);
  memset(r->cells, 0, (size_t)p->n * (size_t)p->n * sizeof *r->cells);
  int rc = lnuma_team_run(p->n, p->cpus, skew_member, &job, r->threads, err);
  free(job.lines);
  free(job.rtts);
  return rc;
}
