/* chaser: an independent pointer chaser, the reference that lnuma's latency
 * figure is checked against (spec/bench/latency_agree.lua).  Standalone on
 * purpose: no lnuma code or header, its own mapping, shuffle, RNG and clock,
 * written from the patterns' description in README.md, not from lnuma's
 * kernels_chase.c.
 *
 *   chaser -m SIZE -p uniform|random [-P 4k|thp] [-c CPU] [-r REPS] [-t MS] [-s SEED]
 *
 * uniform: one random cycle through every 64-byte line of the buffer.
 * random:  the buffer in 4 KiB blocks of 32 128-byte pairs of lines; the cycle
 *          goes through the blocks twice, each time in a new random order,
 *          taking 32 loads in a block (one line of each pair, the pairs in
 *          random order) before it moves on; the second time round a block
 *          gives the other line of every pair.
 *
 * Prints one line of key=value pairs: median_ns is the median over the
 * repetitions (-r, default 101) of (time of one chain of loads lasting -t ms,
 * default 0.5) / (loads in the chain), timed with CLOCK_MONOTONIC_RAW; a
 * repetition during or right after which the thread was switched out is run
 * again (the machines this runs on are shared).  thp_bytes is read back
 * from /proc/self/smaps. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define LINE 64
#define BLOCK 4096
#define PAIRS (BLOCK / LINE / 2)
#define HUGE_2M ((size_t)2 << 20)
#define MAX_REPS 1000

static double dirty[MAX_REPS]; /* repetitions with a context switch */

/* ---- PCG32 (O'Neill's permuted congruential generator, XSH RR) ---------------- */

typedef struct {
  uint64_t state, inc;
} pcg32;

static uint32_t pcg_next(pcg32 *g) {
  uint64_t old = g->state;
  g->state = old * 6364136223846793005ULL + g->inc;
  uint32_t x = (uint32_t)(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = (uint32_t)(old >> 59u);
  return (x >> rot) | (x << ((32u - rot) & 31u));
}

static void pcg_seed(pcg32 *g, uint64_t seed) {
  g->state = 0;
  g->inc = (seed << 1u) | 1u;
  pcg_next(g);
  g->state += seed;
  pcg_next(g);
}

/* Uniform in [0, n), n <= 2^32, by rejection (no bias at all). */
static uint32_t pcg_below(pcg32 *g, uint32_t n) {
  uint32_t limit = (uint32_t)(-n) % n; /* 2^32 mod n */
  for (;;) {
    uint32_t r = pcg_next(g);
    if (r >= limit) return r % n;
  }
}

/* A random permutation of 0..n-1 (Durstenfeld's "inside-out" variant). */
static void random_permutation(uint32_t *v, uint32_t n, pcg32 *g) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t j = pcg_below(g, i + 1);
    v[i] = v[j];
    v[j] = i;
  }
}

/* ---- the chain ------------------------------------------------------------------ */

typedef struct {
  char *base;
  size_t first, prev, count;
} chain;

static void chain_add(chain *c, size_t line) {
  if (c->count == 0)
    c->first = line;
  else
    *(char **)(c->base + c->prev * LINE) = c->base + line * LINE;
  c->prev = line;
  c->count++;
}

static void chain_close(chain *c) {
  *(char **)(c->base + c->prev * LINE) = c->base + c->first * LINE;
}

static int build_uniform(chain *c, size_t lines, pcg32 *g) {
  uint32_t *perm = malloc(lines * sizeof *perm);
  if (perm == NULL) return -1;
  random_permutation(perm, (uint32_t)lines, g);
  for (size_t i = 0; i < lines; i++) chain_add(c, perm[i]);
  chain_close(c);
  free(perm);
  return 0;
}

static int build_random(chain *c, size_t blocks, pcg32 *g) {
  uint32_t *order = malloc(blocks * sizeof *order);
  uint32_t *side = malloc(blocks * sizeof *side); /* bit k: the line of pair k taken first */
  if (order == NULL || side == NULL) {
    free(order);
    free(side);
    return -1;
  }
  for (size_t b = 0; b < blocks; b++) side[b] = pcg_next(g);
  uint32_t pairs[PAIRS];
  for (uint32_t round = 0; round < 2; round++) {
    random_permutation(order, (uint32_t)blocks, g);
    for (size_t i = 0; i < blocks; i++) {
      size_t b = order[i];
      random_permutation(pairs, PAIRS, g);
      for (int k = 0; k < PAIRS; k++) {
        uint32_t pair = pairs[k];
        uint32_t which = ((side[b] >> pair) & 1u) ^ round;
        chain_add(c, b * (BLOCK / LINE) + 2 * pair + which);
      }
    }
  }
  chain_close(c);
  free(order);
  free(side);
  return 0;
}

/* ---- timing ------------------------------------------------------------------------ */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define LOAD p = *(void *const *)p;
#define LOAD10 LOAD LOAD LOAD LOAD LOAD LOAD LOAD LOAD LOAD LOAD

/* n dependent loads from p; returns where the chain stopped.  Unrolled 100
 * times, as lat_mem_rd is: not a multiple of the 32 loads of a "random"
 * visit, and more than one visit long.  Unrolled 32 or 64 times, each copy
 * of the load meets the same position of every visit, and a prefetcher that
 * learns per instruction helps: a 512 KiB random chase with THP measured
 * 3.61 ns unrolled 32 and 64 times, 3.74 to 3.82 ns unrolled 1, 4, 8, 16 or
 * 100 times; a 256 MiB one 105-110 ns unrolled 32, 64 or 96 times, 117 ns
 * unrolled 8 times and 125-129 ns unrolled 100, 101, 127, 200 or 255 times
 * (AMD EPYC Zen 5 VM, medians of interleaved runs). */
__attribute__((noinline)) static const void *walk(const void *p, uint64_t n) {
  for (; n >= 100; n -= 100) {
    LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10 LOAD10
  }
  for (; n > 0; n--) LOAD
  return p;
}

/* Context switches of this thread so far (voluntary and not). */
static long switches(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return -1;
  return ru.ru_nvcsw + ru.ru_nivcsw;
}

/* The fastest of `tries` timed chains of n loads (ns); *p moves along. */
static uint64_t fastest(const void **p, uint64_t n, int tries) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < tries; i++) {
    uint64_t t0 = now_ns();
    *p = walk(*p, n);
    uint64_t d = now_ns() - t0;
    if (d < best) best = d;
  }
  return best;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median cost of one clock_gettime (ns), from back-to-back readings. */
static double clock_overhead(void) {
  double d[201];
  for (int i = 0; i < 201; i++) {
    uint64_t a = now_ns(), b = now_ns();
    d[i] = (double)(b - a);
  }
  qsort(d, 201, sizeof d[0], cmp_double);
  return d[100];
}

/* Bytes of [addr, addr + len) backed by transparent huge pages (smaps). */
static long long thp_bytes(const void *addr, size_t len) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (f == NULL) return -1;
  char buf[512];
  unsigned long a = (unsigned long)(uintptr_t)addr;
  int inside = 0;
  long long total = 0;
  while (fgets(buf, sizeof buf, f) != NULL) {
    unsigned long s, e;
    long long kb;
    if (sscanf(buf, "%lx-%lx ", &s, &e) == 2) { /* a mapping's header line */
      inside = e > a && s < a + len;
    } else if (inside && sscanf(buf, "AnonHugePages: %lld kB", &kb) == 1) {
      total += kb * 1024;
    }
  }
  fclose(f);
  return total;
}

static size_t parse_size(const char *s) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s) return 0;
  switch (*end) {
  case 'k': case 'K': v <<= 10; end++; break;
  case 'm': case 'M': v <<= 20; end++; break;
  case 'g': case 'G': v <<= 30; end++; break;
  default: break;
  }
  return *end == '\0' ? (size_t)v : 0;
}

static void usage(void) {
  fprintf(stderr, "usage: chaser -m SIZE -p uniform|random [-P 4k|thp] [-c CPU] [-r REPS] "
                  "[-t MS per repetition] [-s SEED]\n");
  exit(2);
}

int main(int argc, char **argv) {
  size_t size = 0;
  const char *pattern = NULL, *page = "4k";
  int cpu = -1, reps = 101, opt;
  double min_ms = 0.5;
  uint64_t seed = 42;
  while ((opt = getopt(argc, argv, "m:p:P:c:r:t:s:")) != -1) {
    switch (opt) {
    case 'm': size = parse_size(optarg); break;
    case 'p': pattern = optarg; break;
    case 'P': page = optarg; break;
    case 'c': cpu = atoi(optarg); break;
    case 'r': reps = atoi(optarg); break;
    case 't': min_ms = atof(optarg); break;
    case 's': seed = strtoull(optarg, NULL, 0); break;
    default: usage();
    }
  }
  int uniform = pattern != NULL && strcmp(pattern, "uniform") == 0;
  int thp = strcmp(page, "thp") == 0;
  if (pattern == NULL || (!uniform && strcmp(pattern, "random") != 0) ||
      (!thp && strcmp(page, "4k") != 0) || reps < 1 || reps > MAX_REPS || min_ms <= 0)
    usage();
  if (size < 2 * BLOCK || size % BLOCK != 0 || size / LINE > UINT32_MAX) {
    fprintf(stderr, "chaser: size must be a multiple of 4 KiB, at least 8 KiB\n");
    return 2;
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      perror("chaser: sched_setaffinity");
      return 1;
    }
  }
  int cpu_start = sched_getcpu();
  /* The buffer starts on a 2 MiB boundary (over-map, then round up) and,
   * with THP, the advice covers whole 2 MiB pages, so that even a small
   * buffer lies in a huge page; the advice comes before the first touch. */
  size_t span = thp ? (size + HUGE_2M - 1) / HUGE_2M * HUGE_2M : size;
  size_t map_len = span + HUGE_2M;
  char *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    perror("chaser: mmap");
    return 1;
  }
  char *base = (char *)(((uintptr_t)map + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
  if (madvise(base, span, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0) {
    perror("chaser: madvise");
    return 1;
  }
  memset(base, 0, size); /* first touch, in address order, on the pinned CPU */

  pcg32 g;
  pcg_seed(&g, seed);
  chain c = {.base = base};
  int rc = uniform ? build_uniform(&c, size / LINE, &g) : build_random(&c, size / BLOCK, &g);
  if (rc != 0) {
    fprintf(stderr, "chaser: out of memory building the chain\n");
    return 1;
  }
  const void *p = base + c.first * LINE;

  /* Warm-up: once round the cycle (at most 2^22 loads).  Then the chain
   * length: the time per load is that of the fastest of a few chains (one
   * that was disturbed would make every repetition shorter than asked),
   * their length doubled until the fastest lasts a quarter of -t. */
  p = walk(p, c.count < ((size_t)1 << 22) ? c.count : ((size_t)1 << 22));
  uint64_t n = 1024, t;
  for (;; n *= 2) {
    t = fastest(&p, n, 3);
    if (t >= (uint64_t)(min_ms * 250000) || n >= ((uint64_t)1 << 40)) break;
  }
  uint64_t again = fastest(&p, n, 9);
  if (again < t) t = again;
  n = (uint64_t)((double)n * min_ms * 1e6 / (double)(t ? t : 1));
  if (n < 1024) n = 1024;

  /* A repetition during which this thread was switched out (another task
   * ran on its CPU) timed that task too, and the one after it starts with
   * caches the other task emptied: both are run again (up to 50 times the
   * repetitions asked for; past that the switched ones count as well). */
  double ns[MAX_REPS] = {0};
  int clean = 0, switched = 0;
  long sw_prev = switches();
  for (int attempt = 0; clean < reps && attempt < 50 * reps; attempt++) {
    long sw0 = switches();
    uint64_t t0 = now_ns();
    p = walk(p, n);
    double v = (double)(now_ns() - t0) / (double)n;
    long sw1 = switches();
    if (sw1 == sw0 && sw0 == sw_prev)
      ns[clean++] = v;
    else if (switched++ < MAX_REPS)
      dirty[switched - 1] = v;
    sw_prev = sw1;
  }
  int used = clean;
  for (int i = 0; used < reps && i < switched && i < MAX_REPS; i++) ns[used++] = dirty[i];
  int cpu_end = sched_getcpu();
  double over = clock_overhead();
  qsort(ns, (size_t)used, sizeof ns[0], cmp_double);
  double median = used % 2 ? ns[used / 2] : (ns[used / 2 - 1] + ns[used / 2]) / 2;
  long long huge = thp_bytes(base, size);
  if (huge > (long long)size) huge = (long long)size; /* the huge page holding a small buffer */
  printf("chaser pattern=%s size=%zu page=%s thp_bytes=%lld seed=%llu cpu=%d cpu_start=%d "
         "cpu_end=%d loads_per_cycle=%zu loads_per_rep=%llu reps=%d clean=%d switched=%d "
         "median_ns=%.4f min_ns=%.4f max_ns=%.4f spread=%.4f clock=CLOCK_MONOTONIC_RAW "
         "clock_overhead_ns=%.1f end=%p\n",
         uniform ? "uniform" : "random", size, thp ? "thp" : "4k", huge,
         (unsigned long long)seed, cpu, cpu_start, cpu_end, c.count, (unsigned long long)n,
         used, clean, switched, median, ns[0], ns[used - 1], (ns[used - 1] - ns[0]) / median,
         over, p);
  munmap(map, map_len);
  return 0;
}
