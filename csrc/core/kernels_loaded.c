/* Loaded latency: one thread chases pointers while the others stream memory,
 * pausing a set time after every chunk; a longer pause offers less load, so
 * stepping it traces latency against bandwidth (MLC's --loaded_latency).
 * Each step is timed over one window that both sides share: the chaser
 * opens it once every traffic thread streams, and the traffic threads count
 * bytes, chunks and pause time from the moment they see it open until they
 * see it close. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "kernels_traffic.h"

#define CHASE_CHUNK 1024 /* dependent loads per timed chase chunk */

#define PAUSE_SAMPLES 512 /* pauses sampled per traffic thread and step */

/* Keeps every `every`-th value; when full, keeps every other one and samples
 * half as often, so the samples stay spread over the whole step. */
typedef struct sampler {
  uint64_t *v;
  size_t cap, kept;
  uint64_t n, every;
} sampler;

static void sampler_reset(sampler *s) {
  s->kept = 0;
  s->n = 0;
  s->every = 1;
}

static void sample(sampler *s, uint64_t x) {
  if (s->n++ % s->every != 0) return;
  s->v[s->kept++] = x;
  if (s->kept == s->cap) {
    for (size_t i = 0; i < s->cap / 2; i++) s->v[i] = s->v[2 * i];
    s->kept = s->cap / 2;
    s->every *= 2;
  }
}

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return (a > b) - (a < b);
}

/* Nearest-rank quantile q of the samples (sorted in place unless they
 * already are); 0 when there are none. */
static uint64_t quantile(sampler *s, double q, int sorted) {
  if (s->kept == 0) return 0;
  if (!sorted) qsort(s->v, s->kept, sizeof *s->v, cmp_u64);
  size_t k = (size_t)(q * (double)s->kept + 0.999999);
  k = k < 1 ? 1 : k > s->kept ? s->kept : k;
  return s->v[k - 1];
}

typedef struct traffic_out {
  uint64_t bytes, ns, chunks, paused_ns, pause_p50_ns, offcpu_ns;
  sampler pauses;
} traffic_out;

typedef struct loaded_job {
  const lnuma_loaded_params *p;
  lnuma_loaded_result *r;
  lnuma__kfn fn;
  size_t share;       /* bytes per array per traffic thread */
  int arrays;
  atomic_int window;  /* 1 while the chaser measures */
  atomic_int stop;    /* 1 once it has finished the step */
  atomic_int running; /* traffic threads streaming in the current step */
  traffic_out *out;   /* [nthreads] for the current step */
  sampler chunks;     /* ticks of the chase chunks */
  int rc;
  lnuma_error err;
} loaded_job;

static uint64_t off_cpu(uint64_t elapsed_ns, int64_t cpu0, int64_t cpu1) {
  if (cpu0 < 0 || cpu1 < cpu0) return 0;
  uint64_t on = (uint64_t)(cpu1 - cpu0);
  return on < elapsed_ns ? elapsed_ns - on : 0;
}

/* Sums what the traffic threads saw into the step. */
static void sum_traffic(const loaded_job *j, lnuma_loaded_step *st) {
  st->traffic_bytes = st->traffic_chunks = st->delay_total_ns = st->delay_p50_ns = 0;
  st->traffic_offcpu_ns = st->traffic_ns = 0;
  st->traffic_gbps = 0;
  double worst = -1;
  for (int k = 1; k < j->p->nthreads; k++) {
    const traffic_out *o = &j->out[k];
    st->traffic_bytes += o->bytes;
    st->traffic_chunks += o->chunks;
    st->delay_total_ns += o->paused_ns;
    if (o->pause_p50_ns > st->delay_p50_ns) st->delay_p50_ns = o->pause_p50_ns;
    if (o->ns > 0) st->traffic_gbps += (double)o->bytes / (double)o->ns;
    double off = o->ns > 0 ? (double)o->offcpu_ns / (double)o->ns : 0;
    if (off > worst) {
      worst = off;
      st->traffic_offcpu_ns = o->offcpu_ns;
      st->traffic_ns = o->ns;
    }
  }
}

static void chaser(lnuma_team *team, loaded_job *j) {
  const lnuma_loaded_params *p = j->p;
  const lnuma_clock *ck = p->clock;
  size_t slots = lnuma_chase_init(p->chase_mem, p->chase_size, &p->chase, &j->err);
  if (slots == 0) j->rc = -1;
  j->r->slots = slots;
  lnuma_team_sync(team);
  if (j->rc != 0) return;
  void *pos = p->chase_mem;
  lnuma_chase_run(&pos, slots < 1000000 ? slots : 1000000); /* caches, TLB */
  uint64_t limit = lnuma__ns_to_ticks(ck, p->step_ns);
  for (int s = 0; s < p->nsteps; s++) {
    lnuma_team_sync(team);
    while (atomic_load_explicit(&j->running, memory_order_acquire) < p->nthreads - 1)
      lnuma__kdelay(100);
    sampler_reset(&j->chunks);
    int64_t cpu0 = lnuma_thread_cpu_ns();
    uint64_t t0 = lnuma__kt_start(ck), prev = t0, t = t0, n = 0;
    atomic_store_explicit(&j->window, 1, memory_order_release);
    do {
      lnuma_chase_run(&pos, CHASE_CHUNK);
      t = lnuma__kt_stop(ck);
      sample(&j->chunks, t - prev);
      prev = t;
      n++;
    } while (t - t0 < limit);
    atomic_store_explicit(&j->stop, 1, memory_order_release);
    int64_t cpu1 = lnuma_thread_cpu_ns();
    lnuma_team_sync(team); /* the traffic threads have written j->out */
    lnuma_loaded_step *st = &j->r->steps[s];
    st->delay_ns = p->delays_ns[s];
    st->chase_loads = n * CHASE_CHUNK;
    st->chase_ns = lnuma__kt_ns(ck, t - t0);
    st->chase_offcpu_ns = off_cpu(st->chase_ns, cpu0, cpu1);
    st->latency_ns = (double)st->chase_ns / (double)st->chase_loads;
    st->chunks = n;
    st->chunk_p50_ns = (double)lnuma__kt_ns(ck, quantile(&j->chunks, 0.50, 0)) / CHASE_CHUNK;
    st->chunk_p99_ns = (double)lnuma__kt_ns(ck, quantile(&j->chunks, 0.99, 1)) / CHASE_CHUNK;
    sum_traffic(j, st);
    atomic_store_explicit(&j->window, 0, memory_order_relaxed);
    atomic_store_explicit(&j->stop, 0, memory_order_relaxed);
    atomic_store_explicit(&j->running, 0, memory_order_relaxed);
  }
  __asm__ volatile("" : : "r"(pos) : "memory");
}

static void traffic(lnuma_team *team, int i, loaded_job *j) {
  const lnuma_loaded_params *p = j->p;
  const lnuma_clock *ck = p->clock;
  const lnuma_traffic_info *info = lnuma_traffic_get(p->traffic);
  uint64_t chunk_bytes = (uint64_t)LNUMA_LOADED_CHUNK * (uint64_t)(info->reads + info->writes);
  size_t part = j->share * (size_t)j->arrays;
  char *a = (char *)p->traffic_mem + (size_t)(i - 1) * part;
  char *b = j->arrays > 1 ? a + j->share : a;
  lnuma__ktouch(a, part, 1.0);
  lnuma_team_sync(team);
  if (j->rc != 0) return;
  uint64_t sum = j->fn(a, b, b, j->share, 3.0); /* caches, TLB */
  for (int s = 0; s < p->nsteps; s++) {
    uint64_t pause = lnuma__ns_to_ticks(ck, p->delays_ns[s]);
    uint64_t bytes = 0, chunks = 0, paused = 0, w0 = 0;
    int64_t cpu0 = -1;
    int in = 0;
    size_t off = 0;
    traffic_out *o = &j->out[i];
    sampler_reset(&o->pauses);
    lnuma_team_sync(team);
    atomic_fetch_add_explicit(&j->running, 1, memory_order_release);
    for (;;) {
      if (!in && atomic_load_explicit(&j->window, memory_order_acquire)) {
        in = 1;
        cpu0 = lnuma_thread_cpu_ns();
        w0 = lnuma__kt_start(ck);
      }
      if (in && atomic_load_explicit(&j->stop, memory_order_acquire)) break;
      sum += j->fn(a + off, b + off, b + off, LNUMA_LOADED_CHUNK, 3.0);
      off += LNUMA_LOADED_CHUNK;
      if (off + LNUMA_LOADED_CHUNK > j->share) off = 0;
      if (pause) {
        uint64_t d0 = lnuma__spin_ticks(ck);
        uint64_t d1 = lnuma__spin_until(ck, d0, pause);
        if (in) {
          paused += d1 - d0;
          sample(&o->pauses, d1 - d0);
        }
      }
      if (in) bytes += chunk_bytes, chunks++;
    }
    uint64_t w1 = lnuma__kt_stop(ck);
    int64_t cpu1 = lnuma_thread_cpu_ns();
    o->bytes = bytes;
    o->chunks = chunks;
    o->ns = lnuma__kt_ns(ck, w1 - w0);
    o->paused_ns = lnuma__kt_ns(ck, paused);
    o->pause_p50_ns = lnuma__kt_ns(ck, quantile(&o->pauses, 0.50, 0));
    o->offcpu_ns = off_cpu(o->ns, cpu0, cpu1);
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

/* Checks what lnuma_loaded_measure is given; 0 or -1 with err. */
static int check_params(const lnuma_loaded_params *p, const lnuma_loaded_result *r,
                        lnuma_error *err) {
  if (p == NULL || r == NULL || r->steps == NULL)
    return lnuma__fail(err, EINVAL, "loaded latency: missing parameters or result steps");
  if (p->nsteps < 1 || p->nsteps > 1000000 || p->delays_ns == NULL)
    return lnuma__fail(err, EINVAL, "loaded latency: 1 to 1000000 steps with their delays, "
                       "not %d", p->nsteps);
  if (p->nthreads < 2 || p->nthreads > LNUMA_TEAM_MAX || p->cpus == NULL)
    return lnuma__fail(err, EINVAL,
                       "loaded latency: needs 2 to %d threads (a chaser and traffic), not %d",
                       LNUMA_TEAM_MAX, p->nthreads);
  if (lnuma_traffic_get(p->traffic) == NULL)
    return lnuma__fail(err, EINVAL, "loaded latency: no traffic type %d", p->traffic);
  if (lnuma_isa_name(p->isa) == NULL)
    return lnuma__fail(err, EINVAL, "loaded latency: no ISA %d", p->isa);
  if (!lnuma_isa_supported(p->isa))
    return lnuma__fail(err, ENOTSUP, "loaded latency: this CPU cannot run %s kernels",
                       lnuma_isa_name(p->isa));
  if (p->chase_mem == NULL)
    return lnuma__fail(err, EINVAL, "loaded latency: no chase memory");
  if (p->traffic_mem == NULL || ((uintptr_t)p->traffic_mem & 63) != 0)
    return lnuma__fail(err, EINVAL, "loaded latency: traffic memory must be 64-byte aligned");
  /* Traffic written over the chase would rewrite its links: the chaser
   * would then follow garbage pointers. */
  uintptr_t c0 = (uintptr_t)p->chase_mem, t0 = (uintptr_t)p->traffic_mem;
  if (c0 < t0 + p->traffic_size && t0 < c0 + p->chase_size)
    return lnuma__fail(err, EINVAL, "loaded latency: the chase and the traffic memory "
                                    "overlap (pass two separate buffers)");
  if (p->step_ns < 1000)
    return lnuma__fail(err, EINVAL, "loaded latency: step time of %llu ns is below 1 us",
                       (unsigned long long)p->step_ns);
  for (int s = 0; s < p->nsteps; s++)
    if (p->delays_ns[s] >= p->step_ns)
      return lnuma__fail(err, EINVAL, "loaded latency: delay of step %d (%llu ns) is not "
                         "below the step time (%llu ns)", s + 1,
                         (unsigned long long)p->delays_ns[s], (unsigned long long)p->step_ns);
  const lnuma_traffic_info *info = lnuma_traffic_get(p->traffic);
  if (lnuma__kshare(p->traffic_size, p->nthreads - 1, info->arrays) < LNUMA_LOADED_CHUNK)
    return lnuma__fail(err, EINVAL, "loaded latency: %zu bytes of traffic memory are too few "
                       "for %d threads of %s (each needs %d x %d bytes)", p->traffic_size,
                       p->nthreads - 1, info->name, info->arrays, LNUMA_LOADED_CHUNK);
  return 0;
}

int lnuma_loaded_measure(const lnuma_loaded_params *p, lnuma_loaded_result *r,
                         lnuma_error *err) {
  if (check_params(p, r, err) != 0) return -1;
  const lnuma_traffic_info *info = lnuma_traffic_get(p->traffic);
  int isa = p->isa == LNUMA_ISA_AUTO ? lnuma_isa_best() : p->isa;
  loaded_job j = {.p = p, .r = r, .arrays = info->arrays};
  j.share = lnuma__kshare(p->traffic_size, p->nthreads - 1, info->arrays);
  j.fn = lnuma__traffic_fn(p->traffic, isa);
  if (j.fn == NULL)
    return lnuma__fail(err, ENOTSUP, "loaded latency: no %s kernel for %s", info->name,
                       lnuma_isa_name(isa));
  atomic_init(&j.window, 0);
  atomic_init(&j.stop, 0);
  atomic_init(&j.running, 0);
  /* One block: the chase samples, then each traffic thread's pauses. */
  size_t nsamples = LNUMA_LOADED_SAMPLES + (size_t)p->nthreads * PAUSE_SAMPLES;
  j.out = calloc((size_t)p->nthreads, sizeof *j.out);
  uint64_t *samples = malloc(nsamples * sizeof *samples);
  if (j.out == NULL || samples == NULL) {
    free(j.out);
    free(samples);
    return lnuma__fail_sys(err, ENOMEM, "loaded latency");
  }
  j.chunks = (sampler){.v = samples, .cap = LNUMA_LOADED_SAMPLES};
  for (int k = 0; k < p->nthreads; k++)
    j.out[k].pauses = (sampler){.v = samples + LNUMA_LOADED_SAMPLES + (size_t)k * PAUSE_SAMPLES,
                                .cap = PAUSE_SAMPLES};
  int rc = lnuma_team_run(p->nthreads, p->cpus, loaded_thread, &j, r->threads, err);
  free(j.out);
  free(samples);
  if (rc != 0) return -1;
  if (j.rc != 0) {
    if (err != NULL) *err = j.err;
    errno = j.err.code;
    return -1;
  }
  r->isa = isa;
  r->chunk_bytes = (size_t)LNUMA_LOADED_CHUNK * (size_t)(info->reads + info->writes);
  return 0;
}
