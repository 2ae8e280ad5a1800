/* lnuma.core.bench_*: what the Lua benchmark harness (lua/lnuma/bench.lua)
 * needs from the core to pin itself for one run and put things back: pin the
 * calling thread to one CPU, restore a previous binding, and the CPU it runs
 * on.  Thin wrappers over csrc/core/system.c. */
#include "binding.h"

/* bench_pin(cpu) -> previous CPU binding (array), or nil, msg, errno */
static int bench_pin(lua_State *L) {
  lua_Integer cpu = luaL_checkinteger(L, 1);
  luaL_argcheck(L, cpu >= 0 && cpu < LNUMA_SET_BITS, 1, "cpu: not a valid CPU index");
  lnuma_set before, want;
  lnuma_error err;
  if (lnuma_cpu_binding(&before, &err) != 0) return lnb_fail(L, &err);
  lnuma_set_zero(&want);
  lnuma_set_add(&want, (int)cpu);
  if (lnuma_bind_cpus(&want, &err) != 0) return lnb_fail(L, &err);
  lnb_push_set(L, &before);
  return 1;
}

/* bench_restore(cpus) -> true, or nil, msg, errno */
static int bench_restore(lua_State *L) {
  lnuma_set cpus;
  lnuma_error err;
  lnb_to_set(L, 1, 1, "cpus", &cpus);
  if (lnuma_restore_cpus(&cpus, &err) != 0) return lnb_fail(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* bench_cpu() -> the CPU the calling thread runs on, or nil, msg, errno */
static int bench_cpu(lua_State *L) {
  int cpu;
  lnuma_error err;
  if (lnuma_current(&cpu, NULL, &err) != 0) return lnb_fail(L, &err);
  lua_pushinteger(L, cpu);
  return 1;
}

void lnuma_open_bench(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"bench_pin", bench_pin},
      {"bench_restore", bench_restore},
      {"bench_cpu", bench_cpu},
      {NULL, NULL},
  };
  luaL_setfuncs(L, funcs, 0);
}
