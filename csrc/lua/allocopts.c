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
  int huge_type = lnb_field_push(L, arg, "huge");
  if (huge_type == LUA_TNIL) {
    lua_pushnil(L); /* popped below */
  } else if (huge_type == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
    o->huge = LNUMA_HUGE_NONE;
  } else {
    static const char *const huge[] = {"thp", "2M", "1G", NULL};
    int h = -1;
    size_t vlen = 0;
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &vlen) : NULL;
    for (int i = 0; v != NULL && strlen(v) == vlen && huge[i] != NULL; i++)
      if (strcmp(v, huge[i]) == 0) h = i;
    if (h < 0)
      lnb_opterror(L, arg, "huge", "expected false, \"thp\", \"2M\" or \"1G\", got %s",
                   lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
    o->huge = (lnuma_huge)(LNUMA_HUGE_THP + h);
  }
  lua_pop(L, 1);
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
