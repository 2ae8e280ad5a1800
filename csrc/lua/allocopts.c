/* The allocation options shared by lnuma.alloc, lnuma.arena and lnuma.pool
 * (node, nodes, policy, huge, lock, touch_cpu, populate), read the way
 * binding.h says, and the errors the core gives about them. */
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

void lnb_read_alloc_opts(lua_State *L, int arg, lnuma_alloc_opts *o, const char *const extra[]) {
  lnuma_alloc_opts_init(o);
  if (lua_isnoneornil(L, arg)) return;
  const char *known[24];
  static const char *const base[] = {"node", "nodes", "policy", "huge", "lock",
                                     "touch_cpu", NULL};
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
}

int lnb_alloc_failure(lua_State *L, int arg, const lnuma_error *err) {
  if (err->code == ENODEV) return raise_option(L, arg, err);
  return lnb_fail(L, err);
}
