/* Core-to-core latency: a cache line handed back and forth between two
 * pinned threads, for every pair of CPUs.  A round-robin tournament
 * schedules the pairs so that disjoint pairs run at the same time; the whole
 * tournament runs once per sample.
 *
 * Every (pair, sample) gets a line of its own that no other pair ever
 * touches: a line that another core held before (even one flushed back, its
 * ownership remembered by the L3 or a probe filter) changes what the next
 * handoff costs, and a line reused while another pair still bounces it is
 * how a run hangs.  The lines are zeroed and flushed out of every cache
 * first, so the pair's initiator is the first core to own its line. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#endif

#include "kernels_internal.h"

#define SPINS_BEFORE_YIELD (1u << 20)

/* ---- the schedule ------------------------------------------------------------ */

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

int64_t lnuma_c2c_pairs(int n) { return n < 2 ? 0 : (int64_t)n * (n - 1) / 2; }

int64_t lnuma_c2c_pair_index(int n, int a, int b) {
  if (a > b) {
    int t = a;
    a = b;
    b = t;
  }
  if (n < 2 || a < 0 || b >= n || a == b) return -1;
  return (int64_t)a * (2 * (int64_t)n - a - 1) / 2 + (b - a - 1);
}

/* Sample-major: the lines of one tournament are contiguous. */
int64_t lnuma_c2c_line(int n, int samples, int a, int b, int sample) {
  int64_t k = lnuma_c2c_pair_index(n, a, b);
  if (k < 0 || samples < 1 || sample < 0 || sample >= samples) return -1;
  return (int64_t)sample * lnuma_c2c_pairs(n) + k;
}

size_t lnuma_c2c_memory(int n, int samples) {
  if (n < 2 || n > LNUMA_TEAM_MAX || samples < 1) return 0;
  uint64_t lines = (uint64_t)lnuma_c2c_pairs(n) * (uint64_t)samples;
  if (lines > (uint64_t)SIZE_MAX / LNUMA_C2C_LINE_STRIDE) return 0;
  return (size_t)(lines * LNUMA_C2C_LINE_STRIDE);
}

static const char *const mode_names[LNUMA_C2C_MODE_COUNT] = {"pingpong", "cas"};

const char *lnuma_c2c_mode_name(int mode) {
  return mode >= 0 && mode < LNUMA_C2C_MODE_COUNT ? mode_names[mode] : NULL;
}

int lnuma_c2c_mode_from_name(const char *name) {
  for (int m = 0; name != NULL && m < LNUMA_C2C_MODE_COUNT; m++)
    if (strcmp(name, mode_names[m]) == 0) return m;
  return -1;
}

/* ---- the handoffs ------------------------------------------------------------- */

typedef atomic_uint_fast64_t c2c_line;

/* The partner may share our CPU (an oversubscribed VM): let it run now and
 * then rather than spin out a whole time slice. */
static inline void backoff(unsigned *spins) {
  if (++*spins == SPINS_BEFORE_YIELD) {
    *spins = 0;
    sched_yield();
  }
}

static void wait_for(c2c_line *line, uint64_t value) {
  unsigned spins = 0;
  while (atomic_load_explicit(line, memory_order_acquire) != value) backoff(&spins);
}

/* One handoff: the line goes from the partner's value `from` to ours, `to`.
 * pingpong: load until the partner's store shows, then store.
 * cas: compare-and-swap from -> to until it succeeds, as a spinning lock
 * acquirer does (core-to-core-latency's CAS test is the same loop). */
static inline void take(c2c_line *line, int mode, uint64_t from, uint64_t to) {
  if (mode == LNUMA_C2C_CAS) {
    unsigned spins = 0;
    for (;;) {
      uint_fast64_t expected = from;
      if (atomic_compare_exchange_weak_explicit(line, &expected, to, memory_order_acq_rel,
                                                memory_order_acquire))
        return;
      backoff(&spins);
    }
  }
  wait_for(line, from);
  atomic_store_explicit(line, to, memory_order_release);
}

/* ---- the measurement ----------------------------------------------------------- */

typedef struct c2c_job {
  const lnuma_c2c_params *p;
  lnuma_c2c_result *r;
  int rounds;
} c2c_job;

/* The initiator of a pair: hands the line over 2k+1 and gets it back as
 * 2k+2; `warmup` round trips untimed (the partner leaving the barrier, the
 * line's first trip from memory), then `roundtrips` timed ones.  The timed
 * region starts once the last warm-up value has been seen and ends when the
 * last timed one has: exactly `roundtrips` round trips. */
static uint64_t initiate(c2c_line *line, const lnuma_c2c_params *p) {
  uint64_t w = p->warmup, end = p->warmup + p->roundtrips;
  for (uint64_t k = 0; k < w; k++) take(line, p->mode, 2 * k, 2 * k + 1);
  wait_for(line, 2 * w);
  uint64_t t0 = lnuma__kt_start(p->clock);
  for (uint64_t k = w; k < end; k++) take(line, p->mode, 2 * k, 2 * k + 1);
  wait_for(line, 2 * end);
  return lnuma__kt_since(p->clock, t0);
}

static void respond(c2c_line *line, const lnuma_c2c_params *p) {
  uint64_t end = p->warmup + p->roundtrips;
  for (uint64_t k = 0; k < end; k++) take(line, p->mode, 2 * k + 1, 2 * k + 2);
}

static void c2c_thread(lnuma_team *team, int i, void *arg) {
  c2c_job *j = arg;
  const lnuma_c2c_params *p = j->p;
  for (int s = 0; s < p->samples; s++) {
    for (int r = 0; r < j->rounds; r++) {
      /* Pairs are disjoint within a step: a CPU is in one pair at a time. */
      lnuma_team_sync(team);
      int partner = lnuma_c2c_partner(p->n, r, i);
      if (partner < 0) continue;
      int64_t line = lnuma_c2c_line(p->n, p->samples, i, partner, s);
      size_t off = (size_t)line * LNUMA_C2C_LINE_STRIDE;
      c2c_line *l = (c2c_line *)((char *)p->mem + off);
      if (i > partner) {
        respond(l, p);
        continue;
      }
      size_t at = (size_t)lnuma_c2c_pair_index(p->n, i, partner) * (size_t)p->samples + (size_t)s;
      j->r->sample_ns[at] = initiate(l, p);
      if (j->r->line_offset != NULL) j->r->line_offset[at] = (uint64_t)off;
    }
  }
}

/* Zeroes every line and flushes it out of every cache; 0 where this
 * architecture has no flush a program may use. */
static int prepare_lines(char *mem, size_t lines) {
  for (size_t k = 0; k < lines; k++)
    atomic_init((c2c_line *)(mem + k * LNUMA_C2C_LINE_STRIDE), 0);
#if defined(__x86_64__) || defined(__i386__)
  _mm_mfence();
  for (size_t k = 0; k < lines; k++) _mm_clflush(mem + k * LNUMA_C2C_LINE_STRIDE);
  _mm_mfence();
  return 1;
#elif defined(__aarch64__)
  __asm__ volatile("dsb ish" ::: "memory");
  for (size_t k = 0; k < lines; k++)
    __asm__ volatile("dc civac, %0" ::"r"(mem + k * LNUMA_C2C_LINE_STRIDE) : "memory");
  __asm__ volatile("dsb ish" ::: "memory");
  return 1;
#else
  return 0;
#endif
}

int lnuma_c2c_measure(const lnuma_c2c_params *p, lnuma_c2c_result *r, lnuma_error *err) {
  if (p == NULL || r == NULL || r->sample_ns == NULL || r->threads == NULL)
    return lnuma__fail(err, EINVAL, "c2c: no parameters or no room for the result");
  if (p->n < 2 || p->n > LNUMA_TEAM_MAX || p->cpus == NULL)
    return lnuma__fail(err, EINVAL, "c2c: needs at least two CPUs (at most %d), %d given",
                       LNUMA_TEAM_MAX, p->n);
  if (lnuma_c2c_mode_name(p->mode) == NULL)
    return lnuma__fail(err, EINVAL, "c2c: unknown mode %d", p->mode);
  if (p->samples < 1 || p->roundtrips < 1)
    return lnuma__fail(err, EINVAL, "c2c: at least one sample of one round trip");
  if (p->roundtrips > (UINT64_MAX >> 2) || p->warmup > (UINT64_MAX >> 2) - p->roundtrips)
    return lnuma__fail(err, EINVAL, "c2c: too many round trips");
  size_t need = lnuma_c2c_memory(p->n, p->samples);
  if (need == 0) return lnuma__fail(err, EINVAL, "c2c: too many lines for this address space");
  if (p->mem == NULL || ((uintptr_t)p->mem % LNUMA_C2C_LINE_STRIDE) != 0 || p->size < need)
    return lnuma__fail(err, EINVAL,
                       "c2c: needs %zu bytes of %d-byte aligned memory (a fresh line for "
                       "each pair and sample), got %zu",
                       need, LNUMA_C2C_LINE_STRIDE, p->size);
  for (int a = 0; a < p->n; a++)
    for (int b = a + 1; b < p->n; b++)
      if (p->cpus[a] == p->cpus[b])
        return lnuma__fail(err, EINVAL, "c2c: CPU %d is named twice", p->cpus[a]);
  size_t cells = (size_t)lnuma_c2c_pairs(p->n) * (size_t)p->samples;
  memset(r->sample_ns, 0, cells * sizeof *r->sample_ns);
  if (r->line_offset != NULL) memset(r->line_offset, 0xff, cells * sizeof *r->line_offset);
  r->flushed = prepare_lines(p->mem, need / LNUMA_C2C_LINE_STRIDE);
  c2c_job j = {.p = p, .r = r, .rounds = lnuma_c2c_rounds(p->n)};
  return lnuma_team_run(p->n, p->cpus, c2c_thread, &j, r->threads, err);
}
