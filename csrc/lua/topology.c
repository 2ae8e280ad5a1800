/* Binding of the topology: core.topology(opts) builds a plain Lua table (it
 * survives lnuma.report.json) whose metatable "lnuma.Topology" carries the
 * query methods.  The hwloc snapshot behind it lives in a "lnuma.TopologyHandle"
 * userdata, found through a weak table in the registry keyed by the topology
 * table, so the table itself holds only plain data. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

#define TOPO_MT "lnuma.Topology"
#define HANDLE_MT "lnuma.TopologyHandle"
#define HANDLES_KEY "lnuma.Topology.handles"

typedef struct topo_handle {
  lnuma_topology *topo;
} topo_handle;

/* One release for __gc and __close; freeing twice is harmless. */
static int handle_release(lua_State *L) {
  topo_handle *h = luaL_checkudata(L, 1, HANDLE_MT);
  lnuma_topology_free(h->topo);
  h->topo = NULL;
  return 0;
}

/* The topology behind the table at arg; raises when it is not one. */
static const lnuma_topology *check_topo(lua_State *L, int arg) {
  if (lua_type(L, arg) == LUA_TTABLE) {
    lua_getfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
    lua_pushvalue(L, arg);
    lua_rawget(L, -2);
    topo_handle *h = luaL_testudata(L, -1, HANDLE_MT);
    lua_pop(L, 2);
    if (h != NULL && h->topo != NULL) return h->topo;
  }
  luaL_typeerror(L, arg, TOPO_MT " (a table made by lnuma.topology())");
  return NULL;
}

/* Checks an integer argument that names a CPU or node. */
static int check_index(lua_State *L, int arg, const char *what) {
  int isint = 0;
  lua_Integer v = lua_tointegerx(L, arg, &isint);
  if (!isint || lua_type(L, arg) != LUA_TNUMBER)
    lnb_opterror(L, arg, what, "integer expected, got %s",
                 lua_type(L, arg) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, arg));
  if (v < INT_MIN || v > INT_MAX)
    lnb_opterror(L, arg, what, "%I does not exist", (LUAI_UACINT)v);
  return (int)v; /* the core names a CPU or node that does not exist */
}

/* ---- building the table ------------------------------------------------------------ */

static void set_int(lua_State *L, const char *key, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, key);
}

static void set_str(lua_State *L, const char *key, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, key);
}

static void set_set(lua_State *L, const char *key, const lnuma_set *set) {
  lnb_push_set(L, set);
  lua_setfield(L, -2, key);
}

/* "ReadBandwidth" -> "read_bandwidth". */
static void push_snake(lua_State *L, const char *name) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (const char *p = name; *p != '\0'; p++) {
    if (*p >= 'A' && *p <= 'Z') {
      if (p != name) luaL_addchar(&b, '_');
      luaL_addchar(&b, (char)(*p - 'A' + 'a'));
    } else {
      luaL_addchar(&b, *p);
    }
  }
  luaL_pushresult(&b);
}

static void push_nodes(lua_State *L, const lnuma_topology *topo) {
  int n = lnuma_topology_node_count(topo);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lnuma_node_info *node = lnuma_topology_node(topo, i);
    lua_createtable(L, 0, 9);
    set_int(L, "os_index", node->os_index);
    set_set(L, "cpus", &node->cpus);
    set_set(L, "local_cpus", &node->local_cpus);
    set_int(L, "memory", (lua_Integer)node->memory);
    if (node->free >= 0) set_int(L, "free", node->free);
    set_bool(L, "memory_only", node->memory_only);
    set_str(L, "subtype", node->subtype);
    lua_createtable(L, n, 0);
    for (int j = 0; j < n; j++) {
      int d = lnuma_topology_distance(topo, node->os_index,
                                      lnuma_topology_node(topo, j)->os_index, NULL);
      lua_pushinteger(L, d);
      lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "distances");
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_cpus(lua_State *L, const lnuma_topology *topo) {
  int n = lnuma_topology_pu_count(topo);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lnuma_pu_info *pu = lnuma_topology_pu(topo, i);
    lua_createtable(L, 0, 4);
    set_int(L, "os_index", pu->os_index);
    if (pu->core >= 0) set_int(L, "core", pu->core);
    if (pu->package >= 0) set_int(L, "package", pu->package);
    set_int(L, "node", pu->node);
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_cores_packages(lua_State *L, const lnuma_topology *topo) {
  int n = lnuma_topology_core_count(topo);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lnuma_core_info *core = lnuma_topology_core(topo, i);
    lua_createtable(L, 0, 5);
    set_int(L, "index", core->index);
    set_int(L, "os_index", core->os_index);
    if (core->package >= 0) set_int(L, "package", core->package);
    set_int(L, "node", core->node);
    set_set(L, "cpus", &core->cpus);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "cores");
  n = lnuma_topology_package_count(topo);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lnuma_package_info *pkg = lnuma_topology_package(topo, i);
    lua_createtable(L, 0, 3);
    set_int(L, "os_index", pkg->os_index);
    set_set(L, "cpus", &pkg->cpus);
    set_set(L, "nodes", &pkg->nodes);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "packages");
}

static void push_caches(lua_State *L, const lnuma_topology *topo) {
  int n = lnuma_topology_cache_count(topo);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lnuma_cache_info *c = lnuma_topology_cache(topo, i);
    lua_createtable(L, 0, 6);
    set_int(L, "level", c->level);
    set_str(L, "type", lnuma_cache_type_name(c->type));
    set_int(L, "size", (lua_Integer)c->size);
    set_int(L, "line_size", c->line_size);
    set_int(L, "associativity", c->associativity);
    set_set(L, "cpus", &c->cpus);
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_devices(lua_State *L, const lnuma_topology *topo) {
  int n = lnuma_topology_device_count(topo);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lnuma_device_info *dev = lnuma_topology_device(topo, i);
    lua_createtable(L, 0, 8);
    set_str(L, "name", dev->name);
    set_str(L, "kind", lnuma_device_kind_name(dev->kind));
    set_str(L, "subtype", dev->subtype);
    if (dev->pci_bus[0] != '\0') {
      set_str(L, "pci_bus", dev->pci_bus);
      char id[24];
      snprintf(id, sizeof id, "%04x:%04x", dev->pci_vendor, dev->pci_device);
      set_str(L, "pci_id", id);
    }
    set_set(L, "cpus", &dev->cpus);
    set_set(L, "nodes", &dev->nodes);
    int node = lnuma_topology_node_of_device(topo, dev->name, NULL);
    if (node >= 0) set_int(L, "node", node);
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_memattrs(lua_State *L, const lnuma_topology *topo) {
  int n = lnuma_topology_memattr_count(topo);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lnuma_memattr_info *m = lnuma_topology_memattr(topo, i);
    lua_createtable(L, 0, 7);
    push_snake(L, m->name);
    lua_setfield(L, -2, "name");
    set_str(L, "unit", m->unit);
    set_bool(L, "higher_is_better", m->higher_is_better);
    if (m->initiator >= 0) set_int(L, "initiator", m->initiator);
    set_set(L, "initiator_cpus", &m->initiator_cpus);
    set_int(L, "target", m->target);
    set_int(L, "value", (lua_Integer)m->value);
    lua_rawseti(L, -2, i + 1);
  }
}

static void topo_setup(lua_State *L);

int lnb_push_topology(lua_State *L, lnuma_topology *topo) {
  topo_setup(L);
  lua_pop(L, 1);
  /* The handle first, so that an error while building frees the topology. */
  topo_handle *h = lua_newuserdatauv(L, sizeof *h, 0);
  h->topo = topo;
  luaL_setmetatable(L, HANDLE_MT);
  int hidx = lua_gettop(L);

  static const char *const sources[] = {"system", "xml", "synthetic"};
  lua_createtable(L, 0, 14);
  set_str(L, "source", sources[lnuma_topology_source_of(topo)]);
  set_str(L, "origin", lnuma_topology_origin(topo));
  push_nodes(L, topo);
  lua_setfield(L, -2, "nodes");
  set_bool(L, "default_distances", lnuma_topology_default_distances(topo));
  push_cpus(L, topo);
  lua_setfield(L, -2, "cpus");
  push_cores_packages(L, topo);
  push_caches(L, topo);
  lua_setfield(L, -2, "caches");
  push_devices(L, topo);
  lua_setfield(L, -2, "devices");
  push_memattrs(L, topo);
  lua_setfield(L, -2, "memattrs");
  lnuma_set cpus, nodes;
  lnuma_topology_allowed(topo, &cpus, &nodes);
  lua_createtable(L, 0, 2);
  set_set(L, "cpus", &cpus);
  set_set(L, "nodes", &nodes);
  lua_setfield(L, -2, "allowed");
  luaL_setmetatable(L, TOPO_MT);

  lua_getfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, hidx);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_remove(L, hidx);
  return 1;
}

/* ---- functions and methods ------------------------------------------------------ */

/* topology([{xml = path} | {synthetic = desc}]) -> table | nil, msg, errno */
static int topo_load(lua_State *L) {
  static const char *const known[] = {"xml", "synthetic", NULL};
  lnb_check_options(L, 1, known, 1);
  /* Copied (binding.h): a path and a synthetic description fit in 4 KiB. */
  char xml[4096], synthetic[4096];
  int has_xml = lnb_field_text(L, 1, "xml", xml, sizeof xml);
  int has_synthetic = lnb_field_text(L, 1, "synthetic", synthetic, sizeof synthetic);
  if (has_xml && has_synthetic)
    return lnb_opterror(L, 1, "xml", "give either xml or synthetic, not both");
  lnuma_error err;
  lnuma_topology *topo;
  if (has_xml) {
    if ((topo = lnuma_topology_load_xml(xml, &err)) == NULL)
      return lnb_opterror(L, 1, "xml", "%s", err.msg);
  } else if (has_synthetic) {
    if ((topo = lnuma_topology_load_synthetic(synthetic, &err)) == NULL)
      return lnb_opterror(L, 1, "synthetic", "%s", err.msg);
  } else if ((topo = lnuma_topology_load(&err)) == NULL) {
    return lnb_fail(L, &err);
  }
  return lnb_push_topology(L, topo);
}

/* topo:node_of_cpu(cpu) -> node */
static int m_node_of_cpu(lua_State *L) {
  const lnuma_topology *topo = check_topo(L, 1);
  int cpu = check_index(L, 2, "cpu");
  lnuma_error err;
  int node = lnuma_topology_node_of_cpu(topo, cpu, &err);
  if (node < 0) return lnb_opterror(L, 2, "cpu", "%s", err.msg);
  lua_pushinteger(L, node);
  return 1;
}

/* topo:cpus_of(node) -> array of CPUs */
static int m_cpus_of(lua_State *L) {
  const lnuma_topology *topo = check_topo(L, 1);
  int node = check_index(L, 2, "node");
  lnuma_error err;
  lnuma_set cpus;
  if (lnuma_topology_cpus_of(topo, node, &cpus, &err) != 0)
    return lnb_opterror(L, 2, "node", "%s", err.msg);
  lnb_push_set(L, &cpus);
  return 1;
}

/* topo:distance(a, b) -> integer (SLIT units, 10 = local) */
static int m_distance(lua_State *L) {
  const lnuma_topology *topo = check_topo(L, 1);
  int a = check_index(L, 2, "a");
  int b = check_index(L, 3, "b");
  lnuma_error err;
  if (lnuma_topology_find_node(topo, a) == NULL) {
    lnuma_topology_distance(topo, a, a, &err);
    return lnb_opterror(L, 2, "a", "%s", err.msg);
  }
  int d = lnuma_topology_distance(topo, a, b, &err);
  if (d < 0) return lnb_opterror(L, 3, "b", "%s", err.msg);
  lua_pushinteger(L, d);
  return 1;
}

/* topo:nearest(node) -> array of nodes by distance, node itself first */
static int m_nearest(lua_State *L) {
  const lnuma_topology *topo = check_topo(L, 1);
  int node = check_index(L, 2, "node");
  int n = lnuma_topology_node_count(topo);
  int *out = lua_newuserdatauv(L, (size_t)n * sizeof *out, 0);
  lnuma_error err;
  if (lnuma_topology_nearest(topo, node, out, n, &err) < 0)
    return lnb_opterror(L, 2, "node", "%s", err.msg);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, out[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* topo:node_of_device(name) -> node | nil, why */
static int m_node_of_device(lua_State *L) {
  luaL_checkstring(L, 2); /* a number becomes a string (allocates) before the topology */
  const char *name = lnb_to_text(L, 2, 2, "name", NULL);
  const lnuma_topology *topo = check_topo(L, 1);
  lnuma_error err;
  int node = lnuma_topology_node_of_device(topo, name, &err);
  if (node < 0) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_pushinteger(L, node);
  return 1;
}

/* Pushes the raw field key of the table at idx and returns its type. */
static int raw_field(lua_State *L, int idx, const char *key) {
  lua_pushstring(L, key);
  return lua_rawget(L, idx);
}

/* Reads the array at arg of {name, initiator, target, value} into a
 * scratch userdata pushed on the stack; returns it and sets *n.  Runs Lua
 * only to copy an array with a metatable (lnb_array), before anything else;
 * its elements are read raw and must be plain tables. */
static lnuma_memattr_value *check_values(lua_State *L, int arg, int *n) {
  static const char *const names[] = {"Latency", "ReadLatency", "WriteLatency", "Bandwidth",
                                      "ReadBandwidth", "WriteBandwidth", NULL};
  if (lua_type(L, arg) != LUA_TTABLE)
    lnb_opterror(L, arg, "values", "table expected, got %s", luaL_typename(L, arg));
  lua_Integer len = lnb_array(L, arg, arg, "values", 1000000);
  lnuma_memattr_value *v = lua_newuserdatauv(L, (size_t)len * sizeof *v + 1, 0);
  int top = lua_gettop(L);
  for (lua_Integer k = 1; k <= len; k++) {
    const char *bad = NULL;
    lnuma_memattr_value *x = &v[k - 1];
    if (lua_rawgeti(L, arg, k) != LUA_TTABLE || lua_getmetatable(L, -1)) {
      bad = "a plain table expected";
    } else {
      int e = lua_gettop(L), isint[2];
      const char *name = raw_field(L, e, "name") == LUA_TSTRING ? lua_tostring(L, -1) : "";
      int i = 0;
      while (names[i] != NULL && strcmp(names[i], name) != 0) i++;
      lua_Integer nodes[2] = {0, 0};
      for (int f = 0; f < 2; f++) {
        raw_field(L, e, f == 0 ? "initiator" : "target");
        nodes[f] = lua_tointegerx(L, -1, &isint[f]);
        isint[f] = isint[f] && lua_type(L, -1) == LUA_TNUMBER;
      }
      int isnum = raw_field(L, e, "value") == LUA_TNUMBER;
      if (names[i] == NULL) bad = "name: not one of Latency, ReadLatency, WriteLatency, "
                                  "Bandwidth, ReadBandwidth, WriteBandwidth";
      else if (!isint[0] || !isint[1]) bad = "initiator and target: node numbers expected";
      else if (!isnum) bad = "value: a number expected";
      else if (nodes[0] < INT_MIN || nodes[0] > INT_MAX || nodes[1] < INT_MIN ||
               nodes[1] > INT_MAX) bad = "no such node";
      x->name = names[i]; /* static: no pointer into a Lua string is kept */
      x->initiator = (int)nodes[0];
      x->target = (int)nodes[1];
      x->value = (double)lua_tonumber(L, -1);
    }
    if (bad != NULL) lnb_opterror(L, arg, "values", "element %I: %s", (LUAI_UACINT)k, bad);
    lua_settop(L, top);
  }
  *n = (int)len;
  return v;
}

/* topo:export_xml(path [, values]) -> true | nil, msg, errno.  values (the
 * Lua face builds them from matrix results, lua/lnuma/memattrs.lua) are
 * written as hwloc memory attributes: {name = "Latency", initiator = node,
 * target = node, value = ns or GB/s}. */
static int m_export_xml(lua_State *L) {
  luaL_checkstring(L, 2); /* a number becomes a string (allocates) before the topology */
  size_t len;
  const char *p = lnb_to_text(L, 2, 2, "path", &len);
  if (len == 0) return luaL_argerror(L, 2, "path: the path is empty");
  char path[4096];
  if (len >= sizeof path) return luaL_argerror(L, 2, "path: longer than 4095 bytes");
  memcpy(path, p, len + 1);
  int n = 0;
  lnuma_memattr_value *values = lua_isnoneornil(L, 3) ? NULL : check_values(L, 3, &n);
  const lnuma_topology *topo = check_topo(L, 1);
  lnuma_error err;
  if (lnuma_topology_check_memattrs(topo, values, n, &err) != 0)
    return lnb_opterror(L, 3, "values", "%s", err.msg);
  if (lnuma_topology_export_xml_memattrs(topo, path, values, n, &err) != 0)
    return lnb_fail(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* Creates the metatables and the handle table of this state (idempotent);
 * leaves the "lnuma.Topology" metatable on the stack. */
static void topo_setup(lua_State *L) {
  static const luaL_Reg handle_meta[] = {
      {"__gc", handle_release},
      {"__close", handle_release},
      {NULL, NULL},
  };
  static const luaL_Reg methods[] = {
      {"node_of_cpu", m_node_of_cpu},
      {"cpus_of", m_cpus_of},
      {"distance", m_distance},
      {"nearest", m_nearest},
      {"node_of_device", m_node_of_device},
      {"export_xml", m_export_xml},
      {NULL, NULL},
  };
  lnb_new_class(L, HANDLE_MT, NULL, handle_meta);
  lua_pop(L, 1);
  /* Weak-keyed table -> handle, once per state (opening the module again
   * must not orphan the topologies already made). */
  if (lua_getfield(L, LUA_REGISTRYINDEX, HANDLES_KEY) != LUA_TTABLE) {
    lua_createtable(L, 0, 1);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
  }
  lua_pop(L, 1);
  lnb_new_class(L, TOPO_MT, methods, NULL);
}

void lnuma_open_topology(lua_State *L) {
  topo_setup(L);
  /* The Lua face adds summary() to the same methods table. */
  lua_getfield(L, -1, "__index");
  lua_setfield(L, -3, "Topology");
  lua_pop(L, 1);
  lua_pushcfunction(L, topo_load);
  lua_setfield(L, -2, "topology");
  /* The method again as a plain function, which the Lua face's export_xml
   * (lua/lnuma/topology.lua) calls however often that module is loaded. */
  lua_pushcfunction(L, m_export_xml);
  lua_setfield(L, -2, "topology_export_xml");
}
