/* lnuma.core.clock: the calibrated clock, and each state's context.
 *
 * One clock for the whole process, not one per lua_State.  now() is the
 * hottest call lnuma has (issue 14: within 1.2x of a C function returning a
 * bare rdtsc), and a C function reaches a static with one address, where an
 * upvalue costs a chain of dependent loads (CallInfo, closure, upvalue,
 * userdata).  Sharing is sound: the counter and its rate belong to the
 * machine, so one calibration serves every state; the clock is written at
 * init (pthread_once, before any state can read it) and afterwards only
 * under its sequence lock (calibrate{}, background recalibration), which
 * now() reads through, so states on other threads never see a torn
 * conversion.  What belongs to one state -- the recalibration it started --
 * lives in its context (binding.h), upvalue 1 of every function here. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

static lnuma_clock process_clock __attribute__((aligned(64))); /* hot fields in one line */
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void process_clock_init(void) {
  lnuma_clock *c = &process_clock;
  lnuma_error err;
  if (lnuma_clock_init(c, LNUMA_CLOCK_AUTO, &err) != 0) {
    lnuma_clock_init(c, LNUMA_CLOCK_MONOTONIC_RAW, NULL); /* cannot fail */
    snprintf(c->reason, sizeof c->reason, "%.120s; using CLOCK_MONOTONIC_RAW", err.msg);
  }
}

lnuma_clock *lnb_process_clock(void) {
  pthread_once(&process_once, process_clock_init);
  return &process_clock;
}

/* ---- the context ------------------------------------------------------------- */

static int ctx_gc(lua_State *L) {
  lnb_context *ctx = lua_touserdata(L, 1);
  lnuma_clock_recalibrator *r = ctx->recal;
  ctx->recal = NULL;
  lnuma_clock_recalibrate_stop(r);
  return 0;
}

int lnb_context_new(lua_State *L) {
  /* Made whole before the metatable (with __gc) is set. */
  lnb_context *ctx = lua_newuserdatauv(L, sizeof *ctx, 0);
  ctx->clock = lnb_process_clock();
  ctx->recal = NULL;
  if (luaL_newmetatable(L, "lnuma.Context")) {
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return lua_gettop(L);
}

/* ---- the hot path: the static clock, no upvalue ------------------------------ */

static int clock_now(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_clock_now(&process_clock));
  return 1;
}

#if LNUMA_CLOCK_INLINE_COUNTER && defined(__x86_64__)
/* now() where the source is the TSC (fixed at init): no test of the source. */
static int clock_now_tsc(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_clock_ticks_to_now(&process_clock, lnuma__rdtsc()));
  return 1;
}
#endif

static int clock_ticks(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_clock_ticks(&process_clock));
  return 1;
}

static int clock_start(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_clock_start(&process_clock));
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
  const lnuma_clock *c = &process_clock;
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
  push_ns(L, &process_clock, luaL_checkinteger(L, 1));
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


static void push_info(lua_State *L, const lnuma_clock *clock) {
  lnuma_clock snap;
  const lnuma_clock *c = &snap;
  lnuma_clock_snapshot(clock, &snap);
  lua_createtable(L, 0, 17);
  lnb_set_str(L, "source", lnuma_clock_source_name(c->source));
  lnb_set_int(L, "hz", (lua_Integer)c->hz);
  lnb_set_str(L, "frequency_source", lnuma_clock_freq_method_name(c->freq_method));
  lnb_set_bool(L, "invariant", c->invariant);
  lnb_set_str(L, "invariant_from", c->invariant_from);
  if (c->nominal_hz != 0) lnb_set_int(L, "nominal_hz", (lua_Integer)c->nominal_hz);
  if (c->error_ppm >= 0) lnb_set_num(L, "error_ppm", c->error_ppm);
  if (c->calibrated_ns > 0) lnb_set_int(L, "calibration_ns", c->calibrated_ns);
  lnb_set_num(L, "cost_c_ns", c->cost_ns);
  lnb_set_num(L, "resolution_ns", c->resolution_ns);
  lnb_set_bool(L, "rdtscp", c->has_rdtscp);
  lnb_set_str(L, "reason", c->reason);
  lnb_set_int(L, "recalibrations", (lua_Integer)c->recalibrations);
  char cs[64];
  if (lnuma_kernel_clocksource(cs, sizeof cs, NULL) == 0) lnb_set_str(L, "kernel_clocksource", cs);
  lnb_set_str(L, "unit", "ns");
}

static int clock_info(lua_State *L) {
  push_info(L, &process_clock);
  return 1;
}

/* calibrate{duration = ns} -> error_ppm, info */
static int clock_calibrate(lua_State *L) {
  static const char *const known[] = {"duration", NULL};
  lnuma_clock *c = &process_clock;
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

void lnuma_open_clock(lua_State *L, int ctx) {
  lua_createtable(L, 0, (int)(sizeof clock_funcs / sizeof clock_funcs[0]) + 4);
  lua_pushvalue(L, ctx);
  luaL_setfuncs(L, clock_funcs, 1);
#if LNUMA_CLOCK_INLINE_COUNTER && defined(__x86_64__)
  if (lnb_process_clock()->source == LNUMA_CLOCK_TSC) {
    lua_pushcfunction(L, clock_now_tsc);
    lua_setfield(L, -2, "now");
  }
#endif
  lnuma_open_clock_sync(L, ctx);
  lua_setfield(L, -2, "clock");
}
