/* make bench: the clock and the histogram, measured in one run as ratios.
 *
 *  - lnuma_clock_now() from C / a bare rdtsc                (target <= 1.2)
 *  - lnuma.clock.now() from Lua / a C function that returns a bare rdtsc,
 *    called the same way (goal <= 1.2, issue 14): the median of paired
 *    rounds (each round times both, back to back, in alternating order)
 *  - lnuma.clock.now() from Lua / a no-op C function from Lua (target <= 1.3;
 *    where the counter read costs more than a C call, out of reach)
 *  - error of the clock's start-up calibration against CLOCK_MONOTONIC_RAW
 *    over 1 s, and the error lnuma_clock_calibrate() estimates for 1 s
 *  - ns per lnuma_histogram_record() from C and per h:record(v) from Lua
 *  - ns per start()+stop() pair, with the stop the clock chose and with the
 *    fenced rdtsc used where RDTSCP is missing (what RDTSCP saves, if anything)
 *
 * Each figure is the best of several interleaved rounds (the machines are
 * shared: the minimum is the least disturbed).  Lines: "name value unit". */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h" /* lnuma__clock_init(LNUMA__CLOCK_NO_RDTSCP) */
#include "lnuma.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

int luaopen_lnuma_core(lua_State *L);

#define ROUNDS 7
#define N_CALLS 4000000
/* Lua: many short paired rounds, so that a neighbour's burst hits one
 * round's pair, not one side of the ratio. */
#define LUA_ROUNDS 41
#define LUA_N_CALLS 200000

static double min2(double a, double b) { return a < b ? a : b; }

/* ---- C: now() against a bare counter read --------------------------------- */

static double ns_per_rdtsc(void) {
  volatile uint64_t sink = 0;
  uint64_t acc = 0;
  int64_t t0 = lnuma_monotonic_raw_ns();
#if defined(__x86_64__)
  for (int i = 0; i < N_CALLS; i++) acc += __rdtsc();
#else
  for (int i = 0; i < N_CALLS; i++) acc += (uint64_t)lnuma_monotonic_raw_ns();
#endif
  int64_t t1 = lnuma_monotonic_raw_ns();
  sink = acc;
  (void)sink;
  return (double)(t1 - t0) / N_CALLS;
}

static double ns_per_now(const lnuma_clock *c) {
  volatile int64_t sink = 0;
  int64_t acc = 0;
  int64_t t0 = lnuma_monotonic_raw_ns();
  for (int i = 0; i < N_CALLS; i++) acc += lnuma_clock_now(c);
  int64_t t1 = lnuma_monotonic_raw_ns();
  sink = acc;
  (void)sink;
  return (double)(t1 - t0) / N_CALLS;
}

/* One start() and one stop(), back to back: the fences' cost. */
static double ns_per_start_stop(const lnuma_clock *c) {
  volatile uint64_t sink = 0;
  uint64_t acc = 0;
  int64_t t0 = lnuma_monotonic_raw_ns();
  for (int i = 0; i < N_CALLS; i++) {
    uint64_t a = lnuma_clock_start(c);
    acc += lnuma_clock_stop(c) - a;
  }
  int64_t t1 = lnuma_monotonic_raw_ns();
  sink = acc;
  (void)sink;
  return (double)(t1 - t0) / N_CALLS;
}

/* ---- calibration error over 1 s ------------------------------------------- */

/* now() - CLOCK_MONOTONIC_RAW, read as a bracket: raw, now, raw, best of 9. */
static int64_t offset_vs_raw(const lnuma_clock *c) {
  int64_t best_w = INT64_MAX, off = 0;
  for (int i = 0; i < 9; i++) {
    int64_t a = lnuma_monotonic_raw_ns();
    int64_t n = lnuma_clock_now(c);
    int64_t b = lnuma_monotonic_raw_ns();
    if (b - a < best_w) {
      best_w = b - a;
      off = n - (a + (b - a) / 2);
    }
  }
  return off;
}

static double drift_ppm_over(const lnuma_clock *c, int64_t ns) {
  int64_t r0 = lnuma_monotonic_raw_ns();
  int64_t o0 = offset_vs_raw(c);
  lnuma_sleep_ns(ns - 1000000);
  while (lnuma_monotonic_raw_ns() < r0 + ns) {
  }
  int64_t o1 = offset_vs_raw(c);
  int64_t r1 = lnuma_monotonic_raw_ns();
  return (double)(o1 - o0) / (double)(r1 - r0) * 1e6;
}

/* ---- histogram record from C ---------------------------------------------- */

static double ns_per_record_c(lnuma_histogram *h) {
  /* values spread over 1 .. 2^20 so that many buckets are touched */
  uint64_t x = 88172645463325252u;
  int64_t t0 = lnuma_monotonic_raw_ns();
  for (int i = 0; i < N_CALLS; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    lnuma_histogram_record(h, (int64_t)(x & 0xfffff) + 1, 1);
  }
  int64_t t1 = lnuma_monotonic_raw_ns();
  return (double)(t1 - t0) / N_CALLS;
}

static double ns_per_xorshift(void) {
  volatile uint64_t sink;
  uint64_t x = 88172645463325252u, acc = 0;
  int64_t t0 = lnuma_monotonic_raw_ns();
  for (int i = 0; i < N_CALLS; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    acc += (x & 0xfffff) + 1;
  }
  int64_t t1 = lnuma_monotonic_raw_ns();
  sink = acc;
  (void)sink;
  return (double)(t1 - t0) / N_CALLS;
}

/* ---- Lua ------------------------------------------------------------------ */

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* The floor for now() from Lua: a C function that reads the counter and
 * pushes it, with no state at all (what now() would be with a global). */
static int bare_counter(lua_State *L) {
#if defined(__x86_64__)
  lua_pushinteger(L, (lua_Integer)__rdtsc());
#else
  lua_pushinteger(L, (lua_Integer)lnuma_monotonic_raw_ns());
#endif
  return 1;
}

/* Runs in the Lua state: returns ns per iteration of loops calling now(),
 * the no-op C function, nothing, and h:record(i) -- best of ROUNDS each,
 * interleaved. */
static const char *lua_loops =
    "local now, noop, bare, n, rounds = ...\n"
    "local lnuma = require 'lnuma'\n"
    "local h = lnuma.histogram{lowest = 1, highest = 3600000000000, precision = 3}\n"
    "local best = {now = math.huge, noop = math.huge, empty = math.huge, record = math.huge,\n"
    "              bare = math.huge}\n"
    "local raw = lnuma.clock.monotonic_raw\n"
    "local function loop(f) local t0 = raw(); for _ = 1, n do f() end; return (raw() - t0) / n end\n"
    "local ratios = {}\n"
    "for r = 1, rounds do\n"
    "  local a, b\n"
    "  if r % 2 == 1 then a = loop(now); b = loop(bare) else b = loop(bare); a = loop(now) end\n"
    "  ratios[r] = a / b\n"
    "  if a < best.now then best.now = a end\n"
    "  if b < best.bare then best.bare = b end\n"
    "  local t = loop(noop)\n"
    "  if t < best.noop then best.noop = t end\n"
    "  local t0 = raw(); for _ = 1, n do end; t = (raw() - t0) / n\n"
    "  if t < best.empty then best.empty = t end\n"
    "  t0 = raw(); for i = 1, n do h:record(i) end; t = (raw() - t0) / n\n"
    "  if t < best.record then best.record = t end\n"
    "end\n"
    "table.sort(ratios)\n"
    "return best.now, best.noop, best.empty, best.record, best.bare,\n"
    "       lnuma.clock.info().source, ratios[(rounds + 1) // 2], ratios[1], ratios[rounds]\n";

int main(void) {
  lnuma_clock c;
  lnuma_error err;
  if (lnuma_clock_init(&c, LNUMA_CLOCK_AUTO, &err) != 0) {
    fprintf(stderr, "clock: %s\n", err.msg);
    return 1;
  }
  printf("clock.source %s\n", lnuma_clock_source_name(c.source));
  printf("clock.frequency_source %s\n", lnuma_clock_freq_method_name(c.freq_method));
  printf("clock.hz %llu Hz\n", (unsigned long long)c.hz);

  /* calibration first, while the machine is quiet from our side */
  double init_drift = drift_ppm_over(&c, 1000000000);
  printf("clock.init_calibration_error_1s %.3f ppm (start-up calibration, %lld ns, vs "
         "CLOCK_MONOTONIC_RAW over 1 s)\n",
         init_drift, (long long)c.calibrated_ns);
  double est = 0;
  lnuma_clock cal = c;
  if (lnuma_clock_calibrate(&cal, 1000000000, &est, &err) == 0)
    printf("clock.calibrate_1s_estimated_error %.3f ppm\n", est);
  printf("clock.calibrate_1s_error_next_1s %.3f ppm\n", drift_ppm_over(&cal, 1000000000));

  double rdtsc = 1e30, now = 1e30;
  for (int r = 0; r < ROUNDS; r++) {
    rdtsc = min2(rdtsc, ns_per_rdtsc());
    now = min2(now, ns_per_now(&c));
  }
  printf("clock.c_rdtsc %.2f ns\n", rdtsc);
  printf("clock.c_now %.2f ns\n", now);
  printf("clock.c_now_over_rdtsc %.3f ratio (target <= 1.2)\n", now / rdtsc);

  lnuma_clock fenced;
  if (lnuma__clock_init(&fenced, LNUMA_CLOCK_AUTO, LNUMA__CLOCK_NO_RDTSCP, &err) != 0) {
    fprintf(stderr, "clock: %s\n", err.msg);
    return 1;
  }
  double pair = 1e30, pair_fenced = 1e30;
  for (int r = 0; r < ROUNDS; r++) {
    pair = min2(pair, ns_per_start_stop(&c));
    pair_fenced = min2(pair_fenced, ns_per_start_stop(&fenced));
  }
  printf("clock.c_start_stop %.2f ns (stop with %s)\n", pair,
         c.has_rdtscp ? "rdtscp; lfence" : "lfence; rdtsc; lfence");
  printf("clock.c_start_stop_fenced %.2f ns (stop with lfence; rdtsc; lfence)\n", pair_fenced);
  printf("clock.c_start_stop_over_fenced %.3f ratio\n", pair / pair_fenced);

  lnuma_histogram *h = lnuma_histogram_new(1, INT64_C(3600000000000), 3, &err);
  if (h == NULL) {
    fprintf(stderr, "histogram: %s\n", err.msg);
    return 1;
  }
  double rec = 1e30, gen = 1e30;
  for (int r = 0; r < ROUNDS; r++) {
    rec = min2(rec, ns_per_record_c(h));
    gen = min2(gen, ns_per_xorshift());
  }
  lnuma_histogram_free(h);
  printf("histogram.c_record %.2f ns (%.2f ns with its xorshift value generator)\n",
         rec - gen, rec);

  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "lnuma.core", luaopen_lnuma_core, 0);
  lua_getfield(L, -1, "clock");
  lua_getfield(L, -1, "now");
  lua_remove(L, -2);
  lua_remove(L, -2);
  if (luaL_loadstring(L, lua_loops) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    return 1;
  }
  lua_insert(L, -2);
  lua_pushcfunction(L, noop);
  lua_pushcfunction(L, bare_counter);
  lua_pushinteger(L, LUA_N_CALLS);
  lua_pushinteger(L, LUA_ROUNDS);
  if (lua_pcall(L, 5, 9, 0) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    return 1;
  }
  double lnow = lua_tonumber(L, -9), lnoop = lua_tonumber(L, -8), lempty = lua_tonumber(L, -7);
  double lrec = lua_tonumber(L, -6), lbare = lua_tonumber(L, -5);
  double rmed = lua_tonumber(L, -3), rlo = lua_tonumber(L, -2), rhi = lua_tonumber(L, -1);
  printf("clock.lua_source %s\n", lua_tostring(L, -4));
  printf("clock.lua_now_over_bare_rdtsc %.3f ratio (goal <= 1.2; lnuma.clock.now() / a C "
         "function returning a bare rdtsc, called the same way: median of %d paired rounds "
         "of %d calls, range %.3f .. %.3f)\n",
         rmed, LUA_ROUNDS, LUA_N_CALLS, rlo, rhi);
  printf("clock.lua_empty_loop %.2f ns per iteration\n", lempty);
  printf("clock.lua_noop %.2f ns per call (loop included)\n", lnoop);
  printf("clock.lua_now %.2f ns per call (loop included)\n", lnow);
  printf("clock.lua_now_over_noop %.3f ratio (target <= 1.3)\n", lnow / lnoop);
  printf("clock.lua_bare_counter %.2f ns per call of a stateless C function that only "
         "reads the counter (the floor)\n", lbare);
  printf("clock.lua_bare_counter_over_noop %.3f ratio (what the counter read alone costs)\n",
         lbare / lnoop);
  printf("clock.lua_now_over_bare_counter %.3f ratio (the best rounds of each side)\n",
         lnow / lbare);
  printf("clock.lua_now_over_noop_net %.3f ratio (empty loop subtracted from both)\n",
         (lnow - lempty) / (lnoop - lempty));
  printf("histogram.lua_record %.2f ns per h:record(i) (loop included; %.2f net)\n", lrec,
         lrec - lempty);
  lua_close(L);
  return 0;
}
