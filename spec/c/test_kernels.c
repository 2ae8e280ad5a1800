/* C tests of the benchmark kernels: the chase is one cycle through every
 * slot, each kernel computes and counts what it should with every ISA this
 * CPU has, team threads run where they were pinned (the c2c kernel:
 * test_c2c.c). */
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

/* ---- chase ------------------------------------------------------------------- */

static void check_cycle(size_t size, int pattern, size_t line, size_t stride,
                        size_t expect_slots) {
  char *mem = aligned(size);
  lnuma_chase_params p = {.line = line, .pattern = pattern, .stride = stride, .seed = 42};
  lnuma_error err;
  size_t slots = lnuma_chase_init(mem, size, &p, &err);
  assert_int_equal(slots, expect_slots);
  size_t *order = calloc(slots, sizeof *order);
  assert_int_equal(lnuma_chase_walk(mem, size, line, order, slots, &err), slots);
  /* once per cycle: every slot index appears exactly once */
  unsigned char *seen = calloc(size / line, 1);
  for (size_t i = 0; i < slots; i++) {
    assert_true(order[i] < size / line);
    assert_int_equal(seen[order[i]], 0);
    seen[order[i]] = 1;
  }
  free(seen);
  free(order);
  free(mem);
}

static void chase_visits_every_slot_once_per_cycle(void **state) {
  (void)state;
  check_cycle(1 << 20, LNUMA_CHASE_RANDOM, 64, 0, (1 << 20) / 64);
  check_cycle(1 << 20, LNUMA_CHASE_UNIFORM, 64, 0, (1 << 20) / 64);
  check_cycle(1 << 16, LNUMA_CHASE_SEQUENTIAL, 64, 0, (1 << 16) / 64);
  check_cycle(1 << 16, LNUMA_CHASE_STRIDE, 64, 4096 + 64 * 3, (1 << 16) / 64);
  check_cycle(1 << 16, LNUMA_CHASE_UNIFORM, 128, 0, (1 << 16) / 128);
  /* random uses whole 4 KiB blocks; a single block falls back to uniform */
  check_cycle(3 * 4096 + 100, LNUMA_CHASE_RANDOM, 64, 0, 3 * 64);
  check_cycle(4096, LNUMA_CHASE_RANDOM, 64, 0, 64);
}

static void random_chase_splits_line_pairs_across_visits(void **state) {
  (void)state;
  size_t size = 256 * 4096, slots = size / 64;
  char *mem = aligned(size);
  lnuma_chase_params p = {.pattern = LNUMA_CHASE_RANDOM, .seed = 7};
  assert_int_equal(lnuma_chase_init(mem, size, &p, NULL), slots);
  size_t *order = calloc(slots, sizeof *order);
  assert_int_equal(lnuma_chase_walk(mem, size, 64, order, slots, NULL), slots);
  /* The walk starts at slot 0, somewhere inside a visit: find where visits
   * (runs of 32 loads in one 4 KiB block) begin. */
  size_t o = 0;
  for (; o < 32; o++) {
    int ok = 1;
    for (size_t i = 0; i < slots && ok; i += 32)
      for (size_t k = 1; k < 32 && ok; k++)
        ok = order[(o + i + k) % slots] / 64 == order[(o + i) % slots] / 64;
    if (ok) break;
  }
  assert_true(o < 32);
  /* The buddy line of a 128-byte pair is never fetched in the same visit, so
   * the adjacent-line prefetcher never helps. */
  size_t *visit = calloc(slots, sizeof *visit);
  for (size_t i = 0; i < slots; i++) visit[order[(o + i) % slots]] = i / 32;
  for (size_t k = 0; k < slots; k += 2) assert_true(visit[k] != visit[k + 1]);
  size_t *pos = visit;
  free(pos);
  free(order);
  free(mem);
}

static void chase_is_reproducible_from_its_seed(void **state) {
  (void)state;
  size_t size = 1 << 16, slots = size / 64;
  char *a = aligned(size), *b = aligned(size);
  lnuma_chase_params p = {.pattern = LNUMA_CHASE_UNIFORM, .seed = 99};
  lnuma_chase_init(a, size, &p, NULL);
  lnuma_chase_init(b, size, &p, NULL);
  size_t *oa = calloc(slots, sizeof *oa), *ob = calloc(slots, sizeof *ob);
  lnuma_chase_walk(a, size, 64, oa, slots, NULL);
  lnuma_chase_walk(b, size, 64, ob, slots, NULL);
  assert_memory_equal(oa, ob, slots * sizeof *oa);
  free(oa), free(ob), free(a), free(b);
}

static void walk_rejects_a_broken_chase(void **state) {
  (void)state;
  size_t size = 1 << 14;
  char *mem = aligned(size);
  lnuma_chase_params p = {.pattern = LNUMA_CHASE_SEQUENTIAL};
  lnuma_chase_init(mem, size, &p, NULL);
  lnuma_error err;
  *(void **)(mem + 64 * 10) = mem + 64 * 5; /* a loop that misses slot 0 */
  assert_int_equal(lnuma_chase_walk(mem, size, 64, NULL, 0, &err), 0);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "twice"));
  *(void **)(mem + 64 * 10) = mem + size + 64; /* outside */
  assert_int_equal(lnuma_chase_walk(mem, size, 64, NULL, 0, &err), 0);
  assert_non_null(strstr(err.msg, "outside"));
  free(mem);
}

static void chase_rejects_bad_layouts(void **state) {
  (void)state;
  char *mem = aligned(8192);
  lnuma_error err;
  lnuma_chase_params p = {.line = 48};
  assert_int_equal(lnuma_chase_init(mem, 8192, &p, &err), 0);
  assert_int_equal(err.code, EINVAL);
  p.line = 64;
  assert_int_equal(lnuma_chase_init(mem, 64, &p, &err), 0);
  p.pattern = LNUMA_CHASE_STRIDE;
  p.stride = 100;
  assert_int_equal(lnuma_chase_init(mem, 8192, &p, &err), 0);
  assert_non_null(strstr(err.msg, "stride"));
  assert_int_equal(lnuma_chase_pattern_from_name("uniform"), LNUMA_CHASE_UNIFORM);
  assert_int_equal(lnuma_chase_pattern_from_name("nope"), -1);
  free(mem);
}

/* ---- bandwidth kernels ------------------------------------------------------- */

/* Every ISA in every walk order computes the same thing, on arrays that are
 * a multiple of the granule but not of the 16 KiB PAGES group (its tail). */
static void kernels_compute_the_right_thing_with_every_isa(void **state) {
  (void)state;
  size_t bytes = 64 * 1024 + 3 * LNUMA_KERNEL_GRANULE, n = bytes / 8;
  double *a = aligned(bytes), *b = aligned(bytes), *c = aligned(bytes);
  for (int isa = LNUMA_ISA_AUTO; isa < LNUMA_ISA_COUNT; isa++) {
    if (!lnuma_isa_supported(isa)) continue;
    for (int order = LNUMA_ORDER_AUTO; order < LNUMA_ORDER_COUNT; order++) {
      lnuma__kfn fn[LNUMA_KERNEL_COUNT];
      for (int k = 0; k < LNUMA_KERNEL_COUNT; k++) {
        fn[k] = lnuma__kernel_fn_order(k, isa, order);
        assert_non_null(fn[k]);
      }
      uint64_t *u = (uint64_t *)a;
      for (size_t i = 0; i < n; i++) u[i] = i;
      assert_int_equal(fn[LNUMA_KERNEL_READ](a, NULL, NULL, bytes, 0), (uint64_t)n * (n - 1) / 2);
      for (int k = LNUMA_KERNEL_WRITE; k <= LNUMA_KERNEL_WRITE_NT; k++) {
        memset(a, 0, bytes);
        fn[k](a, NULL, NULL, bytes, 2.5);
        for (size_t i = 0; i < n; i++) assert_true(a[i] == 2.5);
      }
      for (int k = LNUMA_KERNEL_COPY; k <= LNUMA_KERNEL_COPY_NT; k++) {
        memset(a, 0, bytes);
        for (size_t i = 0; i < n; i++) b[i] = (double)i;
        fn[k](a, b, NULL, bytes, 0);
        assert_memory_equal(a, b, bytes);
      }
      for (size_t i = 0; i < n; i++) b[i] = (double)i, c[i] = 2.0;
      fn[LNUMA_KERNEL_TRIAD](a, b, c, bytes, 3.0);
      for (size_t i = 0; i < n; i++) assert_true(a[i] == (double)i + 6.0);
    }
    assert_null(lnuma__kernel_fn_order(LNUMA_KERNEL_READ, isa, LNUMA_ORDER_COUNT));
  }
  free(a), free(b), free(c);
}

static void walk_orders_have_names_and_a_choice_per_kernel(void **state) {
  (void)state;
  const char *names[] = {"auto", "linear", "split", "pages"};
  for (int o = 0; o < LNUMA_ORDER_COUNT; o++) {
    assert_string_equal(lnuma_order_name(o), names[o]);
    assert_int_equal(lnuma_order_from_name(names[o]), o);
  }
  assert_null(lnuma_order_name(LNUMA_ORDER_COUNT));
  assert_int_equal(lnuma_order_from_name("zigzag"), -1);
  for (int k = 0; k < LNUMA_KERNEL_COUNT; k++) {
    int o = lnuma_order_best(k);
    assert_true(o > LNUMA_ORDER_AUTO && o < LNUMA_ORDER_COUNT);
  }
}

static void kernel_names_round_trip(void **state) {
  (void)state;
  const char *names[] = {"read", "write", "write_nt", "copy", "copy_nt", "triad"};
  const int arrays[] = {1, 1, 1, 2, 2, 3};
  for (int k = 0; k < LNUMA_KERNEL_COUNT; k++) {
    assert_string_equal(lnuma_kernel_name(k), names[k]);
    assert_int_equal(lnuma_kernel_from_name(names[k]), k);
    assert_int_equal(lnuma_kernel_arrays(k), arrays[k]);
  }
  assert_null(lnuma_kernel_name(LNUMA_KERNEL_COUNT));
  assert_int_equal(lnuma_isa_from_name("avx512"), LNUMA_ISA_AVX512);
  assert_true(lnuma_isa_supported(lnuma_isa_best()));
}

static void bandwidth_counts_stream_bytes_per_kernel(void **state) {
  (void)state;
  int cpus[2];
  int n = allowed_cpus(cpus, 2);
  size_t size = 3 * 1000 * 1000; /* not a multiple of anything */
  char *mem = aligned(size);
  for (int k = 0; k < LNUMA_KERNEL_COUNT; k++) {
    uint64_t rep_ns[3 * 2];
    lnuma_team_thread th[2];
    lnuma_bw_params p = {.kernel = k, .mem = mem, .size = size, .nthreads = n,
                         .cpus = cpus, .repetitions = 3, .min_time_ns = 1000000,
                         .first_touch = 1, .scalar = 3.0};
    lnuma_bw_result r = {.rep_ns = rep_ns, .threads = th};
    lnuma_error err;
    assert_int_equal(lnuma_bw_measure(&p, &r, &err), 0);
    int arrays = lnuma_kernel_arrays(k);
    /* Whole pages from 16 KiB an array, so every array starts on a page. */
    size_t share = size / (size_t)n / (size_t)arrays;
    share -= share % (share >= 16384 ? 4096 : LNUMA_KERNEL_GRANULE);
    assert_int_equal(r.thread_bytes, share * (size_t)arrays);
    assert_int_equal(r.bytes, share * (size_t)arrays * (size_t)n * r.passes);
    assert_true(r.passes >= 1);
    for (int i = 0; i < 3 * n; i++) assert_true(rep_ns[i] > 0);
    for (int t = 0; t < n; t++) assert_int_equal(th[t].cpu_asked, cpus[t]);
  }
  free(mem);
}

/* Writes with one thread from mem, size bytes, and returns what it counted. */
static size_t write_once(char *mem, size_t size) {
  int cpu = 0;
  allowed_cpus(&cpu, 1);
  uint64_t rep_ns[1];
  lnuma_team_thread th[1];
  lnuma_bw_params p = {.kernel = LNUMA_KERNEL_WRITE, .mem = mem, .size = size, .nthreads = 1,
                       .cpus = &cpu, .repetitions = 1, .min_time_ns = 1000, .scalar = 2.5,
                       .order = LNUMA_ORDER_PAGES};
  lnuma_bw_result r = {.rep_ns = rep_ns, .threads = th};
  lnuma_error err;
  assert_int_equal(lnuma_bw_measure(&p, &r, &err), 0);
  return r.thread_bytes;
}

static void bandwidth_off_a_page_starts_at_the_first_page(void **state) {
  (void)state;
  char *page = aligned(3 * 65536), *mem = page + 64;
  double *d = (double *)page;
  size_t counted = write_once(mem, 2 * 65536 + 4032 + 1000);
  assert_int_equal(counted, 2 * 65536); /* less the 4032 bytes, in whole pages */
  assert_true(d[4096 / 8 - 1] == 0.0);  /* the 4032 bytes before the page: untouched */
  assert_true(d[4096 / 8] == 2.5);
  assert_true(d[(4096 + counted) / 8 - 1] == 2.5);
  assert_true(d[(4096 + counted) / 8] == 0.0);
  /* Too small for a pages group after the skip: from mem. */
  memset(page, 0, 3 * 65536);
  counted = write_once(mem, 16384 + 1000);
  assert_int_equal(counted, 16384);
  assert_true(d[64 / 8 - 1] == 0.0 && d[64 / 8] == 2.5);
  free(page);
}

static void bandwidth_rejects_too_little_memory(void **state) {
  (void)state;
  int cpu = 0;
  char *mem = aligned(4096);
  uint64_t rep_ns[1];
  lnuma_bw_params p = {.kernel = LNUMA_KERNEL_TRIAD, .mem = mem, .size = 1024,
                       .nthreads = 1, .cpus = &cpu, .repetitions = 1};
  lnuma_bw_result r = {.rep_ns = rep_ns};
  lnuma_error err;
  assert_int_equal(lnuma_bw_measure(&p, &r, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "too few"));
  free(mem);
}

/* ---- team ----------------------------------------------------------------------- */

typedef struct seen_cpu {
  int cpu[64];
} seen_cpu;

static void record_cpu(lnuma_team *team, int i, void *arg) {
  seen_cpu *s = arg;
  lnuma_team_sync(team);
  lnuma_current(&s->cpu[i], NULL, NULL);
  assert_true(lnuma_team_size(team) > i);
}

static void team_threads_run_on_the_cpus_asked(void **state) {
  (void)state;
  int cpus[64];
  int n = allowed_cpus(cpus, 64);
  seen_cpu s;
  lnuma_team_thread th[64];
  lnuma_error err;
  /* twice round the allowed CPUs, in reverse order */
  int asked[64], m = 0;
  for (int k = 0; k < 2 && m < 64; k++)
    for (int i = n - 1; i >= 0 && m < 64; i--) asked[m++] = cpus[i];
  assert_int_equal(lnuma_team_run(m, asked, record_cpu, &s, th, &err), 0);
  for (int i = 0; i < m; i++) {
    assert_int_equal(s.cpu[i], asked[i]);
    assert_int_equal(th[i].cpu_start, asked[i]);
    assert_int_equal(th[i].cpu_end, asked[i]);
    assert_int_equal(th[i].migrated, 0);
    assert_int_equal(th[i].node, lnuma_cpu_node(asked[i]));
  }
}

static void never_called(lnuma_team *team, int i, void *arg) {
  (void)team, (void)i, (void)arg;
  fail_msg("a team with an unpinnable thread ran its work");
}

static void team_with_a_missing_cpu_runs_nothing(void **state) {
  (void)state;
  int cpus[2] = {0, 8000};
  lnuma_error err;
  assert_int_equal(lnuma_team_run(2, cpus, never_called, NULL, NULL, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "8000"));
  assert_int_equal(lnuma_team_run(0, cpus, never_called, NULL, NULL, &err), -1);
}

/* ---- latency, loaded latency, c2c ------------------------------------------------- */

static void latency_measures_ns_per_load(void **state) {
  (void)state;
  int cpu;
  allowed_cpus(&cpu, 1);
  size_t size = 256 * 1024;
  char *mem = aligned(size);
  uint64_t rep_ns[3], chunk_ns[3 * 4];
  lnuma_clock clock;
  assert_int_equal(lnuma_clock_init(&clock, LNUMA_CLOCK_AUTO, NULL), 0);
  lnuma_latency_params p = {.mem = mem, .size = size, .cpu = cpu, .repetitions = 3,
                            .min_time_ns = 2000000, .chunks = 4, .clock = &clock};
  lnuma_latency_result r = {.rep_ns = rep_ns, .chunk_ns = chunk_ns};
  lnuma_error err;
  assert_int_equal(lnuma_latency_measure(&p, &r, &err), 0);
  assert_int_equal(r.slots, size / 64);
  assert_int_equal(r.thread.cpu_start, cpu);
  for (int i = 0; i < 3; i++) {
    double ns = (double)rep_ns[i] / (double)(4 * r.chunk_loads);
    assert_true(ns > 0.05 && ns < 10000);
    uint64_t sum = 0;
    for (int c = 0; c < 4; c++) sum += chunk_ns[i * 4 + c];
    assert_int_equal(sum, rep_ns[i]);
  }
  assert_int_equal(lnuma_chase_walk(mem, size, 64, NULL, 0, NULL), size / 64);
  free(mem);
}

/* A loaded-latency run over small buffers (freed by the caller). */
typedef struct loaded_fixture {
  int cpus[2];
  char *chase, *traffic;
  uint64_t delays[3];
  lnuma_loaded_step steps[3];
  lnuma_team_thread threads[2];
  lnuma_loaded_params p;
  lnuma_loaded_result r;
} loaded_fixture;

static void loaded_setup(loaded_fixture *f) {
  memset(f, 0, sizeof *f);
  if (allowed_cpus(f->cpus, 2) < 2) f->cpus[1] = f->cpus[0];
  f->chase = aligned(1 << 20);
  f->traffic = aligned(1 << 20);
  f->delays[0] = 0, f->delays[1] = 500, f->delays[2] = 10000;
  f->p = (lnuma_loaded_params){.chase_mem = f->chase, .chase_size = 1 << 20,
                               .traffic_mem = f->traffic, .traffic_size = 1 << 20,
                               .nthreads = 2, .cpus = f->cpus,
                               .traffic = LNUMA_TRAFFIC_READ, .isa = LNUMA_ISA_AUTO,
                               .nsteps = 3, .delays_ns = f->delays, .step_ns = 2000000};
  f->r = (lnuma_loaded_result){.steps = f->steps, .threads = f->threads};
}

static void expect_loaded_error(loaded_fixture *f, int code, const char *msg) {
  lnuma_error err;
  memset(&err, 0, sizeof err);
  assert_int_equal(lnuma_loaded_measure(&f->p, &f->r, &err), -1);
  assert_int_equal(err.code, code);
  if (strstr(err.msg, msg) == NULL) fail_msg("'%s' does not say '%s'", err.msg, msg);
}

static void loaded_latency_rejects_bad_parameters(void **state) {
  (void)state;
  loaded_fixture f;
  lnuma_error err;
  loaded_setup(&f);
  assert_int_equal(lnuma_loaded_measure(NULL, &f.r, &err), -1);
  assert_int_equal(err.code, EINVAL);
  f.p.nsteps = 0;
  expect_loaded_error(&f, EINVAL, "1 to 1000000 steps");
  f.p.nsteps = 3, f.p.nthreads = 1;
  expect_loaded_error(&f, EINVAL, "needs 2 to");
  f.p.nthreads = 2, f.p.traffic = LNUMA_TRAFFIC_COUNT;
  expect_loaded_error(&f, EINVAL, "no traffic type");
  f.p.traffic = LNUMA_TRAFFIC_READ, f.p.isa = 99;
  expect_loaded_error(&f, EINVAL, "no ISA 99");
  f.p.isa = LNUMA_ISA_AUTO, f.p.step_ns = 999;
  expect_loaded_error(&f, EINVAL, "below 1 us");
  f.p.step_ns = 10000;
  expect_loaded_error(&f, EINVAL, "delay of step 3 (10000 ns) is not below the step time");
  f.p.step_ns = 2000000, f.p.traffic_mem = f.traffic + 8;
  expect_loaded_error(&f, EINVAL, "64-byte aligned");
  f.p.traffic_mem = f.traffic, f.p.traffic_size = 4096, f.p.traffic = LNUMA_TRAFFIC_COPY;
  expect_loaded_error(&f, EINVAL, "too few");
  f.p.traffic_size = 1 << 20, f.p.chase_size = 64; /* a chase needs two slots */
  expect_loaded_error(&f, EINVAL, "");
  free(f.chase), free(f.traffic);
}

static void loaded_latency_runs_each_step_in_order(void **state) {
  (void)state;
  int cpus[2];
  if (allowed_cpus(cpus, 2) < 2) skip();
  loaded_fixture f;
  loaded_setup(&f);
  lnuma_clock clock;
  assert_int_equal(lnuma_clock_init(&clock, LNUMA_CLOCK_AUTO, NULL), 0);
  f.p.clock = &clock;
  f.p.traffic = LNUMA_TRAFFIC_RW2_1;
  lnuma_error err;
  assert_int_equal(lnuma_loaded_measure(&f.p, &f.r, &err), 0);
  assert_int_equal(f.r.slots, (1 << 20) / 64);
  assert_int_equal(f.r.chunk_bytes, 3 * LNUMA_LOADED_CHUNK); /* 2 reads, 1 write */
  assert_non_null(lnuma_isa_name(f.r.isa));
  for (int s = 0; s < 3; s++) {
    const lnuma_loaded_step *st = &f.steps[s];
    assert_int_equal(st->delay_ns, f.delays[s]);
    assert_true(st->chase_ns >= f.p.step_ns);
    assert_int_equal(st->chase_loads % 1024, 0);
    assert_true(st->latency_ns > 0 && st->chunk_p50_ns > 0);
    assert_true(st->chunk_p99_ns >= st->chunk_p50_ns);
    assert_int_equal(st->traffic_bytes, st->traffic_chunks * f.r.chunk_bytes);
    if (st->traffic_chunks > 0 && st->delay_ns > 0) {
      assert_true(st->delay_p50_ns >= st->delay_ns); /* a spin never ends early */
      assert_true(st->delay_total_ns >= st->traffic_chunks * st->delay_ns);
      /* a chunk per delay at most */
      assert_true(st->traffic_gbps <= (double)f.r.chunk_bytes / (double)st->delay_ns * 1.001);
    }
  }
  assert_int_equal(f.threads[0].cpu_asked, cpus[0]);
  assert_int_equal(f.threads[1].cpu_asked, cpus[1]);
  free(f.chase), free(f.traffic);
}

static void traffic_names_round_trip(void **state) {
  (void)state;
  for (int t = 0; t < LNUMA_TRAFFIC_COUNT; t++) {
    const lnuma_traffic_info *i = lnuma_traffic_get(t);
    assert_non_null(i);
    assert_int_equal(lnuma_traffic_from_name(i->name), t);
    assert_true(i->reads + i->writes >= 1 && i->arrays >= 1);
  }
  assert_null(lnuma_traffic_get(-1));
  assert_null(lnuma_traffic_get(LNUMA_TRAFFIC_COUNT));
  assert_int_equal(lnuma_traffic_from_name("rw3:1"), -1);
  assert_int_equal(lnuma_traffic_from_name(NULL), -1);
  assert_int_equal(lnuma_traffic_get(LNUMA_TRAFFIC_RW2_1)->reads, 2);
  assert_int_equal(lnuma_traffic_get(LNUMA_TRAFFIC_WRITE)->write_allocate, 1);
  assert_int_equal(lnuma_traffic_get(LNUMA_TRAFFIC_WRITE_NT)->write_allocate, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chase_visits_every_slot_once_per_cycle),
      cmocka_unit_test(random_chase_splits_line_pairs_across_visits),
      cmocka_unit_test(chase_is_reproducible_from_its_seed),
      cmocka_unit_test(walk_rejects_a_broken_chase),
      cmocka_unit_test(chase_rejects_bad_layouts),
      cmocka_unit_test(kernels_compute_the_right_thing_with_every_isa),
      cmocka_unit_test(walk_orders_have_names_and_a_choice_per_kernel),
      cmocka_unit_test(kernel_names_round_trip),
      cmocka_unit_test(bandwidth_counts_stream_bytes_per_kernel),
      cmocka_unit_test(bandwidth_off_a_page_starts_at_the_first_page),
      cmocka_unit_test(bandwidth_rejects_too_little_memory),
      cmocka_unit_test(team_threads_run_on_the_cpus_asked),
      cmocka_unit_test(team_with_a_missing_cpu_runs_nothing),
      cmocka_unit_test(latency_measures_ns_per_load),
      cmocka_unit_test(loaded_latency_rejects_bad_parameters),
      cmocka_unit_test(loaded_latency_runs_each_step_in_order),
      cmocka_unit_test(traffic_names_round_trip),
  };
  return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
