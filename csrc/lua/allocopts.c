/* The allocation options shared by lnuma.alloc, lnuma.arena and lnuma.pool
 * (node, nodes, policy, weights, huge, lock, touch_cpu, populate), read the
 * way binding.h says, and the errors the core gives about them. */
#include <errno.h>
#include <string.h>

#include "buffer.h"

int lnb_field_policy(lua_State *L, int arg, const char *key, lnuma_mempolicy *out) {
  char name[64];
  if (!lnb_field_text(L, arg, key, name, sizeof name)) return 0;
  lnuma_error err;
  if (lnuma_mempolicy_parse(name, out, &err) != 0) lnb_opterror(L, arg, key, "%s", err.msg);
  return 1;
}

void lnb_to_weights(lua_State *L, int idx, int arg, lnuma_weights *w) {
  lnuma_weights_init(w);
  if (lua_type(L, idx) != LUA_TTABLE)
    lnb_opterror(L, arg, "weights", "a table {[node] = weight, ...} expected, got %s",
                 luaL_typename(L, idx));
  int tab = lua_absindex(L, idx);
  lnuma_error err;
  lua_pushnil(L);
  while (lua_next(L, tab) != 0) {
    /* Neither key nor value is converted in place (lua_next needs the key). */
    lua_Integer node = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : -1;
    if (node < 0 || node >= LNUMA_MAX_NODES) {
      int kt = lua_type(L, -2);
      lua_pushvalue(L, -2);
      lnb_opterror(L, arg, "weights", "key %s%s%s is not a node number (0..%d)",
                   kt == LUA_TSTRING ? "'" : "",
                   kt == LUA_TNUMBER || kt == LUA_TSTRING ? lua_tostring(L, -1)
                                                          : luaL_typename(L, -1),
                   kt == LUA_TSTRING ? "'" : "", LNUMA_MAX_NODES - 1);
    }
    int isint = 0;
    lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : 0;
    if (!isint) {
      lua_pushvalue(L, -1);
      lnb_opterror(L, arg, "weights", "node %I: weight %s is not an integer", node,
                   lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1)
                                                  : luaL_typename(L, -1));
    }
    if (v < 0 || v > LNUMA_WEIGHT_MAX)
      lnb_opterror(L, arg, "weights", "node %I: weight %I is not in 0..%d", node, v,
                   LNUMA_WEIGHT_MAX);
    if (lnuma_weights_add(w, (int)node, (int)v, &err) != 0) luaL_argerror(L, arg, err.msg);
    lua_pop(L, 1);
  }
  if (w->n == 0)
    lnb_opterror(L, arg, "weights", "the table is empty (name at least one node, e.g. "
                                    "{[0] = 3, [1] = 1})");
}

/* weights = {[node] = weight, ...}: read raw (lnb_check_options made the
 * table plain). */
static void field_weights(lua_State *L, int arg, lnuma_weights *w) {
  if (lnb_field_push(L, arg, "weights") == LUA_TNIL) return;
  lnb_to_weights(L, -1, arg, w);
  lua_pop(L, 1);
}

/* Most chunks lnuma.weights_pattern lists at once. */
#define PATTERN_MAX (1 << 20)

/* lnuma.weights_pattern(weights [, count [, first]]) -> the node of each
 * chunk: count (default: one period, the sum of the weights) chunks from
 * chunk first (0-based, default 0). */
static int weights_pattern(lua_State *L) {
  lnuma_weights w;
  lnuma_error err;
  if (lua_type(L, 1) == LUA_TTABLE) lnb_node_map(L, 1, 1, "weights"); /* may run Lua */
  lnb_to_weights(L, 1, 1, &w);
  if (lnuma_weights_check(&w, &err) != 0) return luaL_argerror(L, 1, err.msg);
  lua_Integer count = luaL_optinteger(L, 2, lnuma_weights_total(&w));
  lua_Integer first = luaL_optinteger(L, 3, 0);
  luaL_argcheck(L, count >= 0 && count <= PATTERN_MAX, 2, "count must be in 0..1048576");
  luaL_argcheck(L, first >= 0, 3, "first must not be negative");
  int *nodes = lua_newuserdatauv(L, (size_t)count * sizeof *nodes + 1, 0);
  if (lnuma_weights_pattern(&w, (uint64_t)first, (size_t)count, nodes, &err) != 0)
    return lnb_fail(L, &err);
  lua_createtable(L, (int)count, 0);
  for (lua_Integer i = 0; i < count; i++) {
    lua_pushinteger(L, nodes[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

void lnuma_open_weights(lua_State *L) {
  lua_pushcfunction(L, weights_pattern);
  lua_setfield(L, -2, "weights_pattern");
}

void lnb_read_alloc_opts(lua_State *L, int arg, lnuma_alloc_opts *o, const char *const extra[]) {
  lnuma_alloc_opts_init(o);
  if (lua_isnoneornil(L, arg)) return;
  const char *known[24];
  static const char *const base[] = {"node",      "nodes",   "policy", "huge", "lock",
                                     "touch_cpu", "weights", NULL};
  int n = 0;
  for (int i = 0; base[i] != NULL; i++) known[n++] = base[i];
  for (int i = 0; extra != NULL && extra[i] != NULL && n < 23; i++) known[n++] = extra[i];
  known[n] = NULL;
  lnb_check_options(L, arg, known, 0);
  lua_Integer node;
  int has_nodes = lnb_field_set(L, arg, "nodes", &o->nodes);
  if (lnb_field_integer(L, arg, "node", &node)) {
    if (has_nodes) lnb_opterror(L, arg, "node", "give node or nodes, not both");
    if (node < 0 || node >= LNUMA_MAX_NODES)
      lnb_opterror(L, arg, "node", "node %I does not exist", node);
    lnuma_set_add(&o->nodes, (int)node);
  }
  int has_policy = lnb_field_policy(L, arg, "policy", &o->policy);
  field_weights(L, arg, &o->weights);
  /* nodes = {} would silently mean the default policy. */
  if (has_nodes && lnuma_set_count(&o->nodes) == 0 &&
      !(has_policy && (o->policy == LNUMA_MPOL_LOCAL || o->policy == LNUMA_MPOL_DEFAULT)))
    lnb_opterror(L, arg, "nodes", "the set is empty (name at least one node, or leave nodes "
                                  "out for the default policy)");
  if (lnb_field_push(L, arg, "huge") != LUA_TNIL) {
    o->huge = lnb_to_huge(L, -1, arg, "huge");
    lua_pop(L, 1);
  }
  lnb_field_boolean(L, arg, "populate", &o->populate); /* known to alloc only */
  lnb_field_boolean(L, arg, "lock", &o->lock);
  lua_Integer cpu;
  if (lnb_field_integer(L, arg, "touch_cpu", &cpu)) {
    if (cpu < 0 || cpu >= LNUMA_SET_BITS)
      lnb_opterror(L, arg, "touch_cpu", "CPU %I does not exist", cpu);
    o->touch_cpu = (int)cpu;
  }
}

/* Which option a core message is about ("nodes: ...", "touch_cpu: ..."). */
static int raise_option(lua_State *L, int arg, const lnuma_error *err) {
  return luaL_argerror(L, arg, err->msg);
}

void lnb_check_alloc(lua_State *L, int arg, size_t size, const lnuma_alloc_opts *o) {
  lnuma_error err;
  if (lnuma_alloc_check(size, o, &err) != 0) raise_option(L, arg, &err);
  lnb_pace_mapping(L, size);
}

int lnb_alloc_failure(lua_State *L, int arg, const lnuma_error *err) {
  if (err->code == ENODEV) return raise_option(L, arg, err);
  return lnb_fail(L, err);
}
