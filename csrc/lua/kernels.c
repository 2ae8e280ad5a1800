/* Bindings of the benchmark kernels: the measurements (bandwidth, latency,
 * loaded latency, core to core) over lnuma buffers, and the small facts and
 * debug hooks the Lua face and the specs use (kernel names, ISAs, the chase
 * order, the c2c schedule and its lines).  Results are raw (times in ns per repetition and
 * thread); lua/lnuma/bench/memory.lua turns them into figures. */
#include <string.h>

#include "buffer.h"

/* Every function here has the state's context (binding.h) as upvalue 1:
 * the clock the kernels are timed with comes from it, handed over by
 * luaopen_lnuma_core. */
static const lnuma_clock *up_clock(lua_State *L) { return lnb_context_up(L)->clock; }

/* ---- arguments --------------------------------------------------------------- */

/* Options are read raw and strings copied (binding.h); the buffers are
 * checked alive after the last allocation before a measurement, and the
 * kernels then run with no Lua in between. */

/* An array of CPU numbers at opts[key] (order kept, 1..cap entries). */
static int field_cpus(lua_State *L, int arg, const char *key, int *out, int cap) {
  int t = lnb_field_push(L, arg, key);
  if (t != LUA_TTABLE) lnb_opterror(L, arg, key, "array of CPUs expected, got %s", lua_typename(L, t));
  lua_Integer n = lnb_array(L, -1, arg, key, cap);
  if (n < 1) lnb_opterror(L, arg, key, "1 to %d CPUs, not %d", cap, (int)n);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    int isint = 0;
    lua_Integer c = lua_tointegerx(L, -1, &isint);
    if (!isint || c < 0 || c >= LNUMA_SET_BITS)
      lnb_opterror(L, arg, key, "element %d is not a CPU number", (int)i);
    out[i - 1] = (int)c;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return (int)n;
}

/* A name at opts[key] looked up with from_name (def when absent). */
static int field_name(lua_State *L, int arg, const char *key, int (*from_name)(const char *),
                      int def) {
  char s[64];
  if (!lnb_field_text(L, arg, key, s, sizeof s)) return def;
  int v = from_name(s);
  if (v < 0) lnb_opterror(L, arg, key, "unknown name '%s'", s);
  return v;
}

static int field_int(lua_State *L, int arg, const char *key, lua_Integer def, lua_Integer lo,
                     lua_Integer hi) {
  lua_Integer v = def;
  lnb_field_integer(L, arg, key, &v);
  if (v < lo || v > hi)
    lnb_opterror(L, arg, key, "must be between %I and %I, got %I", lo, hi, v);
  return (int)v;
}

static uint64_t field_u64(lua_State *L, int arg, const char *key, lua_Integer def,
                          lua_Integer lo) {
  lua_Integer v = def;
  lnb_field_integer(L, arg, key, &v);
  if (v < lo) lnb_opterror(L, arg, key, "must be at least %I, got %I", lo, v);
  return (uint64_t)v;
}

static void read_chase(lua_State *L, int arg, lnuma_chase_params *c) {
  memset(c, 0, sizeof *c);
  c->pattern = field_name(L, arg, "pattern", lnuma_chase_pattern_from_name, LNUMA_CHASE_RANDOM);
  size_t v = 0;
  if (lnb_field_size(L, arg, "line", &v)) c->line = v;
  if (lnb_field_size(L, arg, "stride", &v)) c->stride = v;
  if (c->pattern == LNUMA_CHASE_STRIDE && c->stride == 0)
    lnb_opterror(L, arg, "stride", "the stride pattern needs a stride");
  lua_Integer seed = 0x5eed;
  lnb_field_integer(L, arg, "seed", &seed);
  c->seed = (uint64_t)seed;
}

/* Scratch memory owned by a userdata pushed on the stack (collected even
 * when a later error unwinds). */
static void *scratch(lua_State *L, size_t n) {
  void *p = lua_newuserdatauv(L, n ? n : 1, 0);
  memset(p, 0, n ? n : 1);
  return p;
}

/* ---- pushing results --------------------------------------------------------- */


static void push_u64_array(lua_State *L, const uint64_t *v, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* An array of the names name(i), i = 0 .. n - 1, of those keep(i) accepts
 * (every one when keep is NULL). */
static void push_names(lua_State *L, int n, const char *(*name)(int), int (*keep)(int)) {
  lua_createtable(L, n, 0);
  int k = 0;
  for (int i = 0; i < n; i++)
    if (keep == NULL || keep(i)) {
      lua_pushstring(L, name(i));
      lua_rawseti(L, -2, ++k);
    }
}

/* An array of n arrays of m integers, row-major from v. */
static void push_u64_rows(lua_State *L, const uint64_t *v, size_t n, size_t m) {
  lua_createtable(L, (int)n, 0);
  for (size_t k = 0; k < n; k++) {
    push_u64_array(L, v + k * m, m);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
}

/* ---- measurements --------------------------------------------------------------- */

/* bench_bandwidth(buf, {kernel, isa, order, cpus, repetitions, min_time,
 * first_touch, scalar, trials}) -> {isa, order, passes, thread_bytes, bytes,
 * rep_ns = {{t1..tn}...}, span_ns, threads, trial_ns = {{linear, split,
 * pages}...}, trial_bytes} (the trial fields with order auto and trials > 0) */
static int k_bandwidth(lua_State *L) {
  static const char *const keys[] = {"kernel", "isa", "order", "cpus", "repetitions",
                                     "min_time", "first_touch", "scalar", "trials", NULL};
  luaL_checkudata(L, 1, LNB_BUFFER);
  lnb_check_options(L, 2, keys, 0);
  lnuma_bw_params p;
  memset(&p, 0, sizeof p);
  p.kernel = field_name(L, 2, "kernel", lnuma_kernel_from_name, LNUMA_KERNEL_READ);
  p.isa = field_name(L, 2, "isa", lnuma_isa_from_name, LNUMA_ISA_AUTO);
  p.order = field_name(L, 2, "order", lnuma_order_from_name, LNUMA_ORDER_AUTO);
  int *cpus = scratch(L, LNUMA_TEAM_MAX * sizeof(int));
  p.nthreads = field_cpus(L, 2, "cpus", cpus, LNUMA_TEAM_MAX);
  p.cpus = cpus;
  p.repetitions = field_int(L, 2, "repetitions", 5, 1, 100000);
  p.min_time_ns = field_u64(L, 2, "min_time", 20000000, 0);
  p.first_touch = 1;
  lnb_field_boolean(L, 2, "first_touch", &p.first_touch);
  p.scalar = 3.0;
  lnb_field_number(L, 2, "scalar", &p.scalar);
  p.trials = field_int(L, 2, "trials", 0, 0, LNUMA_BW_TRIALS_MAX);
  int trials = p.order == LNUMA_ORDER_AUTO ? p.trials : 0;
  p.clock = up_clock(L);
  lnuma_bw_result r;
  memset(&r, 0, sizeof r);
  if (trials > 0) r.trial_ns = scratch(L, (size_t)trials * LNUMA_BW_WALKS * sizeof(uint64_t));
  r.rep_ns = scratch(L, (size_t)p.repetitions * (size_t)p.nthreads * sizeof(uint64_t));
  r.span_ns = scratch(L, (size_t)p.repetitions * sizeof(uint64_t));
  r.threads = scratch(L, (size_t)p.nthreads * sizeof(lnuma_team_thread));
  lnb_buffer *b = lnb_check_live_buffer(L, 1); /* nothing allocates from here */
  p.mem = b->ptr;
  p.size = b->len;
  lnuma_error err;
  if (lnuma_bw_measure(&p, &r, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, 8);
  lnb_set_str(L, "isa", lnuma_isa_name(r.isa));
  lnb_set_str(L, "order", lnuma_order_name(r.order));
  lnb_set_int(L, "passes", (lua_Integer)r.passes);
  lnb_set_int(L, "thread_bytes", (lua_Integer)r.thread_bytes);
  lnb_set_int(L, "bytes", (lua_Integer)r.bytes);
  push_u64_rows(L, r.rep_ns, (size_t)p.repetitions, (size_t)p.nthreads);
  lua_setfield(L, -2, "rep_ns");
  push_u64_array(L, r.span_ns, (size_t)p.repetitions);
  lua_setfield(L, -2, "span_ns");
  lnb_push_threads(L, r.threads, p.nthreads);
  lua_setfield(L, -2, "threads");
  if (trials > 0) {
    push_u64_rows(L, r.trial_ns, (size_t)trials, LNUMA_BW_WALKS);
    lua_setfield(L, -2, "trial_ns");
    lnb_set_int(L, "trial_bytes", (lua_Integer)r.trial_bytes);
  }
  return 1;
}

/* bench_latency(buf, {cpu, pattern, line, stride, seed, repetitions, min_time,
 * chunks}) -> {slots, chunk_loads, rep_ns, chunk_ns, chunk_switched, thread} */
static int k_latency(lua_State *L) {
  static const char *const keys[] = {"cpu", "pattern", "line", "stride", "seed",
                                     "repetitions", "min_time", "chunks", NULL};
  luaL_checkudata(L, 1, LNB_BUFFER);
  lnb_check_options(L, 2, keys, 0);
  lnuma_latency_params p;
  memset(&p, 0, sizeof p);
  read_chase(L, 2, &p.chase);
  p.cpu = field_int(L, 2, "cpu", 0, 0, LNUMA_SET_BITS - 1);
  p.repetitions = field_int(L, 2, "repetitions", 5, 1, 100000);
  p.min_time_ns = field_u64(L, 2, "min_time", 20000000, 0);
  p.chunks = field_int(L, 2, "chunks", 32, 1, 100000);
  p.clock = up_clock(L);
  lnuma_latency_result r;
  memset(&r, 0, sizeof r);
  r.rep_ns = scratch(L, (size_t)p.repetitions * sizeof(uint64_t));
  r.chunk_ns = scratch(L, (size_t)p.repetitions * (size_t)p.chunks * sizeof(uint64_t));
  r.chunk_switched = scratch(L, (size_t)p.repetitions * (size_t)p.chunks);
  lnb_buffer *b = lnb_check_live_buffer(L, 1); /* nothing allocates from here */
  p.mem = b->ptr;
  p.size = b->len;
  lnuma_error err;
  if (lnuma_latency_measure(&p, &r, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, 6);
  lnb_set_int(L, "slots", (lua_Integer)r.slots);
  lnb_set_int(L, "chunk_loads", (lua_Integer)r.chunk_loads);
  push_u64_array(L, r.rep_ns, (size_t)p.repetitions);
  lua_setfield(L, -2, "rep_ns");
  push_u64_array(L, r.chunk_ns, (size_t)p.repetitions * (size_t)p.chunks);
  lua_setfield(L, -2, "chunk_ns");
  size_t nchunks = (size_t)p.repetitions * (size_t)p.chunks;
  lua_createtable(L, (int)nchunks, 0);
  for (size_t i = 0; i < nchunks; i++) {
    lua_pushboolean(L, r.chunk_switched[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "chunk_switched");
  lnb_push_thread(L, &r.thread);
  lua_setfield(L, -2, "thread");
  return 1;
}

/* An array of delays in ns at opts.delays (1..1000000 integers >= 0), copied
 * into scratch memory. */
static uint64_t *field_delays(lua_State *L, int arg, int *n) {
  int t = lnb_field_push(L, arg, "delays");
  if (t != LUA_TTABLE)
    lnb_opterror(L, arg, "delays", "array of ns expected, got %s", lua_typename(L, t));
  lua_Integer nd = lnb_array(L, -1, arg, "delays", 1000000);
  if (nd < 1) lnb_opterror(L, arg, "delays", "1 to 1000000 steps, not %I", nd);
  uint64_t *delays = scratch(L, (size_t)nd * sizeof(uint64_t));
  for (lua_Integer i = 1; i <= nd; i++) {
    lua_rawgeti(L, -2, i);
    int isint = 0;
    lua_Integer d = lua_tointegerx(L, -1, &isint);
    if (!isint || d < 0)
      lnb_opterror(L, arg, "delays", "element %I is not an integer number of ns >= 0", i);
    delays[i - 1] = (uint64_t)d;
    lua_pop(L, 1);
  }
  lua_remove(L, -2); /* the delays table; the scratch stays */
  *n = (int)nd;
  return delays;
}

static void push_loaded_step(lua_State *L, const lnuma_loaded_step *st) {
  lua_createtable(L, 0, 16);
  lnb_set_int(L, "delay_ns", (lua_Integer)st->delay_ns);
  lnb_set_int(L, "chase_loads", (lua_Integer)st->chase_loads);
  lnb_set_int(L, "chase_ns", (lua_Integer)st->chase_ns);
  lnb_set_int(L, "chase_offcpu_ns", (lua_Integer)st->chase_offcpu_ns);
  lnb_set_num(L, "latency_ns", st->latency_ns);
  lnb_set_num(L, "chunk_p50_ns", st->chunk_p50_ns);
  lnb_set_num(L, "chunk_p99_ns", st->chunk_p99_ns);
  lnb_set_int(L, "chunks", (lua_Integer)st->chunks);
  lnb_set_int(L, "traffic_bytes", (lua_Integer)st->traffic_bytes);
  lnb_set_num(L, "traffic_gbps", st->traffic_gbps);
  lnb_set_int(L, "traffic_chunks", (lua_Integer)st->traffic_chunks);
  lnb_set_int(L, "delay_total_ns", (lua_Integer)st->delay_total_ns);
  lnb_set_int(L, "delay_p50_ns", (lua_Integer)st->delay_p50_ns);
  lnb_set_int(L, "traffic_offcpu_ns", (lua_Integer)st->traffic_offcpu_ns);
  lnb_set_int(L, "traffic_ns", (lua_Integer)st->traffic_ns);
}

/* bench_loaded(chase_buf, traffic_buf, {cpus, traffic, isa, delays (ns, one per
 * step, in the order run), step_time, pattern, line, stride, seed}) ->
 * {isa, slots, chunk_bytes, steps = {{delay_ns, latency_ns, ...}...}, threads} */
static int k_loaded(lua_State *L) {
  static const char *const keys[] = {"cpus", "traffic", "isa", "delays", "step_time",
                                     "pattern", "line", "stride", "seed", NULL};
  lnb_check_live_buffer(L, 1);
  lnb_check_live_buffer(L, 2);
  lnb_check_options(L, 3, keys, 0);
  /* Every option is copied first: reading them may run metamethods, which
   * may free the buffers; they are checked again below. */
  lnuma_loaded_params p;
  memset(&p, 0, sizeof p);
  read_chase(L, 3, &p.chase);
  int *cpus = scratch(L, LNUMA_TEAM_MAX * sizeof(int));
  p.nthreads = field_cpus(L, 3, "cpus", cpus, LNUMA_TEAM_MAX);
  if (p.nthreads < 2) lnb_opterror(L, 3, "cpus", "a chaser and at least one traffic CPU");
  p.cpus = cpus;
  p.traffic = field_name(L, 3, "traffic", lnuma_traffic_from_name, LNUMA_TRAFFIC_READ);
  p.isa = field_name(L, 3, "isa", lnuma_isa_from_name, LNUMA_ISA_AUTO);
  p.step_ns = field_u64(L, 3, "step_time", 20000000, 1000);
  p.delays_ns = field_delays(L, 3, &p.nsteps);
  p.clock = up_clock(L);
  lnuma_loaded_result r;
  memset(&r, 0, sizeof r);
  r.steps = scratch(L, (size_t)p.nsteps * sizeof *r.steps);
  r.threads = scratch(L, (size_t)p.nthreads * sizeof *r.threads);
  lnb_buffer *chase = lnb_check_live_buffer(L, 1);
  lnb_buffer *traffic = lnb_check_live_buffer(L, 2);
  p.chase_mem = chase->ptr;
  p.chase_size = chase->len;
  p.traffic_mem = traffic->ptr;
  p.traffic_size = traffic->len;
  lnuma_error err;
  if (lnuma_loaded_measure(&p, &r, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, 5);
  lnb_set_str(L, "isa", lnuma_isa_name(r.isa));
  lnb_set_int(L, "slots", (lua_Integer)r.slots);
  lnb_set_int(L, "chunk_bytes", (lua_Integer)r.chunk_bytes);
  lua_createtable(L, p.nsteps, 0);
  for (int i = 0; i < p.nsteps; i++) {
    push_loaded_step(L, &r.steps[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "steps");
  lnb_push_threads(L, r.threads, p.nthreads);
  lua_setfield(L, -2, "threads");
  return 1;
}

/* bench_c2c(buf, {cpus, mode, samples, roundtrips, warmup}) -> {sample_ns =
 * {{ns per sample} per pair}, line_offset = the same shape, rounds, flushed,
 * threads}; pairs in lnuma_c2c_pair_index order.  Every option is read
 * before the buffer is looked at: a metamethod could free it. */
static int k_c2c(lua_State *L) {
  static const char *const keys[] = {"cpus", "mode", "samples", "roundtrips", "warmup", NULL};
  luaL_checkany(L, 1);
  lnb_check_options(L, 2, keys, 0);
  lnuma_c2c_params p;
  memset(&p, 0, sizeof p);
  int *cpus = scratch(L, LNUMA_TEAM_MAX * sizeof(int));
  p.n = field_cpus(L, 2, "cpus", cpus, LNUMA_TEAM_MAX);
  if (p.n < 2) lnb_opterror(L, 2, "cpus", "c2c needs at least two CPUs; %d given", p.n);
  p.cpus = cpus;
  p.mode = field_name(L, 2, "mode", lnuma_c2c_mode_from_name, LNUMA_C2C_PINGPONG);
  p.samples = field_int(L, 2, "samples", 15, 1, 100000);
  p.roundtrips = field_u64(L, 2, "roundtrips", 500, 1);
  p.warmup = field_u64(L, 2, "warmup", 16, 0);
  p.clock = up_clock(L);
  size_t len = lnb_check_live_buffer(L, 1)->len; /* to size the scratch */
  /* Room for every (pair, sample) only when the buffer can hold their lines:
   * otherwise the core refuses before it writes, and one cell will do. */
  size_t need = lnuma_c2c_memory(p.n, p.samples);
  size_t cells = need != 0 && need <= len ? need / LNUMA_C2C_LINE_STRIDE : 1;
  lnuma_c2c_result r;
  memset(&r, 0, sizeof r);
  r.sample_ns = scratch(L, cells * sizeof(uint64_t));
  r.line_offset = scratch(L, cells * sizeof(uint64_t));
  r.threads = scratch(L, (size_t)p.n * sizeof *r.threads);
  /* Allocating may have run a finalizer: check again; nothing allocates
   * from here, and the size is never more than the scratch was made for. */
  lnb_buffer *b = lnb_check_live_buffer(L, 1);
  p.mem = b->ptr;
  p.size = b->len < len ? b->len : len;
  lnuma_error err;
  if (lnuma_c2c_measure(&p, &r, &err) != 0) return lnb_fail(L, &err);
  size_t npairs = (size_t)lnuma_c2c_pairs(p.n), ns = (size_t)p.samples;
  lua_createtable(L, 0, 5);
  push_u64_rows(L, r.sample_ns, npairs, ns);
  lua_setfield(L, -2, "sample_ns");
  push_u64_rows(L, r.line_offset, npairs, ns);
  lua_setfield(L, -2, "line_offset");
  lnb_set_int(L, "rounds", lnuma_c2c_rounds(p.n));
  lnb_set_bool(L, "flushed", r.flushed);
  lnb_push_threads(L, r.threads, p.n);
  lua_setfield(L, -2, "threads");
  return 1;
}

/* ---- facts and debug hooks ------------------------------------------------------- */

/* The ISAs kernel_info lists: the supported ones from C up. */
static int isa_listed(int i) { return i >= LNUMA_ISA_C && lnuma_isa_supported(i); }

/* kernel_info() -> {kernels, isas (supported), best_isa, orders (kernel ->
 * the order AUTO picks here), patterns, chase_block, c2c_modes, traffic (the
 * loaded-latency traffic types: {name, arrays, reads, writes, write_allocate,
 * nontemporal})} */
static int k_info(lua_State *L) {
  lua_createtable(L, 0, 8);
  push_names(L, LNUMA_KERNEL_COUNT, lnuma_kernel_name, NULL);
  lua_setfield(L, -2, "kernels");
  push_names(L, LNUMA_ISA_COUNT, lnuma_isa_name, isa_listed);
  lua_setfield(L, -2, "isas");
  lnb_set_str(L, "best_isa", lnuma_isa_name(lnuma_isa_best()));
  lua_createtable(L, 0, LNUMA_KERNEL_COUNT);
  for (int k = 0; k < LNUMA_KERNEL_COUNT; k++) {
    lua_pushstring(L, lnuma_order_name(lnuma_order_best(k)));
    lua_setfield(L, -2, lnuma_kernel_name(k));
  }
  lua_setfield(L, -2, "orders");
  push_names(L, LNUMA_CHASE_COUNT, lnuma_chase_pattern_name, NULL);
  lua_setfield(L, -2, "patterns");
  lnb_set_int(L, "chase_block", LNUMA_CHASE_BLOCK);
  push_names(L, LNUMA_C2C_MODE_COUNT, lnuma_c2c_mode_name, NULL);
  lua_setfield(L, -2, "c2c_modes");
  lua_createtable(L, LNUMA_TRAFFIC_COUNT, 0);
  for (int t = 0; t < LNUMA_TRAFFIC_COUNT; t++) {
    const lnuma_traffic_info *ti = lnuma_traffic_get(t);
    lua_createtable(L, 0, 6);
    lnb_set_str(L, "name", ti->name);
    lnb_set_int(L, "arrays", ti->arrays);
    lnb_set_int(L, "reads", ti->reads);
    lnb_set_int(L, "writes", ti->writes);
    lnb_set_bool(L, "write_allocate", ti->write_allocate);
    lnb_set_bool(L, "nontemporal", ti->nontemporal);
    lua_rawseti(L, -2, t + 1);
  }
  lua_setfield(L, -2, "traffic");
  return 1;
}

/* chase_order(size, {pattern, line, stride, seed}) -> array of slot indexes in
 * the order the chase visits them, starting at slot 0 (for tests). */
static int k_chase_order(lua_State *L) {
  static const char *const keys[] = {"pattern", "line", "stride", "seed", NULL};
  size_t size = lnb_to_size(L, 1, 1, "size");
  luaL_argcheck(L, size <= ((size_t)64 << 20), 1, "at most 64 MiB (a debugging aid)");
  lnb_check_options(L, 2, keys, 1);
  lnuma_chase_params c;
  read_chase(L, 2, &c);
  size_t line = c.line ? c.line : 64;
  void *mem = scratch(L, size);
  lnuma_error err;
  size_t slots = lnuma_chase_init(mem, size, &c, &err);
  if (slots == 0) return lnb_fail(L, &err);
  size_t *order = scratch(L, slots * sizeof *order);
  size_t walked = lnuma_chase_walk(mem, size, line, order, slots, &err);
  if (walked == 0) return lnb_fail(L, &err);
  lua_createtable(L, (int)walked, 0);
  for (size_t i = 0; i < walked && i < slots; i++) {
    lua_pushinteger(L, (lua_Integer)order[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* c2c_schedule(n) -> rounds, each an array of {a, b} pairs of 0-based player
 * indexes, as the c2c measurement runs them. */
static int k_c2c_schedule(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 2 && n <= LNUMA_TEAM_MAX, 1, "between 2 and 4096 players");
  int rounds = lnuma_c2c_rounds((int)n);
  lua_createtable(L, rounds, 0);
  for (int r = 0; r < rounds; r++) {
    lua_newtable(L);
    int k = 0;
    for (int i = 0; i < (int)n; i++) {
      int j = lnuma_c2c_partner((int)n, r, i);
      if (j > i) {
        lua_createtable(L, 2, 0);
        lua_pushinteger(L, i);
        lua_rawseti(L, -2, 1);
        lua_pushinteger(L, j);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, ++k);
      }
    }
    lua_rawseti(L, -2, r + 1);
  }
  return 1;
}

/* c2c_memory(n, samples) -> bytes the c2c buffer needs for n CPUs. */
static int k_c2c_memory(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 2 && n <= LNUMA_TEAM_MAX, 1, "between 2 and 4096 CPUs");
  lua_Integer samples = luaL_optinteger(L, 2, 15);
  luaL_argcheck(L, samples >= 1 && samples <= 100000, 2, "between 1 and 100000 samples");
  size_t need = lnuma_c2c_memory((int)n, (int)samples);
  luaL_argcheck(L, need != 0 && need <= (size_t)LUA_MAXINTEGER, 2, "too many lines");
  lua_pushinteger(L, (lua_Integer)need);
  return 1;
}

/* c2c_lines(n, samples) -> the lines as the c2c measurement hands them out,
 * in the order it runs them: {sample, round, a, b, line, offset} (all from
 * 0; a < b are positions in the CPU list). */
static int k_c2c_lines(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 2 && n <= LNUMA_TEAM_MAX, 1, "between 2 and 4096 CPUs");
  lua_Integer samples = luaL_checkinteger(L, 2);
  luaL_argcheck(L, samples >= 1 && samples <= 100000, 2, "between 1 and 100000 samples");
  luaL_argcheck(L, lnuma_c2c_pairs((int)n) * samples <= 1000000, 2,
                "at most 1000000 (pair, sample) lines (a debugging aid)");
  int rounds = lnuma_c2c_rounds((int)n);
  lua_createtable(L, (int)(lnuma_c2c_pairs((int)n) * samples), 0);
  lua_Integer k = 0;
  for (int s = 0; s < (int)samples; s++)
    for (int r = 0; r < rounds; r++)
      for (int i = 0; i < (int)n; i++) {
        int j = lnuma_c2c_partner((int)n, r, i);
        if (j <= i) continue;
        int64_t line = lnuma_c2c_line((int)n, (int)samples, i, j, s);
        lua_createtable(L, 0, 6);
        lnb_set_int(L, "sample", s);
        lnb_set_int(L, "round", r);
        lnb_set_int(L, "a", i);
        lnb_set_int(L, "b", j);
        lnb_set_int(L, "line", (lua_Integer)line);
        lnb_set_int(L, "offset", (lua_Integer)line * LNUMA_C2C_LINE_STRIDE);
        lua_rawseti(L, -2, ++k);
      }
  return 1;
}

/* isatty(fd) -> boolean (progress goes to stderr only when it is a terminal). */
static int k_isatty(lua_State *L) {
  lua_pushboolean(L, lnuma_is_terminal((int)luaL_checkinteger(L, 1)));
  return 1;
}

void lnuma_open_kernels(lua_State *L, int ctx) {
  static const luaL_Reg funcs[] = {
      {"bench_bandwidth", k_bandwidth},
      {"bench_latency", k_latency},
      {"bench_loaded", k_loaded},
      {"bench_c2c", k_c2c},
      {"kernel_info", k_info},
      {"chase_order", k_chase_order},
      {"c2c_schedule", k_c2c_schedule},
      {"c2c_memory", k_c2c_memory},
      {"c2c_lines", k_c2c_lines},
      {"isatty", k_isatty},
      {NULL, NULL},
  };
  lua_pushvalue(L, ctx);
  luaL_setfuncs(L, funcs, 1);
}
