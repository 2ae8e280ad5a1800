/* The calling thread's memory policy and the kernel's per-node memory facts:
 * lnuma.set_policy, lnuma.get_policy, lnuma.numastat, lnuma.meminfo. */
#include <errno.h>
#include <string.h>

#include "buffer.h"

/* lnuma.set_policy{policy =, nodes = | node =} -> true, or nil, message, errno. */
static int pol_set(lua_State *L) {
  static const char *const known[] = {"policy", "nodes", "node", NULL};
  lnb_check_options(L, 1, known, 0);
  lnuma_set nodes;
  lnuma_set_zero(&nodes);
  int has_nodes = lnb_field_set(L, 1, "nodes", &nodes);
  lua_Integer node;
  if (lnb_field_integer(L, 1, "node", &node)) {
    if (has_nodes) lnb_opterror(L, 1, "node", "give node or nodes, not both");
    if (node < 0 || node >= LNUMA_MAX_NODES)
      lnb_opterror(L, 1, "node", "node %I does not exist", node);
    lnuma_set_add(&nodes, (int)node);
  }
  lnuma_mempolicy p;
  if (!lnb_field_policy(L, 1, "policy", &p))
    lnb_opterror(L, 1, "policy", "required (one of default, local, bind, preferred, "
                 "preferred_many, interleave, weighted_interleave)");
  lnuma_error err;
  if (lnuma_set_thread_policy(p, &nodes, &err) != 0) {
    if (err.code == ENODEV || (err.code == EINVAL && strstr(err.msg, "takes") != NULL))
      return luaL_argerror(L, 1, err.msg);
    return lnb_fail(L, &err);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* lnuma.get_policy() -> {policy =, nodes =} of the calling thread (the
 * policy lnuma.binding() reports; nodes are the allowed ones for "default"
 * and "local"). */
static int pol_get(lua_State *L) {
  lnuma_mempolicy p;
  lnuma_set nodes;
  lnuma_error err;
  if (lnuma_mem_binding(&p, &nodes, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, lnuma_mempolicy_name(p));
  lua_setfield(L, -2, "policy");
  lnb_push_set(L, &nodes);
  lua_setfield(L, -2, "nodes");
  return 1;
}

static void set_int(lua_State *L, const char *key, uint64_t v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, key);
}

/* The per-node counters: {[node] = {numa_hit =, ...}} in pages. */
static int numastat_nodes(lua_State *L) {
  lnuma_set online;
  lnuma_error err;
  if (lnuma_nodes_online(&online, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, lnuma_set_count(&online));
  for (int n = lnuma_set_next(&online, -1); n >= 0; n = lnuma_set_next(&online, n)) {
    lnuma_numastat s;
    if (lnuma_numastat_node(n, &s, &err) != 0) return lnb_fail(L, &err);
    lua_createtable(L, 0, 6);
    set_int(L, "numa_hit", s.numa_hit);
    set_int(L, "numa_miss", s.numa_miss);
    set_int(L, "numa_foreign", s.numa_foreign);
    set_int(L, "interleave_hit", s.interleave_hit);
    set_int(L, "local_node", s.local_node);
    set_int(L, "other_node", s.other_node);
    lua_rawseti(L, -2, n);
  }
  return 1;
}

/* A process's memory per node: {[node] = {huge =, heap =, stack =, private =,
 * total =}} in bytes, for every online node and any other holding memory. */
static int numastat_process(lua_State *L, lua_Integer pid) {
  if (pid < 0 || pid > 0x7fffffff) return luaL_argerror(L, 1, "pid: not a process id");
  lnuma_proc_usage *u = lua_newuserdatauv(L, sizeof *u * LNUMA_MAX_NODES, 0);
  lnuma_error err;
  if (lnuma_numastat_process((int)pid, u, LNUMA_MAX_NODES, &err) != 0) return lnb_fail(L, &err);
  lnuma_set online;
  if (lnuma_nodes_online(&online, NULL) != 0) lnuma_set_zero(&online);
  lua_createtable(L, 0, lnuma_set_count(&online));
  for (int n = 0; n < LNUMA_MAX_NODES; n++) {
    uint64_t total = u[n].huge_bytes + u[n].heap_bytes + u[n].stack_bytes + u[n].private_bytes;
    if (total == 0 && !lnuma_set_has(&online, n)) continue;
    lua_createtable(L, 0, 5);
    set_int(L, "huge", u[n].huge_bytes);
    set_int(L, "heap", u[n].heap_bytes);
    set_int(L, "stack", u[n].stack_bytes);
    set_int(L, "private", u[n].private_bytes);
    set_int(L, "total", total);
    lua_rawseti(L, -2, n);
  }
  return 1;
}

/* lnuma.numastat() / lnuma.numastat{pid = p}: see the Lua face. */
static int mem_numastat(lua_State *L) {
  static const char *const known[] = {"pid", NULL};
  if (!lnb_check_options(L, 1, known, 1)) return numastat_nodes(L);
  lua_Integer pid;
  if (!lnb_field_integer(L, 1, "pid", &pid)) return numastat_nodes(L);
  return numastat_process(L, pid);
}

/* lnuma.meminfo(node) -> {total =, free =, used =, huge = {["2M"] = {...}}}. */
static int mem_meminfo(lua_State *L) {
  int isint = 0;
  lua_Integer node = lua_tointegerx(L, 1, &isint);
  if (!isint) return luaL_typeerror(L, 1, "integer node");
  lnuma_meminfo m;
  lnuma_error err;
  if (node < 0 || node >= LNUMA_MAX_NODES ||
      lnuma_meminfo_node((int)node, &m, &err) != 0) {
    if (node < 0 || node >= LNUMA_MAX_NODES || err.code == ENODEV) {
      lua_pushfstring(L, "node %I does not exist", node);
      return luaL_argerror(L, 1, lua_tostring(L, -1));
    }
    return lnb_fail(L, &err);
  }
  lua_createtable(L, 0, 6);
  set_int(L, "node", (uint64_t)node);
  set_int(L, "total", m.total);
  set_int(L, "free", m.free);
  set_int(L, "used", m.used);
  lua_createtable(L, 0, m.n_huge);
  for (int i = 0; i < m.n_huge; i++) {
    lua_createtable(L, 0, 4);
    set_int(L, "page_size", m.huge[i].page_size);
    set_int(L, "total", m.huge[i].total);
    set_int(L, "free", m.huge[i].free);
    set_int(L, "surplus", m.huge[i].surplus);
    lua_setfield(L, -2, m.huge[i].page_size >= ((size_t)1 << 30) ? "1G" : "2M");
  }
  lua_setfield(L, -2, "huge");
  lua_pushliteral(L, "bytes");
  lua_setfield(L, -2, "units");
  return 1;
}

void lnuma_open_mempolicy(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"set_policy", pol_set},
      {"get_policy", pol_get},
      {"numastat", mem_numastat},
      {"meminfo", mem_meminfo},
      {NULL, NULL},
  };
  luaL_setfuncs(L, funcs, 0);
}
