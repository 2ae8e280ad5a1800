/* Loaded latency: one thread chases pointers while the others stream memory
 * with a kernel, pausing between chunks; stepping the pause down traces
 * latency against bandwidth (what MLC's --loaded_latency shows). */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "kernels_internal.h"

#define TRAFFIC_CHUNK 4096 /* bytes per array between two pauses */

typedef struct loaded_job {
  const lnuma_loaded_params *p;
  lnuma_loaded_point *points;
  lnuma__kfn fn;
  size_t share;
  int arrays;
  atomic_int stop;
  atomic_int running; /* traffic threads that started the current step */
  uint64_t *bytes; /* [nthreads] per step */
  uint64_t *ns;    /* [nthreads] per step */
  uint64_t chase_loads, chase_ns;
  int rc;
  lnuma_error err;
} loaded_job;

static void chaser(lnuma_team *team, loaded_job *j) {
  const lnuma_loaded_params *p = j->p;
  size_t slots = lnuma_chase_init(p->chase_mem, p->chase_size, &p->chase, &j->err);
  if (slots == 0) j->rc = -1;
  lnuma_team_sync(team);
  if (j->rc != 0) return;
  void *pos = p->chase_mem;
  lnuma_chase_run(&pos, slots < 1000000 ? slots : 1000000);
  for (int d = 0; d < p->ndelays; d++) {
    lnuma_team_sync(team);
    /* Measure only once every traffic thread is streaming. */
    while (atomic_load_explicit(&j->running, memory_order_acquire) < p->nthreads - 1)
      lnuma__kdelay(100);
    uint64_t t0 = lnuma__kt_start(p->clock), elapsed = 0, loads = 0;
    while (elapsed < p->step_ns) {
      lnuma_chase_run(&pos, 1024);
      loads += 1024;
      elapsed = lnuma__kt_since(p->clock, t0);
    }
    atomic_store_explicit(&j->stop, 1, memory_order_release);
    j->chase_loads = loads;
    j->chase_ns = elapsed;
    lnuma_team_sync(team);
    lnuma_loaded_point *pt = &j->points[d];
    pt->delay = p->delays[d];
    pt->chase_loads = loads;
    pt->latency_ns = (double)elapsed / (double)loads;
    pt->traffic_bytes = pt->traffic_ns = 0;
    for (int k = 1; k < p->nthreads; k++) {
      pt->traffic_bytes += j->bytes[k];
      if (j->ns[k] > pt->traffic_ns) pt->traffic_ns = j->ns[k];
    }
    atomic_store_explicit(&j->stop, 0, memory_order_relaxed);
    atomic_store_explicit(&j->running, 0, memory_order_relaxed);
    lnuma_team_sync(team);
  }
  __asm__ volatile("" : : "r"(pos) : "memory");
}

static void traffic(lnuma_team *team, int i, loaded_job *j) {
  const lnuma_loaded_params *p = j->p;
  size_t part = j->share * (size_t)j->arrays;
  char *a = (char *)p->traffic_mem + (size_t)(i - 1) * part;
  char *b = j->arrays > 1 ? a + j->share : a;
  char *c = j->arrays > 2 ? a + 2 * j->share : b;
  lnuma__ktouch(a, part, 1.0);
  lnuma_team_sync(team);
  if (j->rc != 0) return;
  uint64_t sum = j->fn(a, b, c, j->share, 3.0);
  size_t chunk = j->share < TRAFFIC_CHUNK ? j->share : TRAFFIC_CHUNK;
  for (int d = 0; d < p->ndelays; d++) {
    uint64_t delay = p->delays[d], moved = 0;
    size_t off = 0;
    lnuma_team_sync(team);
    uint64_t t0 = lnuma__kt_start(p->clock);
    atomic_fetch_add_explicit(&j->running, 1, memory_order_release);
    do {
      sum += j->fn(a + off, b + off, c + off, chunk, 3.0);
      moved += chunk * (size_t)j->arrays;
      off += chunk;
      if (off + chunk > j->share) off = 0;
      if (delay) lnuma__kdelay(delay);
    } while (!atomic_load_explicit(&j->stop, memory_order_acquire));
    j->ns[i] = lnuma__kt_since(p->clock, t0);
    j->bytes[i] = moved;
    lnuma_team_sync(team);
    lnuma_team_sync(team);
  }
  __asm__ volatile("" : : "r"(sum) : "memory");
}

static void loaded_thread(lnuma_team *team, int i, void *arg) {
  if (i == 0)
    chaser(team, arg);
  else
    traffic(team, i, arg);
}

int lnuma_loaded_measure(const lnuma_loaded_params *p, lnuma_loaded_point *points,
                         lnuma_team_thread *threads, lnuma_error *err) {
  if (p == NULL || points == NULL || p->delays == NULL || p->ndelays < 1)
    return lnuma__fail(err, EINVAL, "loaded latency: no delay steps");
  if (p->nthreads < 2 || p->nthreads > LNUMA_TEAM_MAX || p->cpus == NULL)
    return lnuma__fail(err, EINVAL,
                       "loaded latency: needs 2 to %d threads (a chaser and traffic), not %d",
                       LNUMA_TEAM_MAX, p->nthreads);
  if (lnuma_kernel_name(p->kernel) == NULL || lnuma_isa_name(p->isa) == NULL)
    return lnuma__fail(err, EINVAL, "loaded latency: bad kernel or ISA");
  if (!lnuma_isa_supported(p->isa))
    return lnuma__fail(err, ENOTSUP, "loaded latency: this CPU cannot run %s kernels",
                       lnuma_isa_name(p->isa));
  if (p->traffic_mem == NULL || ((uintptr_t)p->traffic_mem & 63) != 0)
    return lnuma__fail(err, EINVAL, "loaded latency: traffic memory must be 64-byte aligned");
  if (p->step_ns == 0) return lnuma__fail(err, EINVAL, "loaded latency: step time is 0");
  loaded_job j = {.p = p, .points = points};
  j.arrays = lnuma_kernel_arrays(p->kernel);
  j.share = lnuma__kshare(p->traffic_size, p->nthreads - 1, j.arrays);
  if (j.share == 0)
    return lnuma__fail(err, EINVAL, "loaded latency: %zu bytes of traffic memory are too few "
                       "for %d threads", p->traffic_size, p->nthreads - 1);
  j.fn = lnuma__kernel_fn(p->kernel, p->isa);
  atomic_init(&j.stop, 0);
  atomic_init(&j.running, 0);
  j.bytes = calloc((size_t)p->nthreads, sizeof *j.bytes);
  j.ns = calloc((size_t)p->nthreads, sizeof *j.ns);
  if (j.bytes == NULL || j.ns == NULL) {
    free(j.bytes);
    free(j.ns);
    return lnuma__fail_sys(err, ENOMEM, "loaded latency");
  }
  int rc = lnuma_team_run(p->nthreads, p->cpus, loaded_thread, &j, threads, err);
  free(j.bytes);
  free(j.ns);
  if (rc != 0) return -1;
  if (j.rc != 0) {
    if (err != NULL) *err = j.err;
    errno = j.err.code;
    return -1;
  }
  return 0;
}
