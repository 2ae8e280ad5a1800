--- What this machine and kernel can do, as data (`lnuma.has`), and the raw
-- system facts behind it (`lnuma.sysinfo()`).  Every fact is read by the C
-- core (csrc/core/sysinfo.c, thp.c, numastat.c, clock.c, kernels_dispatch.c);
-- this module only assembles them.
-- @module lnuma.sysinfo

local core = require "lnuma.core"

local M = {}

local SIZE_NAMES = { [2097152] = "2M", [1073741824] = "1G" }

--- The system facts, read afresh: `kernel_release`, `kernel_version`,
-- `machine`, `hostname`, `cpu_vendor`, `cpu_model`, `numa_balancing` (the
-- integer in /proc/sys/kernel/numa_balancing), `smt_active`, `smt_control`,
-- `freq_cpu` (the CPU the frequency fields describe), `governor`,
-- `freq_driver`, `cur_khz`, `max_khz`, `scaling_max_khz`, `hypervisor`
-- (boolean, CPUID), `hypervisor_vendor` (CPUID leaf 0x40000000),
-- `hypervisor_type` (/sys/hypervisor/type), `cgroup_version` (1 or 2),
-- `cgroup_path`, `cgroup_cpus`, `cgroup_mems` (cpulists), `cgroup_memory_max`
-- (bytes, or "max" for no limit), `weighted_interleave`, `move_pages`,
-- `compiler` (that built lnuma), `numa`, `nodes` (online).  A fact that could
-- not be read is absent (nil).
-- @treturn table
function M.sysinfo() return core.sysinfo() end

--- Hugetlb pages of each size on each online node, read afresh.
-- @tparam[opt] table nodes node numbers (default: the online nodes)
-- @treturn table array of `{node, size = "2M", page_size, reserved, free,
--   surplus}` (pages), by node then size
function M.hugetlb(nodes)
  nodes = nodes or core.sysinfo().nodes or { 0 }
  local out = {}
  for _, node in ipairs(nodes) do
    local ok, mi = pcall(core.meminfo, node)
    if ok and type(mi) == "table" then
      local sizes = {}
      for _, h in pairs(mi.huge or {}) do sizes[#sizes + 1] = h end
      table.sort(sizes, function(a, b) return a.page_size < b.page_size end)
      for _, h in ipairs(sizes) do
        out[#out + 1] = { node = node, size = SIZE_NAMES[h.page_size] or tostring(h.page_size),
                          page_size = h.page_size, reserved = h.total, free = h.free,
                          surplus = h.surplus }
      end
    end
  end
  return out
end

local function contains(list, x)
  for _, v in ipairs(list or {}) do
    if v == x then return true end
  end
  return false
end

--- Builds the capability table (what `lnuma.has` holds, read afresh).
-- Booleans unless said otherwise; nil where the fact could not be read:
-- `numa` (NUMA syscalls), `nodes` (online nodes, count),
-- `thp` (transparent huge pages can be had: available and not "never"),
-- `thp_mode` ("always", "madvise", "never"), `thp_defrag`, `thp_pmd_size`
-- (bytes), `hugetlb` (array of `{node, size, page_size, reserved, free}`),
-- `hugetlb_2m`, `hugetlb_1g` (some pages of that size reserved on some node),
-- `weighted_interleave` (MPOL_WEIGHTED_INTERLEAVE), `move_pages` (the kernel
-- tells where pages are; false in sandboxes that refuse it), `avx2`,
-- `avx512` (AVX-512F: the kernels can use them), `best_isa` (what
-- `isa = "auto"` picks), `rdtscp`, `invariant_tsc` (the clock's findings),
-- `numa_balancing` (true when the kernel moves pages on its own),
-- `smt` (SMT active), `hypervisor` (its CPUID vendor, e.g. "KVMKVMKVM", or
-- false on bare metal), `cgroup` (1 or 2: the cgroup version).
-- @treturn table
function M.has()
  local s = core.sysinfo()
  local thp = core.thp()
  local ki = core.kernel_info()
  local clk = core.clock.info()
  local huge = M.hugetlb(s.nodes)
  local any = {}
  for _, h in ipairs(huge) do
    if h.reserved > 0 then any[h.size] = true end
  end
  local balancing -- nil when unknown
  if s.numa_balancing ~= nil then balancing = s.numa_balancing ~= 0 end
  local hv = s.hypervisor
  if hv then hv = s.hypervisor_vendor or s.hypervisor_type or "unknown" end
  return {
    numa = s.numa,
    nodes = s.nodes and #s.nodes or nil,
    thp = thp.available and thp.pmd_enabled ~= "never" and not thp.process_disabled,
    thp_mode = thp.available and thp.enabled or nil,
    thp_defrag = thp.available and thp.defrag or nil,
    thp_pmd_size = thp.pmd_size,
    hugetlb = huge,
    hugetlb_2m = any["2M"] == true,
    hugetlb_1g = any["1G"] == true,
    weighted_interleave = s.weighted_interleave,
    move_pages = s.move_pages,
    avx2 = contains(ki.isas, "avx2"),
    avx512 = contains(ki.isas, "avx512"),
    best_isa = ki.best_isa,
    rdtscp = clk.rdtscp,
    invariant_tsc = clk.invariant,
    numa_balancing = balancing,
    smt = s.smt_active,
    hypervisor = hv,
    cgroup = s.cgroup_version,
  }
end

--- Creates a directory and the missing ones above it (`mkdir -p`, no shell).
-- @function mkdir
-- @tparam string path
-- @treturn[1] boolean true (also when it exists)
-- @return[2] nil
-- @treturn[2] string message ("mkdir a/b: Not a directory")
-- @treturn[2] integer errno
M.mkdir = core.mkdir

--- The capability lines `lnuma topo` prints.
-- @tparam table has as `has()` returns
-- @treturn string
function M.has_text(has)
  local function yn(v) return v == nil and "unknown" or (v and "yes" or "no") end
  local huge = {}
  for _, h in ipairs(has.hugetlb or {}) do
    if h.reserved > 0 then
      huge[#huge + 1] = ("node %d: %d x %s"):format(h.node, h.reserved, h.size)
    end
  end
  local lines = {
    "\nCapabilities:",
    ("  THP: %s (mode %s, defrag %s)"):format(yn(has.thp), has.thp_mode or "absent",
      has.thp_defrag or "-"),
    ("  hugetlb pages reserved: %s"):format(#huge > 0 and table.concat(huge, ", ") or "none"),
    ("  weighted interleave: %s; move_pages: %s; NUMA balancing: %s"):format(
      yn(has.weighted_interleave), yn(has.move_pages), yn(has.numa_balancing)),
    ("  AVX2: %s; AVX-512: %s (kernels use %s)"):format(yn(has.avx2), yn(has.avx512),
      has.best_isa or "?"),
    ("  invariant TSC: %s; RDTSCP: %s; SMT: %s; hypervisor: %s"):format(yn(has.invariant_tsc),
      yn(has.rdtscp), yn(has.smt), has.hypervisor or "none"),
  }
  return table.concat(lines, "\n") .. "\n"
end

return M
