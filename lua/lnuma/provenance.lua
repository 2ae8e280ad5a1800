--- The conditions a figure was measured under, recorded in every result as
-- `result.provenance` (and in a survey): a figure is only comparable with
-- another when these are known.  Read once per Lua state (the first result
-- reads them; later ones get a copy), from the C core (lnuma.sysinfo).
--
-- Fields (a fact that could not be read is the string "unknown"):
--
-- - `lnuma`: `{version, isa (what isa = "auto" picks), isas (this CPU's),
--   compiler}`
-- - `host`, `cpu = {vendor, model}`, `kernel = {release, version, machine}`
-- - `thp = {enabled, defrag, pmd_enabled, process_disabled}` ("absent"
--   without THP)
-- - `numa_balancing`: the integer in /proc/sys/kernel/numa_balancing
-- - `cpufreq = {cpu, governor, driver, cur_khz, max_khz, scaling_max_khz}`
--   ("unknown" where the kernel has no cpufreq, as in most VMs)
-- - `smt = {active, control}`
-- - `cgroup = {version, path, cpus, mems, memory_max}` (`memory_max` bytes or
--   "max"; cgroup v2 `cpuset.cpus.effective` and `memory.max`, v1
--   `cpuset.effective_cpus` and `memory.limit_in_bytes`)
-- - `hugetlb`: `{{node, size, page_size, reserved}, ...}` pages reserved per
--   node and size
-- - `clock = {source, kernel_clocksource, hz, frequency_source, invariant}`
--   (`hz`: the counter's frequency, the TSC's where `source` is "tsc")
-- - `hypervisor = {present, vendor, type}` (CPUID bit, leaf 0x40000000,
--   /sys/hypervisor/type)
-- @module lnuma.provenance

local core = require "lnuma.core"

local M = {}

local U = "unknown"

local function known(v)
  if v == nil then return U end
  return v
end

local function copy(t)
  if type(t) ~= "table" then return t end
  local o = {}
  for k, v in pairs(t) do o[k] = copy(v) end
  return o
end

--- Reads the conditions afresh (use `get` for the once-per-process record).
-- @treturn table provenance
function M.read()
  local s = core.sysinfo()
  local thp = core.thp()
  local ki = core.kernel_info()
  local clk = core.clock.info()
  local huge = {}
  for _, h in ipairs(require("lnuma.sysinfo").hugetlb(s.nodes)) do
    huge[#huge + 1] = { node = h.node, size = h.size, page_size = h.page_size,
                        reserved = h.reserved }
  end
  local isas = {}
  for i, v in ipairs(ki.isas or {}) do isas[i] = v end
  return {
    lnuma = { version = core._VERSION, isa = known(ki.best_isa), isas = isas,
              compiler = known(s.compiler) },
    host = known(s.hostname),
    cpu = { vendor = known(s.cpu_vendor), model = known(s.cpu_model) },
    kernel = { release = known(s.kernel_release), version = known(s.kernel_version),
               machine = known(s.machine) },
    thp = { enabled = thp.available and thp.enabled or "absent",
            defrag = thp.available and thp.defrag or "absent",
            pmd_enabled = thp.available and thp.pmd_enabled or "absent",
            process_disabled = thp.process_disabled },
    numa_balancing = known(s.numa_balancing),
    cpufreq = { cpu = known(s.freq_cpu), governor = known(s.governor),
                driver = known(s.freq_driver), cur_khz = known(s.cur_khz),
                max_khz = known(s.max_khz), scaling_max_khz = known(s.scaling_max_khz) },
    smt = { active = known(s.smt_active), control = known(s.smt_control) },
    cgroup = { version = known(s.cgroup_version), path = known(s.cgroup_path),
               cpus = known(s.cgroup_cpus), mems = known(s.cgroup_mems),
               memory_max = known(s.cgroup_memory_max) },
    hugetlb = huge,
    clock = { source = clk.source, kernel_clocksource = known(clk.kernel_clocksource),
              hz = clk.hz, frequency_source = clk.frequency_source,
              invariant = clk.invariant },
    hypervisor = { present = known(s.hypervisor), vendor = s.hypervisor_vendor or "none",
                   type = s.hypervisor_type or "none" },
  }
end

local cached

--- The conditions of this process, read on first use; each call returns a
-- fresh copy (a result may be changed without changing the next one's).
-- @treturn table provenance
function M.get()
  cached = cached or M.read()
  return copy(cached)
end

-- "hugetlb" entries are keyed by node and size, so that their order does
-- not count; lists of strings are joined.
local function flatten(v, prefix, out)
  if type(v) ~= "table" then
    out[prefix] = v
    return out
  end
  if prefix == "hugetlb" then
    for _, h in ipairs(v) do
      out[("hugetlb.node%s.%s"):format(tostring(h.node), tostring(h.size))] = h.reserved
    end
    return out
  end
  if #v > 0 and type(v[1]) ~= "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    out[prefix] = table.concat(parts, ",")
    return out
  end
  for k, x in pairs(v) do flatten(x, prefix == "" and tostring(k) or (prefix .. "." .. k), out) end
  return out
end

--- The provenance as one level of dotted keys (`["thp.enabled"] = "madvise"`,
-- `["hugetlb.node0.2M"] = 0`).
-- @tparam table p a provenance
-- @treturn table
function M.flatten(p) return flatten(p or {}, "", {}) end

-- Figures that move a little between runs on the same machine: equal when
-- within this fraction of each other.
M.TOLERANCE = { ["clock.hz"] = 1e-3, ["cpufreq.cur_khz"] = 0.05 }

local function same(key, a, b)
  if a == b then return true end
  local tol = M.TOLERANCE[key]
  if tol and type(a) == "number" and type(b) == "number" then
    return math.abs(a - b) <= tol * math.max(math.abs(a), math.abs(b))
  end
  return false
end

--- The conditions that differ between two provenances (a field that one
-- lacks reads "absent"; a result saved before provenance existed has none).
-- @tparam table|nil a
-- @tparam table|nil b
-- @treturn table array of `{field, a, b}`, sorted by field
function M.diff(a, b)
  local fa, fb = M.flatten(a), M.flatten(b)
  local keys, seen = {}, {}
  for k in pairs(fa) do keys[#keys + 1], seen[k] = k, true end
  for k in pairs(fb) do
    if not seen[k] then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local x, y = fa[k], fb[k]
    if x == nil then x = "absent" end
    if y == nil then y = "absent" end
    if not same(k, x, y) then out[#out + 1] = { field = k, a = x, b = y } end
  end
  return out
end

--- One line per differing condition, for `lnuma report A B`.
-- @tparam table diffs as `diff` returns
-- @treturn table array of strings ("thp.enabled: madvise -> always")
function M.diff_lines(diffs)
  local out = {}
  for i, d in ipairs(diffs) do
    out[i] = ("%s: %s -> %s"):format(d.field, tostring(d.a), tostring(d.b))
  end
  return out
end

return M
