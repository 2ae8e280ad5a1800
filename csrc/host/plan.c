/* lnuma/plan.h: loading a placement plan for a C host.  The plan file runs
 * in a private lua_State (with a limiting allocator as a backstop) through
 * the same checker Lua scripts use, lua/lnuma/plan.lua, embedded in this
 * library; the resolved plan is copied into C structures and the state is
 * closed before lnuma_plan_load returns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "host.h"
#include "internal.h"
#include "lnuma_lua.h"

/* Room for the module, its topology tables and the checker, on top of what
 * the plan itself may allocate. */
#define STATE_BASE_MEMORY ((size_t)64 << 20)

struct lnuma_plan {
  char *file;
  int live;
  size_t nthreads, nregions, npools, nwarnings;
  lnuma_plan_thread *threads;
  lnuma_plan_region *regions;
  lnuma_plan_pool *pools;
  char **warnings;
  /* Every block the plan owns (strings, arrays), freed together. */
  void **blocks;
  size_t nblocks, capblocks;
};

/* ------------------------------------------------------------ the state -- */

typedef struct state_memory {
  size_t used, limit;
} state_memory;

static void *state_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  state_memory *m = ud;
  size_t old = ptr != NULL ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    m->used -= old;
    return NULL;
  }
  if (nsize > old && m->used + (nsize - old) > m->limit) return NULL;
  void *p = realloc(ptr, nsize);
  if (p != NULL) m->used = m->used - old + nsize;
  return p;
}

/* ---------------------------------------------------------- plan memory -- */

/* Allocates a zeroed block owned by the plan; raises a Lua memory error on
 * failure (we run inside a protected call). */
static void *own(lua_State *L, lnuma_plan *plan, size_t n, size_t size) {
  if (plan->nblocks == plan->capblocks) {
    size_t cap = plan->capblocks ? plan->capblocks * 2 : 16;
    void **b = realloc(plan->blocks, cap * sizeof *b);
    if (b == NULL) luaL_error(L, "not enough memory");
    plan->blocks = b;
    plan->capblocks = cap;
  }
  void *p = calloc(n ? n : 1, size);
  if (p == NULL) luaL_error(L, "not enough memory");
  plan->blocks[plan->nblocks++] = p;
  return p;
}

static char *own_string(lua_State *L, lnuma_plan *plan, const char *s) {
  size_t len = strlen(s);
  char *copy = own(L, plan, len + 1, 1);
  memcpy(copy, s, len + 1);
  return copy;
}

void lnuma_plan_free(lnuma_plan *plan) {
  if (plan == NULL) return;
  for (size_t i = 0; i < plan->nblocks; i++) free(plan->blocks[i]);
  free(plan->blocks);
  free(plan);
}

/* ------------------------------------------- from the Lua plan to C ------ */

/* Field key of the table at idx, which must be a string (or nil). */
static const char *get_string(lua_State *L, int idx, const char *key) {
  lua_getfield(L, idx, key);
  const char *s = lua_tostring(L, -1);
  lua_pop(L, 1); /* still referenced by the table */
  return s;
}

static lua_Integer get_integer(lua_State *L, int idx, const char *key, lua_Integer dflt) {
  lua_getfield(L, idx, key);
  int isint = 0;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  lua_pop(L, 1);
  return isint ? v : dflt;
}

static void get_set(lua_State *L, int idx, const char *key, lnuma_set *out) {
  lnuma_set_zero(out);
  lua_getfield(L, idx, key);
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_geti(L, -1, i);
      lnuma_set_add(out, (int)lua_tointeger(L, -1));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* Calls f(L, plan, i) with the i-th element of the list field key on top. */
static size_t each(lua_State *L, lnuma_plan *plan, int idx, const char *key,
                   void (*f)(lua_State *, lnuma_plan *, size_t)) {
  lua_getfield(L, idx, key);
  size_t n = lua_istable(L, -1) ? (size_t)luaL_len(L, -1) : 0;
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, -1, (lua_Integer)i + 1);
    f(L, plan, i);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return n;
}

static size_t list_len(lua_State *L, int idx, const char *key) {
  lua_getfield(L, idx, key);
  size_t n = lua_istable(L, -1) ? (size_t)luaL_len(L, -1) : 0;
  lua_pop(L, 1);
  return n;
}

static void to_thread(lua_State *L, lnuma_plan *plan, size_t i) {
  lnuma_plan_thread *t = &plan->threads[i];
  t->name = own_string(L, plan, get_string(L, -1, "name"));
  get_set(L, -1, "cpus", &t->cpus);
  t->node = (int)get_integer(L, -1, "node", -1);
  lua_getfield(L, -1, "hot");
  t->hot = lua_toboolean(L, -1);
  lua_pop(L, 1);
  t->nuses = list_len(L, -1, "uses");
  const char **uses = own(L, plan, t->nuses, sizeof *uses);
  lua_getfield(L, -1, "uses");
  for (size_t k = 0; k < t->nuses; k++) {
    lua_geti(L, -1, (lua_Integer)k + 1);
    uses[k] = own_string(L, plan, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  t->uses = uses;
}

static void to_region(lua_State *L, lnuma_plan *plan, size_t i) {
  lnuma_plan_region *r = &plan->regions[i];
  r->name = own_string(L, plan, get_string(L, -1, "name"));
  r->size = (size_t)get_integer(L, -1, "size", 0);
  r->node = (int)get_integer(L, -1, "node", -1);
  get_set(L, -1, "nodes", &r->nodes);
  r->policy = own_string(L, plan, get_string(L, -1, "policy"));
  r->huge = own_string(L, plan, get_string(L, -1, "huge"));
  /* weights: checked by plan_check (node numbers, caps); read raw. */
  lnuma_weights_init(&r->weights);
  if (lua_getfield(L, -1, "weights") == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_isinteger(L, -2) && lua_isinteger(L, -1))
        (void)lnuma_weights_add(&r->weights, (int)lua_tointeger(L, -2),
                                (int)lua_tointeger(L, -1), NULL);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static void to_pool(lua_State *L, lnuma_plan *plan, size_t i) {
  lnuma_plan_pool *p = &plan->pools[i];
  p->name = own_string(L, plan, get_string(L, -1, "name"));
  p->node = (int)get_integer(L, -1, "node", -1);
  p->size = (size_t)get_integer(L, -1, "size", 0);
  p->count = (size_t)get_integer(L, -1, "count", 0);
}

static void to_warning(lua_State *L, lnuma_plan *plan, size_t i) {
  plan->warnings[i] = own_string(L, plan, lua_tostring(L, -1));
}

/* ------------------------------------------------------------- loading -- */

typedef struct load_job {
  const char *path;
  const lnuma_plan_options *opts;
  lnuma_plan *plan;
  int failed; /* the checker said no: the message is on the stack */
} load_job;

/* Runs in the private state, protected: loads lnuma.plan, runs the plan and
 * copies the result into job->plan. */
static int load_protected(lua_State *L) {
  load_job *job = lua_touserdata(L, 1);
  const lnuma_plan_options *o = job->opts;
  luaL_openlibs(L);
  lnuma_lua_preload(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lnuma.plan");
  lua_call(L, 1, 1);
  int mod = lua_gettop(L);
  lua_getfield(L, mod, "load");
  lua_pushstring(L, job->path);
  lua_newtable(L);
  if (o != NULL && (o->topology_xml != NULL || o->topology_synthetic != NULL)) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "lnuma");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "topology");
    lua_newtable(L);
    lua_pushstring(L, o->topology_xml != NULL ? o->topology_xml : o->topology_synthetic);
    lua_setfield(L, -2, o->topology_xml != NULL ? "xml" : "synthetic");
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2)) { /* nil, message: the topology could not be read */
      job->failed = 1;
      return 1;
    }
    lua_pop(L, 1);
    lua_setfield(L, -3, "topology");
    lua_pop(L, 1);
  }
  if (o != NULL && o->max_instructions > 0) {
    lua_pushinteger(L, (lua_Integer)o->max_instructions);
    lua_setfield(L, -2, "instructions");
  }
  if (o != NULL && o->max_memory > 0) {
    lua_pushinteger(L, (lua_Integer)o->max_memory);
    lua_setfield(L, -2, "memory");
  }
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) {
    job->failed = 1;
    return 1;
  }
  lua_pop(L, 1);
  int p = lua_gettop(L);
  lnuma_plan *plan = job->plan;
  plan->file = own_string(L, plan, job->path);
  const char *target = get_string(L, p, "target");
  plan->live = target != NULL && strcmp(target, "this machine") == 0;
  plan->threads = own(L, plan, list_len(L, p, "threads"), sizeof *plan->threads);
  plan->nthreads = each(L, plan, p, "threads", to_thread);
  plan->regions = own(L, plan, list_len(L, p, "memory"), sizeof *plan->regions);
  plan->nregions = each(L, plan, p, "memory", to_region);
  plan->pools = own(L, plan, list_len(L, p, "pools"), sizeof *plan->pools);
  plan->npools = each(L, plan, p, "pools", to_pool);
  plan->warnings = own(L, plan, list_len(L, p, "warnings"), sizeof *plan->warnings);
  plan->nwarnings = each(L, plan, p, "warnings", to_warning);
  return 0;
}

lnuma_plan *lnuma_plan_load(const char *path, const lnuma_plan_options *opts,
                            lnuma_error *err) {
  if (path == NULL) {
    lnuma__fail(err, EINVAL, "lnuma_plan_load: path is NULL");
    return NULL;
  }
  if (opts != NULL && opts->topology_xml != NULL && opts->topology_synthetic != NULL) {
    lnuma__fail(err, EINVAL, "lnuma_plan_load: give topology_xml or topology_synthetic, "
                             "not both");
    return NULL;
  }
  if (access(path, R_OK) != 0) {
    lnuma__fail_sys(err, errno, path);
    return NULL;
  }
  lnuma_plan *plan = calloc(1, sizeof *plan);
  state_memory mem = {0, STATE_BASE_MEMORY};
  mem.limit += opts != NULL && opts->max_memory > 0 ? opts->max_memory : ((size_t)32 << 20);
  lua_State *L = plan != NULL ? lua_newstate(state_alloc, &mem) : NULL;
  if (L == NULL) {
    free(plan);
    lnuma__fail(err, ENOMEM, "lnuma_plan_load: cannot create a Lua state");
    return NULL;
  }
  load_job job = {path, opts, plan, 0};
  lua_pushcfunction(L, load_protected);
  lua_pushlightuserdata(L, &job);
  int status = lua_pcall(L, 1, 1, 0);
  if (status != LUA_OK || job.failed) {
    const char *msg = lua_tostring(L, -1);
    lnuma__fail(err, status == LUA_ERRMEM ? ENOMEM : EINVAL, "%s",
                msg != NULL ? msg : "lnuma_plan_load: the plan could not be loaded");
    lua_close(L);
    lnuma_plan_free(plan);
    return NULL;
  }
  lua_close(L);
  lnuma__clear(err);
  return plan;
}

/* -------------------------------------------------------------- getters -- */

const char *lnuma_plan_file(const lnuma_plan *plan) { return plan->file; }
int lnuma_plan_is_live(const lnuma_plan *plan) { return plan->live; }

size_t lnuma_plan_thread_count(const lnuma_plan *plan) { return plan->nthreads; }
size_t lnuma_plan_region_count(const lnuma_plan *plan) { return plan->nregions; }
size_t lnuma_plan_pool_count(const lnuma_plan *plan) { return plan->npools; }
size_t lnuma_plan_warning_count(const lnuma_plan *plan) { return plan->nwarnings; }

const lnuma_plan_thread *lnuma_plan_thread_at(const lnuma_plan *plan, size_t i) {
  return i < plan->nthreads ? &plan->threads[i] : NULL;
}
const lnuma_plan_region *lnuma_plan_region_at(const lnuma_plan *plan, size_t i) {
  return i < plan->nregions ? &plan->regions[i] : NULL;
}
const lnuma_plan_pool *lnuma_plan_pool_at(const lnuma_plan *plan, size_t i) {
  return i < plan->npools ? &plan->pools[i] : NULL;
}
const char *lnuma_plan_warning(const lnuma_plan *plan, size_t i) {
  return i < plan->nwarnings ? plan->warnings[i] : NULL;
}

const lnuma_plan_thread *lnuma_plan_thread_named(const lnuma_plan *plan, const char *name) {
  for (size_t i = 0; name != NULL && i < plan->nthreads; i++)
    if (strcmp(plan->threads[i].name, name) == 0) return &plan->threads[i];
  return NULL;
}
const lnuma_plan_region *lnuma_plan_region_named(const lnuma_plan *plan, const char *name) {
  for (size_t i = 0; name != NULL && i < plan->nregions; i++)
    if (strcmp(plan->regions[i].name, name) == 0) return &plan->regions[i];
  return NULL;
}
const lnuma_plan_pool *lnuma_plan_pool_named(const lnuma_plan *plan, const char *name) {
  for (size_t i = 0; name != NULL && i < plan->npools; i++)
    if (strcmp(plan->pools[i].name, name) == 0) return &plan->pools[i];
  return NULL;
}
