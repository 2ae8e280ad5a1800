/* Bandwidth measurement: a team of pinned threads, each streaming its own
 * part of the memory with one kernel, started together on a barrier; the
 * figure is all bytes over the slowest thread's time. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels_internal.h"

#define MAX_PASSES ((uint64_t)1 << 30)

typedef struct bw_job {
  const lnuma_bw_params *p;
  lnuma__kfn fn;      /* the order measured: chosen by thread 0 after the trials */
  int order;
  lnuma__kfn walks[LNUMA_BW_WALKS]; /* trials: LINEAR, SPLIT, PAGES */
  char *base;         /* the first array of thread 0: p->mem, or its first page */
  size_t share;       /* bytes per array per thread */
  int arrays;
  uint64_t passes;    /* decided by thread 0 after the warm-up */
  uint64_t trial_passes;
  uint64_t *warm_ns;  /* [nthreads] */
  uint64_t *sums;     /* [nthreads], keeps the reads alive */
  uint64_t *rep_ns;   /* the caller's [repetitions * nthreads] */
  uint64_t *span_ns;  /* the caller's [repetitions], or NULL */
  uint64_t *trial_ns; /* the caller's [trials * LNUMA_BW_WALKS], or NULL */
  uint64_t *start, *end; /* [nthreads] ticks of the current round */
} bw_job;

/* From the first thread's start to the last one's end of the round just
 * timed (thread 0, after a barrier).  The counter is the same on every CPU
 * (invariant TSC or the kernel's monotonic clock), so they compare. */
static uint64_t round_span(const bw_job *j, int n) {
  uint64_t first = j->start[0], last = j->end[0];
  for (int k = 1; k < n; k++) {
    if (j->start[k] < first) first = j->start[k];
    if (j->end[k] > last) last = j->end[k];
  }
  return lnuma__kt_ns(j->p->clock, last - first);
}

/* Each thread runs passes of fn between two barriers, its start and end
 * kept for round_span; returns its own time. */
static uint64_t timed_round(bw_job *j, lnuma_team *team, int i, lnuma__kfn fn, uint64_t passes,
                            char *a, char *b, char *c, uint64_t *sum) {
  const lnuma_bw_params *p = j->p;
  lnuma_team_sync(team);
  uint64_t t0 = lnuma__kt_start(p->clock);
  for (uint64_t k = 0; k < passes; k++) *sum += fn(a, b, c, j->share, p->scalar);
  uint64_t t1 = lnuma__kt_stop(p->clock);
  j->start[i] = t0;
  j->end[i] = t1;
  lnuma_team_sync(team);
  return lnuma__kt_ns(p->clock, t1 - t0);
}

/* A pass count, at least one and at most MAX_PASSES. */
static uint64_t passes_for(uint64_t want) {
  return want < 1 ? 1 : want > MAX_PASSES ? MAX_PASSES : want;
}

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

/* Thread 0, after the trials: the walk with the shortest median span. */
static void choose_walk(bw_job *j) {
  int rounds = j->p->trials, best = 0;
  uint64_t best_ns = UINT64_MAX, spans[LNUMA_BW_TRIALS_MAX] = {0};
  for (int w = 0; w < LNUMA_BW_WALKS; w++) {
    for (int t = 0; t < rounds; t++) spans[t] = j->trial_ns[t * LNUMA_BW_WALKS + w];
    qsort(spans, (size_t)rounds, sizeof spans[0], cmp_u64);
    uint64_t median = spans[(rounds - 1) / 2];
    if (median < best_ns) best = w, best_ns = median;
  }
  j->order = LNUMA_ORDER_LINEAR + best;
  j->fn = j->walks[best];
}

static void bw_thread(lnuma_team *team, int i, void *arg) {
  bw_job *j = arg;
  const lnuma_bw_params *p = j->p;
  int n = p->nthreads;
  char *a = j->base + (size_t)i * j->share * (size_t)j->arrays;
  char *b = j->arrays > 1 ? a + j->share : a;
  char *c = j->arrays > 2 ? a + 2 * j->share : b;
  uint64_t sum = 0;

  if (p->first_touch) lnuma__ktouch(a, j->share * (size_t)j->arrays, 1.0);
  if (p->kernel == LNUMA_KERNEL_TRIAD) {
    /* Whatever the memory held may read as denormals, which are slow. */
    lnuma__ktouch(b, j->share, 1.0);
    lnuma__ktouch(c, j->share, 2.0);
  }
  lnuma_team_sync(team);
  sum += j->fn(a, b, c, j->share, p->scalar); /* caches, TLB, page faults */
  j->warm_ns[i] = timed_round(j, team, i, j->fn, 1, a, b, c, &sum);
  if (i == 0) {
    uint64_t slowest = 1;
    for (int k = 0; k < n; k++)
      if (j->warm_ns[k] > slowest) slowest = j->warm_ns[k];
    j->passes = passes_for((p->min_time_ns + slowest - 1) / slowest);
    /* Trials take about a quarter of min_time in all, one pass at least. */
    uint64_t trial = j->trial_ns == NULL ? 0 : p->min_time_ns / 4 / LNUMA_BW_WALKS /
                                                   (uint64_t)p->trials;
    j->trial_passes = passes_for(trial / slowest);
  }
  lnuma_team_sync(team);
  if (j->trial_ns != NULL) {
    /* Rounds of every walk in turn, so drift and neighbours fall on all.
     * On memory not well beyond the last-level cache, what one walk leaves
     * in the cache favours another (1 GB of triad arrays under a 480 MiB
     * L3: split ran 32 GB/s right after linear, 27 after itself), which is
     * why bandwidth buffers default to four times the cache. */
    for (int t = 0; t < p->trials; t++)
      for (int w = 0; w < LNUMA_BW_WALKS; w++) {
        timed_round(j, team, i, j->walks[w], j->trial_passes, a, b, c, &sum);
        if (i == 0) j->trial_ns[t * LNUMA_BW_WALKS + w] = round_span(j, n);
      }
    if (i == 0) choose_walk(j);
    lnuma_team_sync(team);
  }
  for (int r = 0; r < p->repetitions; r++) {
    uint64_t ns = timed_round(j, team, i, j->fn, j->passes, a, b, c, &sum);
    j->rep_ns[(size_t)r * (size_t)n + (size_t)i] = ns;
    if (i == 0 && j->span_ns != NULL) j->span_ns[r] = round_span(j, n);
  }
  j->sums[i] = sum;
}

int lnuma_bw_measure(const lnuma_bw_params *p, lnuma_bw_result *r, lnuma_error *err) {
  if (p == NULL || r == NULL || r->rep_ns == NULL)
    return lnuma__fail(err, EINVAL, "bandwidth: missing parameters or result arrays");
  if (lnuma_kernel_name(p->kernel) == NULL)
    return lnuma__fail(err, EINVAL, "bandwidth: no kernel %d", p->kernel);
  if (lnuma_isa_name(p->isa) == NULL)
    return lnuma__fail(err, EINVAL, "bandwidth: no ISA %d", p->isa);
  if (lnuma_order_name(p->order) == NULL)
    return lnuma__fail(err, EINVAL, "bandwidth: no walk order %d", p->order);
  if (!lnuma_isa_supported(p->isa))
    return lnuma__fail(err, ENOTSUP, "bandwidth: this CPU cannot run %s kernels",
                       lnuma_isa_name(p->isa));
  if (p->nthreads < 1 || p->nthreads > LNUMA_TEAM_MAX || p->cpus == NULL)
    return lnuma__fail(err, EINVAL, "bandwidth: 1 to %d threads, not %d", LNUMA_TEAM_MAX,
                       p->nthreads);
  if (p->repetitions < 1)
    return lnuma__fail(err, EINVAL, "bandwidth: at least one repetition");
  if (p->mem == NULL || ((uintptr_t)p->mem & 63) != 0)
    return lnuma__fail(err, EINVAL, "bandwidth: the memory must be 64-byte aligned");
  int arrays = lnuma_kernel_arrays(p->kernel);
  size_t skip = lnuma__kskip(p->mem, p->size, p->nthreads, arrays);
  size_t share = lnuma__kshare(p->size - skip, p->nthreads, arrays);
  if (share == 0)
    return lnuma__fail(err, EINVAL,
                       "bandwidth: %zu bytes are too few for %d threads of %s (each "
                       "needs %d x %d bytes)",
                       p->size, p->nthreads, lnuma_kernel_name(p->kernel), arrays,
                       LNUMA_KERNEL_GRANULE);

  int trials = p->order == LNUMA_ORDER_AUTO ? p->trials : 0;
  if (trials < 0 || trials > LNUMA_BW_TRIALS_MAX)
    return lnuma__fail(err, EINVAL, "bandwidth: 0 to %d trial rounds, not %d",
                       LNUMA_BW_TRIALS_MAX, p->trials);
  if (trials > 0 && r->trial_ns == NULL)
    return lnuma__fail(err, EINVAL, "bandwidth: trials need the result's trial_ns array");
  bw_job j = {.p = p, .base = (char *)p->mem + skip, .share = share, .arrays = arrays,
              .trial_ns = trials ? r->trial_ns : NULL};
  j.order = p->order == LNUMA_ORDER_AUTO ? lnuma_order_best(p->kernel) : p->order;
  j.fn = lnuma__kernel_fn_order(p->kernel, p->isa, j.order);
  for (int w = 0; w < LNUMA_BW_WALKS; w++)
    j.walks[w] = lnuma__kernel_fn_order(p->kernel, p->isa, LNUMA_ORDER_LINEAR + w);
  j.warm_ns = calloc((size_t)p->nthreads, sizeof *j.warm_ns);
  j.sums = calloc((size_t)p->nthreads, sizeof *j.sums);
  j.rep_ns = r->rep_ns;
  j.span_ns = r->span_ns;
  j.start = calloc((size_t)p->nthreads, sizeof *j.start);
  j.end = calloc((size_t)p->nthreads, sizeof *j.end);
  if (j.warm_ns == NULL || j.sums == NULL || j.start == NULL || j.end == NULL) {
    free(j.warm_ns);
    free(j.sums);
    free(j.start);
    free(j.end);
    return lnuma__fail_sys(err, ENOMEM, "bandwidth");
  }
  int rc = lnuma_team_run(p->nthreads, p->cpus, bw_thread, &j, r->threads, err);
  free(j.warm_ns);
  free(j.sums);
  free(j.start);
  free(j.end);
  if (rc != 0) return -1;
  r->isa = p->isa == LNUMA_ISA_AUTO ? lnuma_isa_best() : p->isa;
  r->order = j.order;
  r->passes = j.passes;
  r->thread_bytes = share * (size_t)arrays;
  r->bytes = r->thread_bytes * (size_t)p->nthreads * (size_t)j.passes;
  r->trial_bytes = trials ? r->thread_bytes * (size_t)p->nthreads * (size_t)j.trial_passes : 0;
  return 0;
}
