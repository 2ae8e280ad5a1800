/* Many states, many threads: 8 threads at once, each with its own lua_State
 * and lnuma (lnuma_lua_preload), loading plans (from Lua and with
 * lnuma_plan_load), allocating, timing and recording histograms, plus the
 * same through the C API, while background recalibration rewrites the clocks
 * being read (the Lua states share one clock; each C side recalibrates its
 * own).  The core must have no hidden shared state: `make
 * tsan` runs this file under ThreadSanitizer (spec/c/tsan.supp lists what
 * is suppressed in the libraries below us, with the reason for each). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lnuma.h"
#include "lnuma_lua.h"

#define THREADS 8
#define ROUNDS 3

static char dir[64];
static char plan_path[128];
static pthread_barrier_t start;

static const char *PLAN =
    "return {\n"
    "  threads = { { name = 'feed', cpus = topology.allowed.cpus[1], uses = { 'ring' } } },\n"
    "  memory = { { name = 'ring', size = '64K', node = topology.allowed.nodes[1] } },\n"
    "  pools = { { name = 'orders', node = topology.allowed.nodes[1], size = 64, count = 32 } },\n"
    "}\n";

/* What each state runs (PLAN_PATH and ID are set as globals first). */
static const char *SCRIPT =
    "local lnuma = require 'lnuma'\n"
    "local topo = assert(lnuma.topology())\n"
    "local syn = assert(lnuma.topology { synthetic = 'pack:2 numa:1 core:2 pu:2' })\n"
    "assert(#syn.nodes == 2, 'synthetic nodes')\n"
    "local h = lnuma.histogram { highest = 1e9 }\n"
    "assert(lnuma.clock.recalibrate { every = 10000000 })\n"
    "local total = 0\n"
    "for round = 1, 20 do\n"
    "  local t0 = lnuma.clock.now()\n"
    "  local b <close> = assert(lnuma.alloc(65536))\n"
    "  b:fill(ID % 256)\n"
    "  assert(b:get('u8', 4095) == ID % 256, 'fill')\n"
    "  local v = b:view(4096, 4096)\n"
    "  v:set('u32', 0, round)\n"
    "  total = total + b:get('u32', 1024)\n"
    "  local pool = lnuma.pool { size = 64, count = 8 }\n"
    "  local o = pool:get()\n"
    "  pool:put(o)\n"
    "  pool:free()\n"
    "  local a = lnuma.arena { size = '64K' }\n"
    "  a:alloc(128)\n"
    "  a:free()\n"
    "  h:record(lnuma.clock.now() - t0)\n"
    "end\n"
    "assert(total == 210, 'views: ' .. total)\n"
    "local p = assert(lnuma.plan.load(PLAN_PATH))\n"
    "assert(p:region('ring').size == 65536, 'plan region')\n"
    "local applied = assert(p:apply())\n"
    "assert(lnuma.clock.calibrate { duration = 1000000 })\n"
    "local lat = assert(lnuma.bench.latency { size = '16K', repetitions = 1, min_time = 0,\n"
    "                                         chunks = 1 })\n"
    "assert(lat.latency_ns > 0, 'latency')\n"
    "assert(#lnuma.core.kernel_info().isas > 0, 'isas')\n"
    "local bin = topo.nodes[1] and topo:cpus_of(topo.nodes[1].os_index)\n"
    "assert(bin and #bin > 0, 'cpus_of')\n"
    "assert(lnuma.report.json(h:export()))\n"
    "assert(assert(lnuma.clock.recalibrate { stop = true }).every_ns == 10000000, 'recal')\n"
    "return h:count()\n";

typedef struct worker {
  int id;
  int lua_ok;
  long long count;
  char msg[512];
  int c_ok;
} worker;

/* The C API side: a plan, a clock, a histogram, a pool, a topology. */
static int c_side(worker *w) {
  lnuma_error err;
  lnuma_plan *p = lnuma_plan_load(plan_path, NULL, &err);
  if (p == NULL) {
    snprintf(w->msg, sizeof w->msg, "lnuma_plan_load: %s", err.msg);
    return 0;
  }
  lnuma_plan_applied *a = lnuma_plan_apply(p, &err);
  int ok = a != NULL && lnuma_plan_applied_region_count(a) == 1;
  lnuma_plan_applied_free(a);
  lnuma_plan_free(p);
  lnuma_clock clock;
  if (lnuma_clock_init(&clock, LNUMA_CLOCK_AUTO, &err) != 0) return 0;
  lnuma_clock_recalibrator *rc = lnuma_clock_recalibrate_start(&clock, 10000000, &err);
  if (rc == NULL) return 0;
  lnuma_histogram *h = lnuma_histogram_new(1, 1000000000, 3, &err);
  if (h == NULL) return 0;
  lnuma_pool *pool = lnuma_pool_create(64, 16, 64, NULL, &err);
  if (pool == NULL) return 0;
  for (int i = 0; i < 1000; i++) {
    int64_t t0 = lnuma_clock_now(&clock);
    void *o = lnuma_pool_get(pool);
    if (o != NULL) lnuma_pool_put(pool, o, &err);
    lnuma_histogram_record(h, lnuma_clock_now(&clock) - t0 + 1, 1);
  }
  lnuma_sleep_ns(15000000); /* at least one recalibration under the readers above */
  for (int i = 0; i < 1000; i++) {
    int64_t t0 = lnuma_clock_now(&clock);
    lnuma_histogram_record(h, lnuma_clock_now(&clock) - t0 + 1, 1);
  }
  lnuma_clock_recalibrate_stop(rc);
  ok = ok && lnuma_histogram_count(h) == 2000;
  lnuma_pool_destroy(pool);
  lnuma_histogram_free(h);
  lnuma_topology *t = lnuma_topology_load_synthetic("pack:2 numa:2 core:2 pu:1", &err);
  ok = ok && t != NULL && lnuma_topology_node_count(t) == 4;
  lnuma_topology_free(t);
  return ok;
}

static void *run(void *arg) {
  worker *w = arg;
  pthread_barrier_wait(&start);
  for (int round = 0; round < ROUNDS; round++) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lnuma_lua_preload(L);
    lua_pushstring(L, plan_path);
    lua_setglobal(L, "PLAN_PATH");
    lua_pushinteger(L, w->id);
    lua_setglobal(L, "ID");
    if (luaL_loadstring(L, SCRIPT) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
      snprintf(w->msg, sizeof w->msg, "thread %d: %s", w->id, lua_tostring(L, -1));
      lua_close(L);
      return NULL;
    }
    w->count += lua_tointeger(L, -1);
    lua_close(L);
    if (!c_side(w)) {
      if (w->msg[0] == '\0') snprintf(w->msg, sizeof w->msg, "thread %d: C API failed", w->id);
      return NULL;
    }
  }
  w->lua_ok = 1;
  w->c_ok = 1;
  return NULL;
}

static void eight_states_on_eight_threads(void **state) {
  (void)state;
  /* valgrind (3.19) stops at RDTSCP, which the clock reads; and it runs one
   * thread at a time, so it would see no race anyway (make tsan does). */
  const char *vg = getenv("VALGRIND");
  if (vg != NULL && strcmp(vg, "1") == 0) skip();
  pthread_t threads[THREADS];
  worker workers[THREADS];
  memset(workers, 0, sizeof workers);
  assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
  for (int i = 0; i < THREADS; i++) {
    workers[i].id = i;
    assert_int_equal(pthread_create(&threads[i], NULL, run, &workers[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(threads[i], NULL), 0);
  pthread_barrier_destroy(&start);
  for (int i = 0; i < THREADS; i++) {
    if (!workers[i].lua_ok || !workers[i].c_ok) fail_msg("%s", workers[i].msg);
    assert_int_equal(workers[i].count, 20 * ROUNDS);
  }
}

static int setup(void **state) {
  (void)state;
  strcpy(dir, "/tmp/lnuma-threads-XXXXXX");
  if (mkdtemp(dir) == NULL) return -1;
  snprintf(plan_path, sizeof plan_path, "%s/plan.lua", dir);
  FILE *f = fopen(plan_path, "w");
  if (f == NULL) return -1;
  fputs(PLAN, f);
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(plan_path);
  return rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(eight_states_on_eight_threads),
  };
  return cmocka_run_group_tests_name("threads", tests, setup, teardown);
}
