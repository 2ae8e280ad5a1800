/* make bench: memory placement, measured in one run as ratios.
 *
 *  - allocate + free one 64-byte object (written once), in batches of 1000:
 *    lnuma pool get/put and arena alloc/reset against numa_alloc_onnode/
 *    numa_free (an mmap per call) and malloc/free, from C and from Lua (the
 *    references are called from Lua through the same kind of C function);
 *  - populate speed (GB/s) of a 1 GiB buffer with 4K pages and with THP
 *    (MADV_POPULATE_WRITE after mbind), against first touch by memset.
 *
 * Each figure is the best of several interleaved rounds (the machines are
 * shared: the least disturbed round is the closest to the cost).  Lines:
 * "name value unit". */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <numa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "lnuma.h"

int luaopen_lnuma_core(lua_State *L);

#define OBJ 64
#define BATCH 1000
#define ROUNDS 7
#define GIB ((size_t)1 << 30)

static int node;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double min2(double a, double b) { return a < b ? a : b; }

static void *objs[BATCH];

/* ---- C: ns per allocate + write + free --------------------------------- */

static double c_malloc(int batches) {
  double t0 = now_ns();
  for (int b = 0; b < batches; b++) {
    for (int i = 0; i < BATCH; i++) {
      objs[i] = malloc(OBJ);
      *(volatile char *)objs[i] = 1;
    }
    for (int i = 0; i < BATCH; i++) free(objs[i]);
  }
  return (now_ns() - t0) / ((double)batches * BATCH);
}

static double c_numa_alloc(int batches) {
  double t0 = now_ns();
  for (int b = 0; b < batches; b++) {
    for (int i = 0; i < BATCH; i++) {
      objs[i] = numa_alloc_onnode(OBJ, node);
      *(volatile char *)objs[i] = 1;
    }
    for (int i = 0; i < BATCH; i++) numa_free(objs[i], OBJ);
  }
  return (now_ns() - t0) / ((double)batches * BATCH);
}

static double c_pool(lnuma_pool *pool, int batches) {
  double t0 = now_ns();
  for (int b = 0; b < batches; b++) {
    for (int i = 0; i < BATCH; i++) {
      objs[i] = lnuma_pool_get(pool);
      *(volatile char *)objs[i] = 1;
    }
    for (int i = 0; i < BATCH; i++) lnuma_pool_put(pool, objs[i], NULL);
  }
  return (now_ns() - t0) / ((double)batches * BATCH);
}

static double c_arena(lnuma_arena *arena, int batches) {
  double t0 = now_ns();
  for (int b = 0; b < batches; b++) {
    for (int i = 0; i < BATCH; i++) {
      objs[i] = lnuma_arena_alloc(arena, OBJ, 16);
      *(volatile char *)objs[i] = 1;
    }
    lnuma_arena_reset(arena);
  }
  return (now_ns() - t0) / ((double)batches * BATCH);
}

/* ---- Lua: the same, with the references as C functions ------------------- */

static int ref_malloc(lua_State *L) {
  lua_pushlightuserdata(L, malloc((size_t)luaL_checkinteger(L, 1)));
  return 1;
}
static int ref_free(lua_State *L) {
  free(lua_touserdata(L, 1));
  return 0;
}
static int ref_numa_alloc(lua_State *L) {
  lua_pushlightuserdata(L, numa_alloc_onnode((size_t)luaL_checkinteger(L, 1),
                                             (int)luaL_checkinteger(L, 2)));
  return 1;
}
static int ref_numa_free(lua_State *L) {
  numa_free(lua_touserdata(L, 1), (size_t)luaL_checkinteger(L, 2));
  return 0;
}
static int ref_touch(lua_State *L) {
  *(volatile char *)lua_touserdata(L, 1) = 1;
  return 0;
}

static const char *const LUA_BENCH =
    "local lnuma, ref, node, OBJ, BATCH = ...\n"
    "local malloc, free, numa_alloc, numa_free, touch =\n"
    "  ref.malloc, ref.free, ref.numa_alloc, ref.numa_free, ref.touch\n"
    "local pool = assert(lnuma.pool{node = node, size = OBJ, count = BATCH})\n"
    "local arena = assert(lnuma.arena{node = node, size = OBJ * BATCH})\n"
    "local objs = {}\n"
    "local B = {}\n"
    "function B.malloc(n) for _ = 1, n do\n"
    "  for i = 1, BATCH do local p = malloc(OBJ); touch(p); objs[i] = p end\n"
    "  for i = 1, BATCH do free(objs[i]) end end end\n"
    "function B.numa_alloc_onnode(n) for _ = 1, n do\n"
    "  for i = 1, BATCH do local p = numa_alloc(OBJ, node); touch(p); objs[i] = p end\n"
    "  for i = 1, BATCH do numa_free(objs[i], OBJ) end end end\n"
    "function B.lnuma_alloc(n) for _ = 1, n do\n"
    "  for i = 1, BATCH do local b = lnuma.alloc(OBJ, {node = node}); b:set('u8', 0, 1);\n"
    "    objs[i] = b end\n"
    "  for i = 1, BATCH do objs[i]:free() end end end\n"
    "function B.lua_table(n) for _ = 1, n do\n"
    "  for i = 1, BATCH do local t = {0, 0, 0, 0, 0, 0, 0, 0}; t[1] = 1; objs[i] = t end\n"
    "  for i = 1, BATCH do objs[i] = false end end end\n"
    "function B.pool(n) for _ = 1, n do\n"
    "  for i = 1, BATCH do local o = pool:get(); o:set('u8', 0, 1); objs[i] = o end\n"
    "  for i = 1, BATCH do pool:put(objs[i]) end end end\n"
    "function B.arena(n) for _ = 1, n do\n"
    "  for i = 1, BATCH do local o = arena:alloc(OBJ); arena:set('u8', o, 1); objs[i] = o end\n"
    "  arena:reset() end end\n"
    "return B\n";

/* Runs B[name](batches) in L and returns ns per object. */
static double lua_run(lua_State *L, const char *name, int batches) {
  lua_getfield(L, -1, name);
  lua_pushinteger(L, batches);
  double t0 = now_ns();
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "bench %s: %s\n", name, lua_tostring(L, -1));
    exit(1);
  }
  return (now_ns() - t0) / ((double)batches * BATCH);
}

/* ---- populate ------------------------------------------------------------- */

static double populate_gbps(lnuma_huge huge) {
  lnuma_alloc_opts o;
  lnuma_alloc_opts_init(&o);
  lnuma_set_add(&o.nodes, node);
  o.huge = huge;
  lnuma_error err;
  lnuma_buffer *b = lnuma_buffer_alloc(GIB, &o, &err);
  if (b == NULL) {
    fprintf(stderr, "populate %s: %s\n", lnuma_huge_name(huge), err.msg);
    return 0;
  }
  double gbps = (double)GIB / (double)lnuma_buffer_info_of(b)->populate_ns;
  lnuma_buffer_free(b);
  return gbps;
}

static double memset_gbps(int thp) {
  char *raw = mmap(NULL, GIB + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  if (raw == MAP_FAILED) return 0;
  char *p = (char *)(((uintptr_t)raw + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
  madvise(p, GIB, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  double t0 = now_ns();
  memset(p, 1, GIB);
  double gbps = (double)GIB / (now_ns() - t0);
  munmap(raw, GIB + (2 << 20));
  return gbps;
}

int main(void) {
  if (numa_available() < 0) {
    fprintf(stderr, "bench memory: libnuma says NUMA is not available\n");
    return 1;
  }
  lnuma_set nodes;
  lnuma_nodes_online(&nodes, NULL);
  node = lnuma_set_next(&nodes, -1);

  lnuma_alloc_opts o;
  lnuma_alloc_opts_init(&o);
  lnuma_set_add(&o.nodes, node);
  lnuma_error err;
  lnuma_pool *pool = lnuma_pool_create(OBJ, BATCH, 0, &o, &err);
  lnuma_arena *arena = lnuma_arena_create(OBJ * BATCH, &o, &err);
  if (pool == NULL || arena == NULL) {
    fprintf(stderr, "bench memory: %s\n", err.msg);
    return 1;
  }

  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_lnuma_core);
  lua_setfield(L, -2, "lnuma.core");
  lua_pop(L, 1);
  if (luaL_loadstring(L, LUA_BENCH) != LUA_OK) return 1;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lnuma");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    fprintf(stderr, "bench memory: %s\n", lua_tostring(L, -1));
    return 1;
  }
  static const luaL_Reg refs[] = {{"malloc", ref_malloc},         {"free", ref_free},
                                  {"numa_alloc", ref_numa_alloc}, {"numa_free", ref_numa_free},
                                  {"touch", ref_touch},           {NULL, NULL}};
  luaL_newlib(L, refs);
  lua_pushinteger(L, node);
  lua_pushinteger(L, OBJ);
  lua_pushinteger(L, BATCH);
  if (lua_pcall(L, 5, 1, 0) != LUA_OK) {
    fprintf(stderr, "bench memory: %s\n", lua_tostring(L, -1));
    return 1;
  }

  enum { C_MALLOC, C_NUMA, C_POOL, C_ARENA, L_MALLOC, L_NUMA, L_LNUMA, L_TABLE, L_POOL,
         L_ARENA, N_FIG };
  double best[N_FIG];
  for (int i = 0; i < N_FIG; i++) best[i] = 1e300;
  for (int r = 0; r < ROUNDS; r++) {
    best[C_MALLOC] = min2(best[C_MALLOC], c_malloc(2000));
    best[C_NUMA] = min2(best[C_NUMA], c_numa_alloc(5));
    best[C_POOL] = min2(best[C_POOL], c_pool(pool, 2000));
    best[C_ARENA] = min2(best[C_ARENA], c_arena(arena, 2000));
    best[L_MALLOC] = min2(best[L_MALLOC], lua_run(L, "malloc", 100));
    best[L_NUMA] = min2(best[L_NUMA], lua_run(L, "numa_alloc_onnode", 5));
    best[L_LNUMA] = min2(best[L_LNUMA], lua_run(L, "lnuma_alloc", 2));
    best[L_TABLE] = min2(best[L_TABLE], lua_run(L, "lua_table", 100));
    best[L_POOL] = min2(best[L_POOL], lua_run(L, "pool", 100));
    best[L_ARENA] = min2(best[L_ARENA], lua_run(L, "arena", 100));
    lua_gc(L, LUA_GCCOLLECT);
  }
  printf("# allocate + write + free of one %d-byte object, batches of %d, best of %d rounds\n",
         OBJ, BATCH, ROUNDS);
  printf("memory.c.malloc_free %.1f ns\n", best[C_MALLOC]);
  printf("memory.c.numa_alloc_onnode_free %.1f ns\n", best[C_NUMA]);
  printf("memory.c.pool_get_put %.1f ns\n", best[C_POOL]);
  printf("memory.c.arena_alloc_reset %.1f ns\n", best[C_ARENA]);
  printf("memory.c.ratio.numa_alloc_onnode_over_pool %.1f x\n", best[C_NUMA] / best[C_POOL]);
  printf("memory.c.ratio.numa_alloc_onnode_over_arena %.1f x\n", best[C_NUMA] / best[C_ARENA]);
  printf("memory.c.ratio.malloc_over_pool %.2f x\n", best[C_MALLOC] / best[C_POOL]);
  printf("memory.c.ratio.malloc_over_arena %.2f x\n", best[C_MALLOC] / best[C_ARENA]);
  printf("memory.lua.malloc_free %.1f ns\n", best[L_MALLOC]);
  printf("memory.lua.numa_alloc_onnode_free %.1f ns\n", best[L_NUMA]);
  printf("memory.lua.lnuma_alloc_free %.1f ns\n", best[L_LNUMA]);
  printf("memory.lua.table_gc %.1f ns\n", best[L_TABLE]);
  printf("memory.lua.pool_get_put %.1f ns\n", best[L_POOL]);
  printf("memory.lua.arena_alloc_reset %.1f ns\n", best[L_ARENA]);
  printf("memory.lua.ratio.numa_alloc_onnode_over_pool %.1f x\n", best[L_NUMA] / best[L_POOL]);
  printf("memory.lua.ratio.numa_alloc_onnode_over_arena %.1f x\n", best[L_NUMA] / best[L_ARENA]);
  printf("memory.lua.ratio.malloc_over_pool %.2f x\n", best[L_MALLOC] / best[L_POOL]);
  printf("memory.lua.ratio.malloc_over_arena %.2f x\n", best[L_MALLOC] / best[L_ARENA]);
  printf("memory.lua.ratio.lnuma_alloc_over_pool %.1f x\n", best[L_LNUMA] / best[L_POOL]);
  printf("memory.lua.ratio.table_over_pool %.2f x\n", best[L_TABLE] / best[L_POOL]);
  fflush(stdout);
  lua_close(L);
  lnuma_pool_destroy(pool);
  lnuma_arena_destroy(arena);

  double pop4k = 0, popthp = 0, set4k = 0, setthp = 0;
  for (int r = 0; r < 5; r++) {
    double v;
    if ((v = populate_gbps(LNUMA_HUGE_NONE)) > pop4k) pop4k = v;
    if ((v = populate_gbps(LNUMA_HUGE_THP)) > popthp) popthp = v;
    if ((v = memset_gbps(0)) > set4k) set4k = v;
    if ((v = memset_gbps(1)) > setthp) setthp = v;
  }
  printf("# populate of a 1 GiB buffer bound to node %d, best of 5\n", node);
  printf("memory.populate.4k %.2f GB/s\n", pop4k);
  printf("memory.populate.thp %.2f GB/s\n", popthp);
  printf("memory.first_touch_memset.4k %.2f GB/s\n", set4k);
  printf("memory.first_touch_memset.thp %.2f GB/s\n", setthp);
  printf("memory.populate.ratio.thp_over_4k %.2f x\n", popthp / pop4k);
  printf("memory.populate.ratio.4k_over_memset_4k %.2f x\n", pop4k / set4k);
  printf("memory.populate.ratio.thp_over_memset_thp %.2f x\n", popthp / setthp);
  return 0;
}
