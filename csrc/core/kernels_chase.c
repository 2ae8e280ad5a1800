/* The pointer chase: a cycle of dependent loads through the slots (cache
 * lines) of a buffer, ordered so that hardware prefetchers cannot guess the
 * next address, and the latency measurement built on it. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kernels_internal.h"

#define BLOCK LNUMA_CHASE_BLOCK

static const char *const pattern_names[LNUMA_CHASE_COUNT] = {"random", "uniform",
                                                             "sequential", "stride"};

const char *lnuma_chase_pattern_name(int pattern) {
  return pattern >= 0 && pattern < LNUMA_CHASE_COUNT ? pattern_names[pattern] : NULL;
}

int lnuma_chase_pattern_from_name(const char *name) {
  for (int i = 0; name != NULL && i < LNUMA_CHASE_COUNT; i++)
    if (strcmp(pattern_names[i], name) == 0) return i;
  return -1;
}

/* splitmix64: small, fast, and good enough to shuffle. */
static uint64_t rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32). */
static size_t rng_below(uint64_t *state, size_t n) {
  return (size_t)(((unsigned __int128)rng_next(state) * n) >> 64);
}

static void shuffle32(uint32_t *v, size_t n, uint64_t *state) {
  for (size_t i = n; i > 1; i--) {
    size_t j = rng_below(state, i);
    uint32_t t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}

typedef struct linker {
  char *mem;
  size_t line;
  size_t first, prev, count;
} linker;

/* Appends slot k to the cycle being built. */
static void link_slot(linker *l, size_t k) {
  if (l->count == 0)
    l->first = k;
  else
    *(void **)(l->mem + l->prev * l->line) = l->mem + k * l->line;
  l->prev = k;
  l->count++;
}

static size_t link_close(linker *l) {
  *(void **)(l->mem + l->prev * l->line) = l->mem + l->first * l->line;
  return l->count;
}

/* Sattolo's algorithm in place: each slot first holds its own index, then
 * swaps make the successor function one cycle through all n slots. */
static size_t init_uniform(char *mem, size_t n, size_t line, uint64_t *state) {
  for (size_t k = 0; k < n; k++) *(uintptr_t *)(mem + k * line) = k;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = rng_below(state, i); /* j < i: Sattolo, not Fisher-Yates */
    uintptr_t *a = (uintptr_t *)(mem + i * line), *b = (uintptr_t *)(mem + j * line);
    uintptr_t t = *a;
    *a = *b;
    *b = t;
  }
  for (size_t k = 0; k < n; k++) {
    uintptr_t next = *(uintptr_t *)(mem + k * line);
    *(void **)(mem + k * line) = mem + next * line;
  }
  return n;
}

/* Which line of 128-byte pair k of block b the first visit takes. */
static unsigned pair_bit(uint64_t seed, size_t b, size_t k) {
  uint64_t s = seed ^ ((uint64_t)b * 0x9e3779b97f4a7c15u) ^ ((uint64_t)k << 48);
  return (unsigned)(rng_next(&s) & 1);
}

static size_t init_random(char *mem, size_t nslots, size_t line, uint64_t seed,
                          lnuma_error *err) {
  size_t per_block = BLOCK / line, pairs = per_block / 2;
  size_t nblocks = nslots / per_block;
  uint64_t state = seed;
  if (per_block < 4 || nblocks < 2) return init_uniform(mem, nslots, line, &state);
  if (nblocks > UINT32_MAX) {
    lnuma__fail(err, EINVAL, "chase: %zu blocks are too many", nblocks);
    return 0;
  }
  uint32_t *order = malloc(nblocks * sizeof *order);
  uint32_t *lines = malloc(pairs * sizeof *lines);
  if (order == NULL || lines == NULL) {
    free(order);
    free(lines);
    lnuma__fail_sys(err, ENOMEM, "chase");
    return 0;
  }
  linker l = {.mem = mem, .line = line};
  for (unsigned visit = 0; visit < 2; visit++) {
    for (size_t b = 0; b < nblocks; b++) order[b] = (uint32_t)b;
    shuffle32(order, nblocks, &state);
    for (size_t i = 0; i < nblocks; i++) {
      size_t b = order[i];
      for (size_t k = 0; k < pairs; k++)
        lines[k] = (uint32_t)(2 * k + (pair_bit(seed, b, k) ^ visit));
      shuffle32(lines, pairs, &state);
      for (size_t k = 0; k < pairs; k++) link_slot(&l, b * per_block + lines[k]);
    }
  }
  free(order);
  free(lines);
  return link_close(&l);
}

size_t lnuma_chase_init(void *mem, size_t size, const lnuma_chase_params *p,
                        lnuma_error *err) {
  size_t line = p != NULL && p->line != 0 ? p->line : 64;
  int pattern = p != NULL ? p->pattern : LNUMA_CHASE_RANDOM;
  uint64_t seed = p != NULL ? p->seed : 0;
  if (line < sizeof(void *) || (line & (line - 1)) != 0) {
    lnuma__fail(err, EINVAL, "chase: line %zu is not a power of two >= %zu", line,
                sizeof(void *));
    return 0;
  }
  if (mem == NULL || ((uintptr_t)mem % sizeof(void *)) != 0) {
    lnuma__fail(err, EINVAL, "chase: the memory is missing or misaligned");
    return 0;
  }
  size_t nslots = size / line;
  if (nslots < 2) {
    lnuma__fail(err, EINVAL, "chase: %zu bytes hold fewer than two %zu-byte slots", size,
                line);
    return 0;
  }
  char *m = mem;
  linker l = {.mem = m, .line = line};
  switch (pattern) {
  case LNUMA_CHASE_RANDOM:
    return init_random(m, nslots, line, seed, err);
  case LNUMA_CHASE_UNIFORM: {
    uint64_t state = seed;
    return init_uniform(m, nslots, line, &state);
  }
  case LNUMA_CHASE_SEQUENTIAL:
    for (size_t k = 0; k < nslots; k++) link_slot(&l, k);
    return link_close(&l);
  case LNUMA_CHASE_STRIDE: {
    size_t stride = p->stride;
    if (stride < line || stride % line != 0 || stride / line >= nslots) {
      lnuma__fail(err, EINVAL,
                  "chase: stride %zu must be a multiple of the line (%zu) and smaller "
                  "than the buffer",
                  stride, line);
      return 0;
    }
    size_t s = stride / line;
    for (size_t r = 0; r < s; r++)
      for (size_t k = r; k < nslots; k += s) link_slot(&l, k);
    return link_close(&l);
  }
  default:
    lnuma__fail(err, EINVAL, "chase: no pattern %d", pattern);
    return 0;
  }
}

size_t lnuma_chase_walk(const void *mem, size_t size, size_t line, size_t *order, size_t cap,
                        lnuma_error *err) {
  if (line == 0) line = 64;
  size_t nslots = line >= sizeof(void *) ? size / line : 0;
  if (mem == NULL || nslots < 2) {
    lnuma__fail(err, EINVAL, "chase walk: no chase of %zu-byte slots in %zu bytes", line,
                size);
    return 0;
  }
  unsigned char *seen = calloc(nslots / 8 + 1, 1);
  if (seen == NULL) {
    lnuma__fail_sys(err, ENOMEM, "chase walk");
    return 0;
  }
  const char *base = mem, *cur = mem;
  size_t count = 0;
  do {
    uintptr_t off = (uintptr_t)cur - (uintptr_t)base;
    if ((uintptr_t)cur < (uintptr_t)base || off >= nslots * line || off % line != 0) {
      free(seen);
      lnuma__fail(err, EINVAL, "chase walk: step %zu points outside the slots (offset %td)",
                  count, (ptrdiff_t)((uintptr_t)cur - (uintptr_t)base));
      return 0;
    }
    size_t k = off / line;
    if (seen[k / 8] & (1u << (k % 8))) {
      free(seen);
      lnuma__fail(err, EINVAL, "chase walk: slot %zu visited twice before the cycle closed",
                  k);
      return 0;
    }
    seen[k / 8] |= (unsigned char)(1u << (k % 8));
    if (order != NULL && count < cap) order[count] = k;
    count++;
    cur = *(const char *const *)cur;
  } while (cur != base);
  free(seen);
  return count;
}

/* The loop is unrolled 101 times: a prefetcher that learns per load
 * instruction helps when each copy of the load meets the same few positions
 * of every visit to a block of the random pattern (unrolled 8 times or a
 * multiple of 32, the figure came out 8 to 15% lower than unrolled 100, 101
 * or 200 times, as lat_mem_rd and multichase are, in a 256 MiB random chase
 * on an AMD EPYC Zen 5 VM); 101 is odd, so every copy meets every position
 * whatever the line size. */
#define LOAD p = *(void **)p;
#define LOAD10 LOAD LOAD LOAD LOAD LOAD LOAD LOAD LOAD LOAD LOAD
#define UNROLL 101

void lnuma_chase_run(void **pos, uint64_t n) {
  void *p = *pos;
  for (; n >= UNROLL; n -= UNROLL) {
    LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD
  }
  for (; n > 0; n--) LOAD
  *pos = p;
}

/* ---- latency measurement ------------------------------------------------------ */

typedef struct lat_job {
  const lnuma_latency_params *p;
  lnuma_latency_result *r;
  int rc;
  lnuma_error err;
} lat_job;

/* Calibration runs: each size is timed a few times and the fastest kept,
 * growing until the fastest lasts CAL_NS. */
#define CAL_NS 250000
#define CAL_TRIES 3
#define CAL_MORE 6

static uint64_t timed_run(const lnuma_clock *clock, void **pos, uint64_t n) {
  uint64_t t0 = lnuma__kt_start(clock);
  lnuma_chase_run(pos, n);
  return lnuma__kt_since(clock, t0);
}

/* Loads per chunk such that chunks of them last min_time_ns altogether.  The
 * time per load is that of the fastest of several short runs: a run during
 * which the thread was switched out or disturbed (a shared machine) would
 * make the chunks shorter, and the median of short chunks filters more
 * disturbances than that of long ones, so the figure would depend on the
 * luck of the calibration (and differ from another chaser's). */
static uint64_t calibrate(const lnuma_clock *clock, void **pos, uint64_t min_time_ns,
                          int chunks) {
  uint64_t n = 256, t;
  for (;;) {
    t = UINT64_MAX;
    for (int i = 0; i < CAL_TRIES; i++) {
      uint64_t u = timed_run(clock, pos, n);
      if (u < t) t = u;
    }
    if (t >= CAL_NS || n >= ((uint64_t)1 << 32)) break;
    n *= 2;
  }
  for (int i = 0; i < CAL_MORE; i++) {
    uint64_t u = timed_run(clock, pos, n);
    if (u < t) t = u;
  }
  double per_load = (double)(t ? t : 1) / (double)n;
  double loads = (double)min_time_ns / per_load / (double)chunks;
  return loads < 64 ? 64 : (uint64_t)loads;
}

/* Times this thread was switched out so far (voluntarily or not); -1 when
 * the kernel does not say. */
static long thread_switches(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return -1;
  return ru.ru_nvcsw + ru.ru_nivcsw;
}

static void lat_thread(lnuma_team *team, int i, void *arg) {
  (void)team, (void)i;
  lat_job *j = arg;
  const lnuma_latency_params *p = j->p;
  lnuma_latency_result *r = j->r;
  r->slots = lnuma_chase_init(p->mem, p->size, &p->chase, &j->err);
  if (r->slots == 0) {
    j->rc = -1;
    return;
  }
  void *pos = p->mem;
  /* Warm-up: once around (small buffers then sit in their cache level), but
   * never more than a million loads. */
  lnuma_chase_run(&pos, r->slots < 1000000 ? r->slots : 1000000);
  uint64_t chunk = calibrate(p->clock, &pos, p->min_time_ns, p->chunks);
  r->chunk_loads = chunk;
  /* Each chunk is timed on its own, and the context switches of the thread
   * are counted between chunks (outside the timed regions): a chunk during
   * which another task ran timed that task too, and the caller leaves it out
   * of the medians; left in, such chunks (a fifth of them on a busy
   * machine) moved the median of a DRAM chase up by 2-3%. */
  long sw = thread_switches();
  for (int rep = 0; rep < p->repetitions; rep++) {
    uint64_t sum = 0;
    for (int c = 0; c < p->chunks; c++) {
      size_t k = (size_t)rep * (size_t)p->chunks + (size_t)c;
      uint64_t t0 = lnuma__kt_start(p->clock);
      lnuma_chase_run(&pos, chunk);
      uint64_t t = lnuma__kt_stop(p->clock);
      long sw1 = thread_switches();
      r->chunk_ns[k] = lnuma__kt_ns(p->clock, t - t0);
      if (r->chunk_switched != NULL) r->chunk_switched[k] = sw1 != sw || sw1 < 0;
      sw = sw1;
      sum += r->chunk_ns[k];
    }
    r->rep_ns[rep] = sum;
  }
  /* pos is the end of the chase: keep the loads observable. */
  __asm__ volatile("" : : "r"(pos) : "memory");
}

int lnuma_latency_measure(const lnuma_latency_params *p, lnuma_latency_result *r,
                          lnuma_error *err) {
  if (p == NULL || r == NULL || r->rep_ns == NULL || r->chunk_ns == NULL)
    return lnuma__fail(err, EINVAL, "latency: missing parameters or result arrays");
  if (p->repetitions < 1 || p->chunks < 1)
    return lnuma__fail(err, EINVAL, "latency: at least one repetition and one chunk");
  lat_job j = {.p = p, .r = r};
  if (lnuma_team_run(1, &p->cpu, lat_thread, &j, &r->thread, err) != 0) return -1;
  if (j.rc != 0) {
    if (err != NULL) *err = j.err;
    errno = j.err.code;
    return -1;
  }
  return 0;
}
