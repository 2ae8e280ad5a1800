rockspec_format = "3.0"
package = "lnuma"
version = "scm-1"
source = {
  url = "git+file:///dev/null",
}
description = {
  summary = "NUMA topology, placement and memory benchmarks for Lua 5.4",
  detailed = [[
lnuma discovers a machine's NUMA topology (hwloc), places memory and threads on
chosen nodes and CPUs (libnuma), verifies where the pages landed, and measures
the cost with nanosecond clocks and memory benchmarks.]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  NUMA = { header = "numa.h", library = "numa" },
  HWLOC = { header = "hwloc.h", library = "hwloc" },
}
build = {
  type = "builtin",
  modules = {
    ["lnuma.core"] = {
      sources = {
        -- sources: kept equal to the Makefile's csrc/core/*.c and csrc/lua/*.c (a spec checks)
        "csrc/core/error.c",
        "csrc/core/set.c",
        "csrc/core/size.c",
        "csrc/core/system.c",
        "csrc/lua/binding.c",
        "csrc/lua/lnuma.c",
        "csrc/lua/set.c",
      },
      defines = { "_GNU_SOURCE", "LNUMA_BUILDING" },
      incdirs = { "csrc/include", "csrc/core", "$(NUMA_INCDIR)", "$(HWLOC_INCDIR)" },
      libdirs = { "$(NUMA_LIBDIR)", "$(HWLOC_LIBDIR)" },
      libraries = { "hwloc", "numa", "pthread", "m" },
    },
    -- lua modules: kept equal to lua/lnuma/*.lua (a spec checks)
    ["lnuma"] = "lua/lnuma/init.lua",
    ["lnuma.cli"] = "lua/lnuma/cli.lua",
  },
  install = {
    bin = { lnuma = "bin/lnuma" },
  },
}
test = {
  type = "busted",
}
