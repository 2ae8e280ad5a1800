/* lnuma.core.exec{argv =, policy =, nodes =, cpus =, ...}: runs a program
 * under a memory policy and CPU set (csrc/core/exec.c) and returns the raw
 * facts; lua/lnuma/exec.lua makes the result of them. */
#include <errno.h>
#include <string.h>

#include "buffer.h"

#define RUN_META "lnuma.ExecRun"
/* More arguments than a kernel takes (ARG_MAX is bytes; this bounds the
 * table read before anything is allocated for it). */
#define MAX_ARGS 100000
/* The most bytes of a stream kept (the last ones). */
#define MAX_CAPTURE (64 << 20)

/* The result lives in a userdata until its facts are pushed, so that an
 * error while pushing (out of memory) cannot leak what the core allocated. */
static int run_gc(lua_State *L) {
  lnuma_exec_result *r = luaL_checkudata(L, 1, RUN_META);
  lnuma_exec_result_free(r);
  return 0;
}

static void set_int(lua_State *L, const char *key, uint64_t v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, key);
}

static void set_text(lua_State *L, const char *key, const char *s, size_t len) {
  lua_pushlstring(L, s, len);
  lua_setfield(L, -2, key);
}

/* {[node] = count} of the non-zero entries. */
static void push_by_node(lua_State *L, const uint64_t *v, int n) {
  lua_createtable(L, 0, 2);
  for (int i = 0; i < n; i++)
    if (v[i] != 0) {
      lua_pushinteger(L, (lua_Integer)v[i]);
      lua_rawseti(L, -2, i);
    }
}

static void push_mappings(lua_State *L, const lnuma_exec_result *r) {
  lua_createtable(L, (int)(r->n_mappings < 1000000 ? r->n_mappings : 1000000), 0);
  for (size_t i = 0; i < r->n_mappings; i++) {
    const lnuma_exec_mapping *m = &r->mappings[i];
    lua_createtable(L, 0, 7);
    set_int(L, "start", m->start);
    set_text(L, "policy", m->policy, strlen(m->policy));
    set_text(L, "kind", m->kind, strlen(m->kind));
    if (m->path[0] != '\0') set_text(L, "path", m->path, strlen(m->path));
    set_int(L, "page_size", m->page_size);
    set_int(L, "pages", m->pages);
    push_by_node(L, m->by_node, m->n_nodes);
    lua_setfield(L, -2, "by_node");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static void push_result(lua_State *L, const lnuma_exec_result *r) {
  lua_createtable(L, 0, 32);
  set_int(L, "pid", (uint64_t)r->pid);
  lua_pushinteger(L, r->exit_code);
  lua_setfield(L, -2, "exit_code");
  if (r->signal != 0) set_int(L, "signal", (uint64_t)r->signal);
  set_bool(L, "core_dumped", r->core_dumped);
  set_bool(L, "timed_out", r->timed_out);
  set_int(L, "forwarded", (uint64_t)r->forwarded);
  set_int(L, "wall_ns", r->wall_ns);
  set_int(L, "user_ns", r->user_ns);
  set_int(L, "system_ns", r->system_ns);
  set_int(L, "minor_faults", r->minor_faults);
  set_int(L, "major_faults", r->major_faults);
  set_int(L, "max_rss_bytes", r->max_rss_bytes);
  set_int(L, "voluntary_switches", r->voluntary_switches);
  set_int(L, "involuntary_switches", r->involuntary_switches);
  set_int(L, "samples", (uint64_t)r->samples);
  set_int(L, "sample_failures", (uint64_t)r->sample_failures);
  set_int(L, "sampling_ns", r->sampling_ns);
  if (r->sample_error[0] != '\0')
    set_text(L, "sample_error", r->sample_error, strlen(r->sample_error));
  lnb_push_set(L, &r->cpus_allowed);
  lua_setfield(L, -2, "cpus_allowed");
  lnb_push_set(L, &r->cpus_ran);
  lua_setfield(L, -2, "cpus_ran");
  set_int(L, "threads_max", (uint64_t)r->threads_max);
  if (r->smaps_read) set_int(L, "anon_huge_max", r->anon_huge_max);
  push_by_node(L, r->peak_by_node, r->n_peak);
  lua_setfield(L, -2, "peak_by_node");
  push_mappings(L, r);
  lua_setfield(L, -2, "mappings");
  set_int(L, "mappings_dropped", r->mappings_dropped);
  if (r->out != NULL) {
    set_text(L, "stdout", r->out, r->out_len);
    set_bool(L, "stdout_truncated", r->out_truncated);
  }
  if (r->err != NULL) {
    set_text(L, "stderr", r->err, r->err_len);
    set_bool(L, "stderr_truncated", r->err_truncated);
  }
  if (r->huge_note[0] != '\0') set_text(L, "huge_note", r->huge_note, strlen(r->huge_note));
}

/* Reads options into o, argv excepted; raises on mistakes. */
static void read_options(lua_State *L, lnuma_exec_options *o) {
  lnuma_exec_options_init(o);
  o->has_policy = lnb_field_policy(L, 1, "policy", &o->policy);
  int has_nodes = lnb_field_set(L, 1, "nodes", &o->nodes);
  lua_Integer node;
  if (lnb_field_integer(L, 1, "node", &node)) {
    if (has_nodes) lnb_opterror(L, 1, "node", "give node or nodes, not both");
    if (node < 0 || node >= LNUMA_MAX_NODES)
      lnb_opterror(L, 1, "node", "node %I does not exist", node);
    lnuma_set_add(&o->nodes, (int)node);
    has_nodes = 1;
  }
  if (has_nodes && !o->has_policy) {
    o->has_policy = 1;
    o->policy = LNUMA_MPOL_BIND;
  }
  o->has_cpus = lnb_field_set(L, 1, "cpus", &o->cpus);
  static const char *const huge[] = {"default", "thp", "none", NULL};
  int h = lnb_field_option(L, 1, "huge", huge);
  if (h >= 0) o->huge = (lnuma_exec_huge)h;
  static const char *const outs[] = {"inherit", "stderr", "null", NULL};
  int so = lnb_field_option(L, 1, "stdout", outs);
  if (so >= 0) o->out_fd = so == 0 ? 1 : so == 1 ? 2 : -1;
  static const char *const errs[] = {"inherit", "null", NULL};
  int se = lnb_field_option(L, 1, "stderr", errs);
  if (se >= 0) o->err_fd = se == 0 ? 2 : -1;
  static const char *const caps[] = {"capture_stdout", "capture_stderr"};
  for (int i = 0; i < 2; i++) {
    size_t cap = 0;
    if (lnb_field_size(L, 1, caps[i], &cap) && cap > MAX_CAPTURE)
      lnb_opterror(L, 1, caps[i], "at most %d bytes are kept, asked for %I", MAX_CAPTURE,
                   (lua_Integer)cap);
    *(i == 0 ? &o->capture_out : &o->capture_err) = cap;
  }
  lua_Integer ns;
  if (lnb_field_integer(L, 1, "sample_ns", &ns)) {
    if (ns < 100000 || ns > (lua_Integer)3600 * 1000000000)
      lnb_opterror(L, 1, "sample_ns", "must be between 100000 (0.1 ms) and 3600e9, got %I", ns);
    o->sample_ns = (uint64_t)ns;
  }
  if (lnb_field_integer(L, 1, "timeout_ns", &ns)) {
    if (ns <= 0) lnb_opterror(L, 1, "timeout_ns", "must be positive, got %I", ns);
    o->timeout_ns = (uint64_t)ns;
  }
}

/* Copies argv (an array of strings without NUL bytes) into a new table
 * pushed on the stack, which no Lua code can reach: a finalizer that changes
 * the caller's table later changes nothing here.  Returns its length and
 * the bytes its C copy needs. */
static lua_Integer copy_argv(lua_State *L, size_t *bytes) {
  if (lnb_field_push(L, 1, "argv") != LUA_TTABLE)
    lnb_opterror(L, 1, "argv", "an array of strings expected (the program and its arguments)");
  int src = lua_gettop(L);
  lua_Unsigned n = (lua_Unsigned)lua_rawlen(L, src);
  if (n == 0) lnb_opterror(L, 1, "argv", "empty (name the program to run)");
  if (n > MAX_ARGS) lnb_opterror(L, 1, "argv", "more than %d arguments", MAX_ARGS);
  lua_createtable(L, (int)n, 0); /* its slots exist: rawseti below allocates nothing */
  *bytes = 0;
  for (lua_Integer i = 1; i <= (lua_Integer)n; i++) {
    lua_rawgeti(L, src, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      lnb_opterror(L, 1, "argv", "element %I is a %s, not a string", i, luaL_typename(L, -1));
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (strlen(s) != len) lnb_opterror(L, 1, "argv", "element %I holds a NUL byte", i);
    if (i == 1 && len == 0) lnb_opterror(L, 1, "argv", "the program name is empty");
    *bytes += len + 1;
    lua_rawseti(L, -2, i);
  }
  lua_remove(L, src);
  return (lua_Integer)n;
}

/* lnuma.core.exec(opts) -> facts, or nil, message, errno, {failed_step =,
 * exit_code =} when the program could not be launched. */
static int l_exec(lua_State *L) {
  static const char *const known[] = {"argv", "policy", "nodes", "node", "cpus", "huge",
                                      "stdout", "stderr", "capture_stdout", "capture_stderr",
                                      "sample_ns", "timeout_ns", NULL};
  /* 1: copy and check every option (the only Lua that runs is here). */
  lnb_check_options(L, 1, known, 0);
  lnuma_exec_options o;
  read_options(L, &o);
  size_t bytes;
  lua_Integer argc = copy_argv(L, &bytes);
  int words = lua_gettop(L);
  /* 2: scratch memory: the argv copy and the result holder. */
  size_t ptrs = ((size_t)argc + 1) * sizeof(char *);
  char **argv = lua_newuserdatauv(L, ptrs + bytes, 0);
  lnuma_exec_result *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, RUN_META);
  /* 3: the C copy, from the private table (its strings are anchored there). */
  char *p = (char *)argv + ptrs;
  for (lua_Integer i = 1; i <= argc; i++) {
    lua_rawgeti(L, words, i);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    memcpy(p, s, len + 1);
    argv[i - 1] = p;
    p += len + 1;
    lua_pop(L, 1);
  }
  argv[argc] = NULL;
  o.argv = argv;
  /* 4: run (no Lua runs meanwhile), then push from C copies. */
  lnuma_error err;
  if (lnuma_exec(&o, r, &err) != 0) {
    /* Mistakes raise; a cpuset that forbids what was asked is the environment's. */
    if (r->failed_step == LNUMA_EXEC_STEP_SETUP && err.code == EINVAL &&
        strstr(err.msg, "not allowed") == NULL)
      return luaL_argerror(L, 1, err.msg);
    if (err.code == ENODEV) return luaL_argerror(L, 1, err.msg);
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    lua_pushinteger(L, err.code);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, lnuma_exec_step_name(r->failed_step));
    lua_setfield(L, -2, "failed_step");
    lua_pushinteger(L, r->exit_code);
    lua_setfield(L, -2, "exit_code");
    lnuma_exec_result_free(r);
    return 4;
  }
  push_result(L, r);
  lnuma_exec_result_free(r);
  return 1;
}

void lnuma_open_exec(lua_State *L) {
  static const luaL_Reg meta[] = {{"__gc", run_gc}, {"__close", run_gc}, {NULL, NULL}};
  lnb_new_class(L, RUN_META, NULL, meta);
  lua_pop(L, 1);
  static const luaL_Reg funcs[] = {{"exec", l_exec}, {NULL, NULL}};
  luaL_setfuncs(L, funcs, 0);
}
