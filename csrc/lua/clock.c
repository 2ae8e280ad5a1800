/* lnuma.core.clock: the calibrated clock of this lua_State.
 *
 * Each lua_State owns one lnuma_clock, a full userdata made when the module
 * is opened and shared as upvalue 1 by every function here.  now() and
 * ticks() read it straight from the upvalue: no table, no registry, no
 * allocation, so they cost what a no-op C function costs plus the counter. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

#define CLOCK_UV lua_upvalueindex(1)

static lnuma_clock *up_clock(lua_State *L) { return lua_touserdata(L, CLOCK_UV); }

static int clock_now(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_clock_now(up_clock(L)));
  return 1;
}

static int clock_ticks(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_clock_ticks(up_clock(L)));
  return 1;
}

static int clock_start(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_clock_start(up_clock(L)));
  return 1;
}

/* Pushes a signed tick count as signed ns, saturated at the integer range
 * (a count of ticks from a script may be any integer). */
static void push_ns(lua_State *L, const lnuma_clock *c, int64_t ticks) {
  uint64_t mag = ticks < 0 ? (uint64_t)0 - (uint64_t)ticks : (uint64_t)ticks;
  uint64_t ns = lnuma_clock_to_ns(c, mag);
  if (ns > (uint64_t)LUA_MAXINTEGER) ns = (uint64_t)LUA_MAXINTEGER;
  lua_pushinteger(L, ticks < 0 ? -(lua_Integer)ns : (lua_Integer)ns);
}

/* stop() -> ticks; stop(t0) -> ns elapsed since the ticks t0 from start(). */
static int clock_stop(lua_State *L) {
  const lnuma_clock *c = up_clock(L);
  uint64_t t = lnuma_clock_stop(c);
  if (lua_isnoneornil(L, 1)) {
    lua_pushinteger(L, (lua_Integer)t);
    return 1;
  }
  lua_Integer t0 = luaL_checkinteger(L, 1);
  push_ns(L, c, (int64_t)(t - (uint64_t)t0));
  return 1;
}

/* to_ns(ticks): a tick count (a difference of two ticks() readings) in ns. */
static int clock_to_ns(lua_State *L) {
  push_ns(L, up_clock(L), luaL_checkinteger(L, 1));
  return 1;
}

static int clock_monotonic_raw(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_monotonic_raw_ns());
  return 1;
}

/* thread_cpu() -> ns of CPU time used by the calling thread, or nil */
static int clock_thread_cpu(lua_State *L) {
  int64_t ns = lnuma_thread_cpu_ns();
  if (ns < 0)
    lua_pushnil(L);
  else
    lua_pushinteger(L, (lua_Integer)ns);
  return 1;
}

static lua_Integer check_ns_arg(lua_State *L, int arg, const char *what) {
  int isint = 0;
  lua_Integer ns = lua_tointegerx(L, arg, &isint);
  if (!isint) {
    lua_pushfstring(L, "%s: integer nanoseconds expected, got %s", what,
                    lua_type(L, arg) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, arg));
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  return ns;
}

/* sleep(ns): sleeps at least ns nanoseconds (0 returns at once). */
static int clock_sleep(lua_State *L) {
  lua_Integer ns = check_ns_arg(L, 1, "ns");
  luaL_argcheck(L, ns >= 0, 1, "ns: must not be negative");
  lnuma_sleep_ns(ns);
  return 0;
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

static void push_info(lua_State *L, const lnuma_clock *c) {
  lua_createtable(L, 0, 16);
  set_str(L, "source", lnuma_clock_source_name(c->source));
  set_int(L, "hz", (lua_Integer)c->hz);
  set_str(L, "frequency_source", lnuma_clock_freq_method_name(c->freq_method));
  set_bool(L, "invariant", c->invariant);
  set_str(L, "invariant_from", c->invariant_from);
  if (c->nominal_hz != 0) set_int(L, "nominal_hz", (lua_Integer)c->nominal_hz);
  if (c->error_ppm >= 0) set_num(L, "error_ppm", c->error_ppm);
  if (c->calibrated_ns > 0) set_int(L, "calibration_ns", c->calibrated_ns);
  set_num(L, "cost_c_ns", c->cost_ns);
  set_num(L, "resolution_ns", c->resolution_ns);
  set_bool(L, "rdtscp", c->has_rdtscp);
  set_str(L, "reason", c->reason);
  char cs[64];
  if (lnuma_kernel_clocksource(cs, sizeof cs, NULL) == 0) set_str(L, "kernel_clocksource", cs);
  set_str(L, "unit", "ns");
}

static int clock_info(lua_State *L) {
  push_info(L, up_clock(L));
  return 1;
}

/* calibrate{duration = ns} -> error_ppm, info */
static int clock_calibrate(lua_State *L) {
  static const char *const known[] = {"duration", NULL};
  lnuma_clock *c = up_clock(L);
  lua_Integer duration = 100000000; /* 100 ms */
  lnb_check_options(L, 1, known, 1);
  if (lnb_field_integer(L, 1, "duration", &duration) && duration <= 0)
    lnb_opterror(L, 1, "duration", "must be a positive number of ns, got %I", duration);
  lnuma_error err;
  double ppm = 0;
  if (lnuma_clock_calibrate(c, duration, &ppm, &err) != 0) {
    if (err.code == EINVAL) return lnb_opterror(L, 1, "duration", "%s", err.msg);
    return lnb_fail(L, &err);
  }
  lua_pushnumber(L, ppm);
  push_info(L, c);
  return 2;
}

static const luaL_Reg clock_funcs[] = {
    {"now", clock_now},
    {"ticks", clock_ticks},
    {"start", clock_start},
    {"stop", clock_stop},
    {"to_ns", clock_to_ns},
    {"info", clock_info},
    {"calibrate", clock_calibrate},
    {"monotonic_raw", clock_monotonic_raw},
    {"sleep", clock_sleep},
    {"thread_cpu", clock_thread_cpu},
    {NULL, NULL},
};

void lnuma_open_clock(lua_State *L) {
  lua_createtable(L, 0, (int)(sizeof clock_funcs / sizeof clock_funcs[0]));
  lnuma_clock *c = lua_newuserdatauv(L, sizeof *c, 0);
  lnuma_error err;
  if (lnuma_clock_init(c, LNUMA_CLOCK_AUTO, &err) != 0) {
    lnuma_clock_init(c, LNUMA_CLOCK_MONOTONIC_RAW, NULL); /* cannot fail */
    snprintf(c->reason, sizeof c->reason, "%.120s; using CLOCK_MONOTONIC_RAW", err.msg);
  }
  luaL_setfuncs(L, clock_funcs, 1);
  lua_setfield(L, -2, "clock");
}
