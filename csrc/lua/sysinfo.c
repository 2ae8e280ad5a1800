/* Bindings of lnuma/sysinfo.h: lnuma.core.sysinfo() and lnuma.core.mkdir().
 * Facts that could not be read are left out of the table (nil). */
#include <string.h>

#include "binding.h"

static void set_text(lua_State *L, const char *key, const char *v) {
  if (v[0] == '\0') return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, int64_t v) {
  if (v == LNUMA_UNKNOWN) return;
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, int v) {
  if (v == LNUMA_UNKNOWN) return;
  lua_pushboolean(L, v);
  lua_setfield(L, -2, key);
}

/* lnuma.core.sysinfo() -> {kernel_release, kernel_version, machine, hostname,
 * cpu_vendor, cpu_model, numa_balancing, smt_active, smt_control, freq_cpu,
 * governor, freq_driver, cur_khz, max_khz, scaling_max_khz, hypervisor,
 * hypervisor_vendor, hypervisor_type, cgroup_version, cgroup_path,
 * cgroup_cpus, cgroup_mems, cgroup_memory_max ("max" or bytes),
 * weighted_interleave, move_pages, compiler, numa (the kernel has NUMA
 * syscalls), nodes (the online nodes, an array)}. */
static int l_sysinfo(lua_State *L) {
  lnuma_sysinfo s;
  lnuma_error err;
  if (lnuma_sysinfo_read(&s, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, 28);
  set_text(L, "kernel_release", s.kernel_release);
  set_text(L, "kernel_version", s.kernel_version);
  set_text(L, "machine", s.machine);
  set_text(L, "hostname", s.hostname);
  set_text(L, "cpu_vendor", s.cpu_vendor);
  set_text(L, "cpu_model", s.cpu_model);
  set_int(L, "numa_balancing", s.numa_balancing);
  set_bool(L, "smt_active", s.smt_active);
  set_text(L, "smt_control", s.smt_control);
  set_int(L, "freq_cpu", s.freq_cpu);
  set_text(L, "governor", s.governor);
  set_text(L, "freq_driver", s.freq_driver);
  set_int(L, "cur_khz", s.cur_khz);
  set_int(L, "max_khz", s.max_khz);
  set_int(L, "scaling_max_khz", s.scaling_max_khz);
  set_bool(L, "hypervisor", s.hypervisor);
  set_text(L, "hypervisor_vendor", s.hypervisor_vendor);
  set_text(L, "hypervisor_type", s.hypervisor_type);
  set_int(L, "cgroup_version", s.cgroup_version);
  set_text(L, "cgroup_path", s.cgroup_path);
  set_text(L, "cgroup_cpus", s.cgroup_cpus);
  set_text(L, "cgroup_mems", s.cgroup_mems);
  if (s.cgroup_memory_max == LNUMA_CGROUP_NO_LIMIT) {
    lua_pushliteral(L, "max");
    lua_setfield(L, -2, "cgroup_memory_max");
  } else {
    set_int(L, "cgroup_memory_max", s.cgroup_memory_max);
  }
  set_bool(L, "weighted_interleave", s.weighted_interleave);
  set_bool(L, "move_pages", s.move_pages);
  set_text(L, "compiler", s.compiler);
  lua_pushboolean(L, lnuma_numa_available());
  lua_setfield(L, -2, "numa");
  lnuma_set nodes;
  if (lnuma_nodes_online(&nodes, NULL) == 0) {
    lnb_push_set(L, &nodes);
    lua_setfield(L, -2, "nodes");
  }
  return 1;
}

/* lnuma.core.mkdir(path) -> true, or nil, message, errno (mkdir -p). */
static int l_mkdir(lua_State *L) {
  size_t len;
  const char *p = lnb_to_text(L, 1, 1, "path", &len);
  lnuma_error err;
  /* No Lua runs between here and the call: p stays valid. */
  if (lnuma_mkdir_p(p, &err) != 0) return lnb_fail(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

void lnuma_open_sysinfo(lua_State *L) {
  static const luaL_Reg funcs[] = {{"sysinfo", l_sysinfo}, {"mkdir", l_mkdir}, {NULL, NULL}};
  luaL_setfuncs(L, funcs, 0);
}
