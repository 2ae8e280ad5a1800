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
  "argparse",   -- the CLI
  "dkjson",     -- lnuma.report.json
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
        "csrc/core/arena.c",
        "csrc/core/buffer.c",
        "csrc/core/clock.c",
        "csrc/core/error.c",
        "csrc/core/exec.c",
        "csrc/core/exec_sample.c",
        "csrc/core/histogram.c",
        "csrc/core/input.c",
        "csrc/core/kernels_avx2.c",
        "csrc/core/kernels_avx512.c",
        "csrc/core/kernels_bandwidth.c",
        "csrc/core/kernels_c.c",
        "csrc/core/kernels_c2c.c",
        "csrc/core/kernels_chase.c",
        "csrc/core/kernels_dispatch.c",
        "csrc/core/kernels_loaded.c",
        "csrc/core/kernels_traffic.c",
        "csrc/core/numastat.c",
        "csrc/core/pagesize.c",
        "csrc/core/placement.c",
        "csrc/core/policy.c",
        "csrc/core/pool.c",
        "csrc/core/set.c",
        "csrc/core/size.c",
        "csrc/core/system.c",
        "csrc/core/team.c",
        "csrc/core/terminal.c",
        "csrc/core/thp.c",
        "csrc/core/topology.c",
        "csrc/core/topology_input.c",
        "csrc/core/topology_io.c",
        "csrc/core/topology_probe.c",
        "csrc/lua/affinity.c",
        "csrc/lua/allocopts.c",
        "csrc/lua/arena.c",
        "csrc/lua/binding.c",
        "csrc/lua/clock.c",
        "csrc/lua/exec.c",
        "csrc/lua/handoff.c",
        "csrc/lua/histogram.c",
        "csrc/lua/kernels.c",
        "csrc/lua/lnuma.c",
        "csrc/lua/memory.c",
        "csrc/lua/mempolicy.c",
        "csrc/lua/placement.c",
        "csrc/lua/pool.c",
        "csrc/lua/sandbox.c",
        "csrc/lua/set.c",
        "csrc/lua/topology.c",
      },
      defines = { "_GNU_SOURCE", "LNUMA_BUILDING" },
      incdirs = { "csrc/include", "csrc/core", "$(NUMA_INCDIR)", "$(HWLOC_INCDIR)" },
      libdirs = { "$(NUMA_LIBDIR)", "$(HWLOC_LIBDIR)" },
      libraries = { "hwloc", "numa", "pthread", "m" },
    },
    -- lua modules: kept equal to lua/lnuma/*.lua (a spec checks)
    ["lnuma.bench"] = "lua/lnuma/bench.lua",
    ["lnuma.bench_bandwidth"] = "lua/lnuma/bench_bandwidth.lua",
    ["lnuma.bench_c2c"] = "lua/lnuma/bench_c2c.lua",
    ["lnuma.bench_curve"] = "lua/lnuma/bench_curve.lua",
    ["lnuma.bench_latency"] = "lua/lnuma/bench_latency.lua",
    ["lnuma.bench_loaded"] = "lua/lnuma/bench_loaded.lua",
    ["lnuma.bench_matrix"] = "lua/lnuma/bench_matrix.lua",
    ["lnuma.bench_memory"] = "lua/lnuma/bench_memory.lua",
    ["lnuma.bench_migration"] = "lua/lnuma/bench_migration.lua",
    ["lnuma.bench_util"] = "lua/lnuma/bench_util.lua",
    ["lnuma.cli"] = "lua/lnuma/cli.lua",
    ["lnuma.cli_bandwidth"] = "lua/lnuma/cli_bandwidth.lua",
    ["lnuma.cli_bench"] = "lua/lnuma/cli_bench.lua",
    ["lnuma.cli_c2c"] = "lua/lnuma/cli_c2c.lua",
    ["lnuma.cli_compare"] = "lua/lnuma/cli_compare.lua",
    ["lnuma.cli_exec"] = "lua/lnuma/cli_exec.lua",
    ["lnuma.cli_latency"] = "lua/lnuma/cli_latency.lua",
    ["lnuma.cli_loaded"] = "lua/lnuma/cli_loaded.lua",
    ["lnuma.cli_matrix"] = "lua/lnuma/cli_matrix.lua",
    ["lnuma.cli_migration"] = "lua/lnuma/cli_migration.lua",
    ["lnuma.cli_plan"] = "lua/lnuma/cli_plan.lua",
    ["lnuma.cli_report"] = "lua/lnuma/cli_report.lua",
    ["lnuma.cli_run"] = "lua/lnuma/cli_run.lua",
    ["lnuma.cli_survey"] = "lua/lnuma/cli_survey.lua",
    ["lnuma.cli_topo"] = "lua/lnuma/cli_topo.lua",
    ["lnuma.clock"] = "lua/lnuma/clock.lua",
    ["lnuma.curve_levels"] = "lua/lnuma/curve_levels.lua",
    ["lnuma.exec"] = "lua/lnuma/exec.lua",
    ["lnuma.exec_runner"] = "lua/lnuma/exec_runner.lua",
    ["lnuma"] = "lua/lnuma/init.lua",
    ["lnuma.memory"] = "lua/lnuma/memory.lua",
    ["lnuma.plan"] = "lua/lnuma/plan.lua",
    ["lnuma.plan_check"] = "lua/lnuma/plan_check.lua",
    ["lnuma.plan_sandbox"] = "lua/lnuma/plan_sandbox.lua",
    ["lnuma.report"] = "lua/lnuma/report.lua",
    ["lnuma.report_check"] = "lua/lnuma/report_check.lua",
    ["lnuma.report_exec"] = "lua/lnuma/report_exec.lua",
    ["lnuma.report_svg"] = "lua/lnuma/report_svg.lua",
    ["lnuma.report_text"] = "lua/lnuma/report_text.lua",
    ["lnuma.survey"] = "lua/lnuma/survey.lua",
    ["lnuma.topology"] = "lua/lnuma/topology.lua",
  },
  install = {
    bin = { lnuma = "bin/lnuma" },
  },
}
test = {
  type = "busted",
}
