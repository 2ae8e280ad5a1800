/* lnuma.core.clock.skew / drift / recalibrate: the bindings of
 * lnuma/clock_sync.h.  Results are raw (ticks, ns); lua/lnuma/clock_sync.lua
 * turns them into reports.  Every function has the state's context as
 * upvalue 1 (binding.h): the clock to measure, and the state's recalibrator. */
#include <errno.h>
#include <string.h>

#include "binding.h"

/* An option in [lo, hi] (def when absent), named in the error. */
static lua_Integer opt_range(lua_State *L, const char *key, lua_Integer def, lua_Integer lo,
                             lua_Integer hi, const char *unit) {
  lua_Integer v = def;
  if (lnb_field_integer(L, 1, key, &v) && (v < lo || v > hi))
    lnb_opterror(L, 1, key, "must be between %I and %I%s, got %I", lo, hi, unit, v);
  return v;
}

static void push_matrix(lua_State *L, const lnuma_skew_cell *cells, int n, size_t field) {
  lua_createtable(L, n, 0);
  for (int a = 0; a < n; a++) {
    lua_createtable(L, n, 0);
    for (int b = 0; b < n; b++) {
      const char *cell = (const char *)&cells[(size_t)a * (size_t)n + (size_t)b];
      int64_t v;
      memcpy(&v, cell + field, sizeof v);
      lua_pushinteger(L, (lua_Integer)v);
      lua_rawseti(L, -2, b + 1);
    }
    lua_rawseti(L, -2, a + 1);
  }
}

/* skew{cpus = set (2..256 CPUs), tries = 1..100000} -> {cpus, lo_ticks,
 * hi_ticks, rtt_ticks, rtt_median_ticks (n x n, [a][b]: counter(b) -
 * counter(a) measured from a), threads}. */
static int cs_skew(lua_State *L) {
  static const char *const keys[] = {"cpus", "tries", NULL};
  lnb_check_options(L, 1, keys, 0);
  lnuma_set set;
  if (!lnb_field_set(L, 1, "cpus", &set)) lnb_opterror(L, 1, "cpus", "required");
  int n = lnuma_set_count(&set);
  if (n < 2 || n > LNUMA_SKEW_MAX_CPUS)
    lnb_opterror(L, 1, "cpus", "2 to %d CPUs, not %d", LNUMA_SKEW_MAX_CPUS, n);
  lnuma_skew_params p;
  memset(&p, 0, sizeof p);
  p.n = n;
  p.tries = (int)opt_range(L, "tries", 1000, 1, LNUMA_SKEW_MAX_TRIES, "");
  p.clock = lnb_context_up(L)->clock;
  /* Scratch held by userdata on the stack: freed even if an error unwinds. */
  int *cpus = lua_newuserdatauv(L, (size_t)n * sizeof *cpus, 0);
  for (int i = 0, c = lnuma_set_next(&set, -1); i < n; i++, c = lnuma_set_next(&set, c))
    cpus[i] = c;
  p.cpus = cpus;
  lnuma_skew_result r;
  r.cells = lua_newuserdatauv(L, (size_t)n * (size_t)n * sizeof *r.cells, 0);
  r.threads = lua_newuserdatauv(L, (size_t)n * sizeof *r.threads, 0);
  lnuma_error err;
  if (lnuma_clock_skew(&p, &r, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, 6);
  lnb_push_set(L, &set);
  lua_setfield(L, -2, "cpus");
  push_matrix(L, r.cells, n, offsetof(lnuma_skew_cell, lo_ticks));
  lua_setfield(L, -2, "lo_ticks");
  push_matrix(L, r.cells, n, offsetof(lnuma_skew_cell, hi_ticks));
  lua_setfield(L, -2, "hi_ticks");
  push_matrix(L, r.cells, n, offsetof(lnuma_skew_cell, rtt_ticks));
  lua_setfield(L, -2, "rtt_ticks");
  push_matrix(L, r.cells, n, offsetof(lnuma_skew_cell, rtt_median_ticks));
  lua_setfield(L, -2, "rtt_median_ticks");
  lnb_push_threads(L, r.threads, n);
  lua_setfield(L, -2, "threads");
  return 1;
}

/* drift{duration = ns (1 ms .. 1 h), samples, threshold = ns} -> fields of
 * lnuma_drift_result. */
static int cs_drift(lua_State *L) {
  static const char *const keys[] = {"duration", "samples", "threshold", NULL};
  lnb_check_options(L, 1, keys, 1);
  lua_Integer duration = opt_range(L, "duration", 1000000000, LNUMA_DRIFT_MIN_NS,
                                   LNUMA_DRIFT_MAX_NS, " ns (1 ms .. 1 h)");
  lua_Integer most = duration / 100000 + 1;
  if (most > LNUMA_DRIFT_MAX_SAMPLES) most = LNUMA_DRIFT_MAX_SAMPLES;
  lua_Integer samples = opt_range(L, "samples", most < 21 ? most : 21, 2, most,
                                  " (one per 100 us of duration at most)");
  lua_Integer threshold = opt_range(L, "threshold", 1000, 1, LUA_MAXINTEGER, " ns");
  lnuma_drift_result r;
  lnuma_error err;
  if (lnuma_clock_drift(lnb_context_up(L)->clock, duration, (int)samples, threshold, &r,
                        &err) != 0)
    return lnb_fail(L, &err);
  lua_createtable(L, 0, 10);
  lnb_set_num(L, "drift_ppm", r.drift_ppm);
  lnb_set_num(L, "uncertainty_ppm", r.uncertainty_ppm);
  lnb_set_int(L, "error_ns", r.error_ns);
  lnb_set_num(L, "error_uncertainty_ns", r.error_uncertainty_ns);
  lnb_set_num(L, "residual_ns", r.residual_ns);
  lnb_set_int(L, "duration_ns", r.duration_ns);
  lnb_set_int(L, "samples", r.samples);
  lnb_set_int(L, "threshold_ns", r.threshold_ns);
  if (r.recalibrate_after_ns >= 0) lnb_set_int(L, "recalibrate_after_ns", r.recalibrate_after_ns);
  return 1;
}

static void push_status(lua_State *L, lnuma_clock_recalibrator *rc) {
  lnuma_recalibration_status st;
  lnuma_clock_recalibrate_status(rc, &st);
  lua_createtable(L, 0, 6);
  lnb_set_int(L, "every_ns", st.every_ns);
  lnb_set_int(L, "count", (lua_Integer)st.count);
  lnb_set_int(L, "steps", (lua_Integer)st.steps);
  if (st.count > 0) {
    lnb_set_int(L, "last_at_ns", st.last_at_ns);
    lnb_set_int(L, "last_error_ns", st.last_error_ns);
    lnb_set_num(L, "last_drift_ppm", st.last_drift_ppm);
  }
}

/* recalibrate{every = ns} starts (or restarts with a new period) this
 * state's background recalibration; recalibrate{stop = true} stops it.
 * Returns the status (after a stop: the last one), or nil when none ran. */
static int cs_recalibrate(lua_State *L) {
  static const char *const keys[] = {"every", "stop", NULL};
  lnb_check_options(L, 1, keys, 0);
  int stop = 0;
  lnb_field_boolean(L, 1, "stop", &stop);
  lua_Integer every = 0;
  int has_every = lnb_field_integer(L, 1, "every", &every);
  if (stop && has_every) lnb_opterror(L, 1, "stop", "give either every or stop, not both");
  if (!stop && !has_every) lnb_opterror(L, 1, "every", "required (ns between recalibrations)");
  if (has_every && (every < LNUMA_RECALIBRATE_MIN_NS || every > LNUMA_RECALIBRATE_MAX_NS))
    lnb_opterror(L, 1, "every", "must be between %I and %I ns (10 ms .. 1 day), got %I",
                 (lua_Integer)LNUMA_RECALIBRATE_MIN_NS, (lua_Integer)LNUMA_RECALIBRATE_MAX_NS,
                 every);
  lnb_context *ctx = lnb_context_up(L);
  lnuma_clock_recalibrator *old = ctx->recal;
  ctx->recal = NULL;
  if (old != NULL) push_status(L, old);
  else lua_pushnil(L);
  lnuma_clock_recalibrate_stop(old);
  if (stop) return 1;
  lua_pop(L, 1);
  lnuma_error err;
  ctx->recal = lnuma_clock_recalibrate_start(lnb_process_clock(), every, &err);
  if (ctx->recal == NULL) return lnb_fail(L, &err);
  push_status(L, ctx->recal);
  return 1;
}

/* recalibration() -> the status of this state's recalibration, or nil. */
static int cs_recalibration(lua_State *L) {
  lnb_context *ctx = lnb_context_up(L);
  if (ctx->recal == NULL) return 0;
  push_status(L, ctx->recal);
  return 1;
}

/* Registers into the clock table at -1 (lnuma_open_clock calls it). */
void lnuma_open_clock_sync(lua_State *L, int ctx) {
  static const luaL_Reg funcs[] = {
      {"skew", cs_skew},
      {"drift", cs_drift},
      {"recalibrate", cs_recalibrate},
      {"recalibration", cs_recalibration},
      {NULL, NULL},
  };
  lua_pushvalue(L, ctx);
  luaL_setfuncs(L, funcs, 1);
}
