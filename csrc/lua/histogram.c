/* lnuma.histogram{lowest =, highest =, precision =, unit =}: userdata
 * "lnuma.Histogram" over the core's log-linear histogram.
 *
 * The histogram lives inside the userdata (lnuma_histogram_init_at), so it
 * owns no other resource and needs no __gc.  Methods receive the metatable
 * as upvalue 1 and check their self against it with one rawequal: the hot
 * method record() looks nothing up in the registry. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "buffer.h" /* record_many reads buffers */

#define HIST_NAME "lnuma.Histogram"
#define META_UV lua_upvalueindex(1)

/* Defaults: 1 ns .. 1 hour in ns, 3 significant digits. */
#define DEFAULT_LOWEST 1
#define DEFAULT_HIGHEST INT64_C(3600000000000)
#define DEFAULT_PRECISION 3

static lnuma_histogram *check_hist(lua_State *L, int arg) {
  void *p = lua_touserdata(L, arg);
  if (p != NULL && lua_getmetatable(L, arg)) {
    int ok = lua_rawequal(L, -1, META_UV);
    lua_pop(L, 1);
    if (ok) return p;
  }
  luaL_typeerror(L, arg, HIST_NAME);
  return NULL;
}

static int hist_new(lua_State *L) {
  static const char *const known[] = {"lowest", "highest", "precision", "unit", NULL};
  lua_Integer lowest = DEFAULT_LOWEST, highest = DEFAULT_HIGHEST, precision = DEFAULT_PRECISION;
  lnb_check_options(L, 1, known, 1);
  int has_lowest = lnb_field_integer(L, 1, "lowest", &lowest);
  lnb_field_integer(L, 1, "highest", &highest);
  lnb_field_integer(L, 1, "precision", &precision);
  char unit[128];
  if (!lnb_field_text(L, 1, "unit", unit, sizeof unit)) strcpy(unit, "ns");
  if (precision < 1 || precision > 5)
    return lnb_opterror(L, 1, "precision", "%I is outside 1..5", precision);
  if (lowest < 1) return lnb_opterror(L, 1, "lowest", "%I must be at least 1", lowest);
  if (lowest >= highest && has_lowest)
    return lnb_opterror(L, 1, "lowest", "%I must be below highest (%I)", lowest, highest);
  if (lowest >= highest)
    return lnb_opterror(L, 1, "highest", "%I must be above lowest (%I)", highest, lowest);
  lnuma_error err;
  size_t size = lnuma_histogram_footprint(lowest, highest, (int)precision, &err);
  if (size == 0) return lnb_opterror(L, 1, "lowest", "%s", err.msg);
  void *mem = lua_newuserdatauv(L, size, 1);
  if (lnuma_histogram_init_at(mem, size, lowest, highest, (int)precision, &err) == NULL)
    return luaL_error(L, "%s", err.msg);
  lua_pushstring(L, unit);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  return 1;
}

/* h:record(value [, count]) -- the hot method: as few API calls as can be.
 * A count that would take the histogram past INT64_MAX values is refused
 * whole (see lnuma/histogram.h). */
static int h_record(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  int isint;
  lua_Integer v = lua_tointegerx(L, 2, &isint);
  if (!isint) v = luaL_checkinteger(L, 2); /* raises, naming the argument */
  lua_Integer n = 1;
  if (lua_gettop(L) >= 3 && !lua_isnil(L, 3)) {
    n = luaL_checkinteger(L, 3);
    luaL_argcheck(L, n >= 1, 3, "count must be at least 1");
  }
  if (lnuma_histogram_record(h, v, n) != 0) {
    lua_pushfstring(L, "count: %I more values would take the histogram (%I values) past its "
                    "limit of %I", n, (lua_Integer)lnuma_histogram_count(h),
                    (lua_Integer)INT64_MAX);
    return luaL_argerror(L, 3, lua_tostring(L, -1));
  }
  return 0;
}

/* h:record_corrected(value, expected_interval [, count]): h:record(value,
 * count) plus the values a loop stalled by value did not take (see
 * lnuma_histogram_record_corrected). */
static int h_record_corrected(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  lua_Integer v = luaL_checkinteger(L, 2);
  lua_Integer step = luaL_checkinteger(L, 3);
  luaL_argcheck(L, step >= 0, 3, "expected_interval must be at least 0 (0: no correction)");
  lua_Integer n = luaL_optinteger(L, 4, 1);
  luaL_argcheck(L, n >= 1, 4, "count must be at least 1");
  if (lnuma_histogram_record_corrected(h, v, n, step) != 0) {
    lua_pushfstring(L, "count: %I values, each with those the interval adds, would take the "
                    "histogram (%I values) past its limit of %I", n,
                    (lua_Integer)lnuma_histogram_count(h), (lua_Integer)INT64_MAX);
    return luaL_argerror(L, 4, lua_tostring(L, -1));
  }
  return 0;
}

/* h:record_many(buf, kind [, first [, n]]) records n integer elements of
 * buf (default: all from first) in one C loop, as h:record(buf:get(kind, i))
 * would one by one; all of them or, on error, none. */
static int h_record_many(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  int kind = lnb_check_kind(L, 3);
  if (lnuma_kind_is_float((lnuma_kind)kind))
    luaL_argerror(L, 3, "kind must be an integer kind (u8 .. i64): a histogram records integers");
  lnb_elems e;
  lnb_read_elems(L, 4, &e);
  lnb_buffer *b = lnb_check_live_buffer(L, 2); /* after the arguments */
  const char *p = lnb_elems_at(L, b, kind, 3, 4, &e);
  lnuma_error err;
  if (lnuma_histogram_record_many(h, p, (lnuma_kind)kind, e.n, &err) != 0) {
    lua_pushfstring(L, "n: %s", err.msg);
    return luaL_argerror(L, 5, lua_tostring(L, -1));
  }
  return 0;
}

static int h_count(lua_State *L) {
  lua_pushinteger(L, lnuma_histogram_count(check_hist(L, 1)));
  return 1;
}

static int h_underflow(lua_State *L) {
  lua_pushinteger(L, lnuma_histogram_underflow(check_hist(L, 1)));
  return 1;
}

static int h_overflow(lua_State *L) {
  lua_pushinteger(L, lnuma_histogram_overflow(check_hist(L, 1)));
  return 1;
}

/* min, max, mean, stddev: nil when empty. */
static int push_nil(lua_State *L) {
  lua_pushnil(L);
  return 1;
}

static int h_min(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  if (lnuma_histogram_count(h) == 0) return push_nil(L);
  lua_pushinteger(L, lnuma_histogram_min(h));
  return 1;
}

static int h_max(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  if (lnuma_histogram_count(h) == 0) return push_nil(L);
  lua_pushinteger(L, lnuma_histogram_max(h));
  return 1;
}

static int h_mean(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  if (lnuma_histogram_count(h) == 0) return push_nil(L);
  lua_pushnumber(L, lnuma_histogram_mean(h));
  return 1;
}

static int h_stddev(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  if (lnuma_histogram_count(h) == 0) return push_nil(L);
  lua_pushnumber(L, lnuma_histogram_stddev(h));
  return 1;
}

static double check_percentile(lua_State *L, int idx, int arg) {
  int isnum = 0;
  lua_Number p = lua_tonumberx(L, idx, &isnum);
  if (!isnum || lua_type(L, idx) != LUA_TNUMBER) {
    lua_pushfstring(L, "percentile must be a number, got %s", luaL_typename(L, idx));
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  if (!(p >= 0 && p <= 100)) {
    lua_pushfstring(L, "percentile %f is outside 0..100", p);
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  return (double)p;
}

/* h:percentile(p) -> value, or nil when the histogram is empty */
static int h_percentile(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  double p = check_percentile(L, 2, 2);
  int64_t v;
  if (lnuma_histogram_percentile(h, p, &v, NULL) != 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushinteger(L, v);
  return 1;
}

/* At most this many percentiles in one call. */
#define MAX_PERCENTILES 100000

/* h:percentiles{50, 99, 99.9} -> {[50] = v, [99] = v, [99.9] = v} (empty
 * table when the histogram is empty).  The array is copied first when it has a
 * metatable, then read raw (binding.h). */
static int h_percentiles(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = lnb_array(L, 2, 2, "percentiles", MAX_PERCENTILES);
  luaL_argcheck(L, n >= 1, 2, "expected a non-empty array of percentiles");
  double *ps = lua_newuserdatauv(L, (size_t)n * (sizeof(double) + sizeof(int64_t)), 0);
  int64_t *out = (int64_t *)(ps + n);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    ps[i - 1] = check_percentile(L, -1, 2);
    lua_pop(L, 1);
  }
  lua_createtable(L, 0, (int)n);
  if (lnuma_histogram_percentiles(h, ps, out, (size_t)n, NULL) == 0)
    for (lua_Integer i = 0; i < n; i++) {
      lua_pushnumber(L, ps[i]); /* an integral float key is stored as the integer */
      lua_pushinteger(L, out[i]);
      lua_rawset(L, -3);
    }
  return 1;
}

static int h_merge(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  lnuma_histogram *o = check_hist(L, 2);
  lnuma_error err;
  if (lnuma_histogram_merge(h, o, &err) != 0) return luaL_argerror(L, 2, err.msg);
  lua_settop(L, 1);
  return 1;
}

static int h_reset(lua_State *L) {
  lnuma_histogram_reset(check_hist(L, 1));
  lua_settop(L, 1);
  return 1;
}

/* for lowest, highest, count in h:buckets() do ... end (non-empty buckets in
 * ascending order; cursor kept in upvalue 2 of the iterator) */
static int buckets_iter(lua_State *L) {
  lnuma_histogram *h = lua_touserdata(L, lua_upvalueindex(1));
  lnuma_histogram_bucket b;
  b.cursor = (size_t)lua_tointeger(L, lua_upvalueindex(2));
  b.cumulative = lua_tointeger(L, lua_upvalueindex(3));
  if (!lnuma_histogram_next(h, &b)) return 0;
  lua_pushinteger(L, (lua_Integer)b.cursor);
  lua_replace(L, lua_upvalueindex(2));
  lua_pushinteger(L, b.cumulative);
  lua_replace(L, lua_upvalueindex(3));
  lua_pushinteger(L, b.lowest);
  lua_pushinteger(L, b.highest);
  lua_pushinteger(L, b.count);
  return 3;
}

static int h_buckets(lua_State *L) {
  check_hist(L, 1);
  lua_settop(L, 1);
  lua_pushinteger(L, 0);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, buckets_iter, 3);
  return 1;
}

static const double export_ps[] = {50, 90, 99, 99.9, 99.99, 100};
#define N_EXPORT_PS (sizeof export_ps / sizeof export_ps[0])

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* h:export() -> a plain table (JSON-ready) */
static int h_export(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  int64_t n = lnuma_histogram_count(h);
  lua_createtable(L, 0, 14);
  lua_getiuservalue(L, 1, 1);
  lua_setfield(L, -2, "unit");
  set_int(L, "lowest", lnuma_histogram_lowest(h));
  set_int(L, "highest", lnuma_histogram_highest(h));
  set_int(L, "precision", lnuma_histogram_precision(h));
  set_int(L, "count", n);
  set_int(L, "underflow", lnuma_histogram_underflow(h));
  set_int(L, "overflow", lnuma_histogram_overflow(h));
  int64_t out[N_EXPORT_PS];
  int have = n > 0 && lnuma_histogram_percentiles(h, export_ps, out, N_EXPORT_PS, NULL) == 0;
  if (n > 0) {
    set_int(L, "min", lnuma_histogram_min(h));
    set_int(L, "max", lnuma_histogram_max(h));
    lua_pushnumber(L, lnuma_histogram_mean(h));
    lua_setfield(L, -2, "mean");
    lua_pushnumber(L, lnuma_histogram_stddev(h));
    lua_setfield(L, -2, "stddev");
  }
  lua_createtable(L, have ? (int)N_EXPORT_PS : 0, 0);
  for (size_t i = 0; have && i < N_EXPORT_PS; i++) {
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, export_ps[i]);
    lua_setfield(L, -2, "percentile");
    set_int(L, "value", out[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "percentiles");
  lua_newtable(L);
  lnuma_histogram_bucket b = {0};
  for (lua_Integer k = 1; lnuma_histogram_next(h, &b); k++) {
    lua_createtable(L, 0, 3);
    set_int(L, "lowest", b.lowest);
    set_int(L, "highest", b.highest);
    set_int(L, "count", b.count);
    lua_rawseti(L, -2, k);
  }
  lua_setfield(L, -2, "buckets");
  return 1;
}

static int h_tostring(lua_State *L) {
  lnuma_histogram *h = check_hist(L, 1);
  int64_t n = lnuma_histogram_count(h);
  lua_getiuservalue(L, 1, 1);
  const char *unit = lua_tostring(L, -1);
  if (n == 0) {
    lua_pushfstring(L, HIST_NAME " (empty, %I..%I %s, precision %d)",
                    (lua_Integer)lnuma_histogram_lowest(h), (lua_Integer)lnuma_histogram_highest(h),
                    unit, lnuma_histogram_precision(h));
    return 1;
  }
  static const double ps[] = {50, 99, 99.9};
  int64_t out[3];
  lnuma_histogram_percentiles(h, ps, out, 3, NULL);
  lua_pushfstring(L,
                  HIST_NAME " (count %I, min %I, p50 %I, p99 %I, p99.9 %I, max %I %s, "
                            "underflow %I, overflow %I)",
                  (lua_Integer)n, (lua_Integer)lnuma_histogram_min(h), (lua_Integer)out[0],
                  (lua_Integer)out[1], (lua_Integer)out[2], (lua_Integer)lnuma_histogram_max(h),
                  unit, (lua_Integer)lnuma_histogram_underflow(h),
                  (lua_Integer)lnuma_histogram_overflow(h));
  return 1;
}

static const luaL_Reg methods[] = {
    {"record", h_record},       {"record_many", h_record_many}, {"count", h_count},       {"min", h_min},
    {"max", h_max},             {"mean", h_mean},         {"stddev", h_stddev},
    {"record_corrected", h_record_corrected},
    {"percentile", h_percentile}, {"percentiles", h_percentiles}, {"merge", h_merge},
    {"reset", h_reset},         {"buckets", h_buckets},   {"export", h_export},
    {"underflow", h_underflow}, {"overflow", h_overflow}, {NULL, NULL},
};

void lnuma_open_histogram(lua_State *L) {
  luaL_newmetatable(L, HIST_NAME); /* sets __name */
  int mt = lua_gettop(L);
  lua_newtable(L);
  lua_pushvalue(L, mt);
  luaL_setfuncs(L, methods, 1);
  lua_setfield(L, mt, "__index");
  lua_pushvalue(L, mt);
  lua_pushcclosure(L, h_tostring, 1);
  lua_setfield(L, mt, "__tostring");
  lua_pushcclosure(L, hist_new, 1); /* consumes the metatable */
  lua_setfield(L, -2, "histogram");
}
