/* Binding of CPU affinity and where the thread runs: lnuma.bind,
 * lnuma.binding, lnuma.current. */
#include <errno.h>

#include "binding.h"

/* Raises naming key when a CPU of set is not online. */
static void check_online(lua_State *L, int arg, const char *key, const lnuma_set *set) {
  lnuma_set online;
  lnuma_error err;
  if (lnuma_cpus_online(&online, &err) != 0) return; /* the bind itself will say */
  for (int c = lnuma_set_next(set, -1); c >= 0; c = lnuma_set_next(set, c))
    if (!lnuma_set_has(&online, c)) {
      char list[256];
      lnuma_set_format(&online, list, sizeof list);
      lnb_opterror(L, arg, key, "CPU %d does not exist (online CPUs %s)", c, list);
    }
}

/* bind{cpus = set} | bind{node = n} -> true | nil, msg, errno
 * Pins the calling thread to the CPUs (of the node). */
static int aff_bind(lua_State *L) {
  static const char *const known[] = {"cpus", "node", NULL};
  lnb_check_options(L, 1, known, 0);
  lnuma_set cpus;
  lua_Integer node = -1;
  int has_cpus = lnb_field_set(L, 1, "cpus", &cpus);
  int has_node = lnb_field_integer(L, 1, "node", &node);
  if (has_cpus && has_node)
    return lnb_opterror(L, 1, "node", "give either cpus or node, not both");
  if (!has_cpus && !has_node)
    return luaL_argerror(L, 1, "expected {cpus = ...} or {node = n}");
  lnuma_error err;
  if (has_node) {
    if (node < 0 || node >= LNUMA_SET_BITS)
      return lnb_opterror(L, 1, "node", "node %I does not exist", (LUAI_UACINT)node);
    if (lnuma_node_cpus((int)node, &cpus, &err) != 0) {
      if (err.code == EINVAL) return lnb_opterror(L, 1, "node", "%s", err.msg);
      return lnb_fail(L, &err);
    }
    if (lnuma_set_count(&cpus) == 0)
      return lnb_opterror(L, 1, "node", "node %d has no CPUs (memory-only node)", (int)node);
  } else {
    if (lnuma_set_count(&cpus) == 0) return lnb_opterror(L, 1, "cpus", "the set is empty");
    check_online(L, 1, "cpus", &cpus);
  }
  if (lnuma_bind_cpus(&cpus, &err) != 0) return lnb_fail(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* binding() -> {cpus = array, nodes = array, policy = name} | nil, msg, errno */
static int aff_binding(lua_State *L) {
  lnuma_set cpus, nodes;
  lnuma_error err;
  lnuma_mempolicy mode;
  if (lnuma_cpu_binding(&cpus, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, 4);
  lnb_push_set(L, &cpus);
  lua_setfield(L, -2, "cpus");
  if (lnuma_mem_binding(&mode, &nodes, &err) == 0) {
    lua_pushstring(L, lnuma_mempolicy_name(mode));
    lua_setfield(L, -2, "policy");
  } else {
    /* No NUMA syscalls here (kernel, seccomp): say so, and where memory may go. */
    lua_pushstring(L, err.msg);
    lua_setfield(L, -2, "policy_error");
    if (lnuma_allowed(NULL, &nodes, NULL) != 0) lnuma_set_zero(&nodes);
  }
  lnb_push_set(L, &nodes);
  lua_setfield(L, -2, "nodes");
  return 1;
}

/* current() -> cpu, node | nil, msg, errno */
static int aff_current(lua_State *L) {
  int cpu, node;
  lnuma_error err;
  if (lnuma_current(&cpu, &node, &err) != 0) return lnb_fail(L, &err);
  lua_pushinteger(L, cpu);
  lua_pushinteger(L, node);
  return 2;
}

void lnuma_open_affinity(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"bind", aff_bind},
      {"binding", aff_binding},
      {"current", aff_current},
      {NULL, NULL},
  };
  luaL_setfuncs(L, funcs, 0);
}
