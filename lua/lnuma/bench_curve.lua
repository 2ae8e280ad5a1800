--- The latency curve: latency by working-set size, every cache level a step
-- (`lnuma.bench.latency_curve`).
-- @module lnuma.bench_curve

local U = require "lnuma.bench_util"
local latency = require "lnuma.bench_latency"

local argerror = U.argerror
local check_opts = U.check_opts
local opt_size = U.opt_size
local machine = U.machine
local new_result = U.new_result
local warn = U.warn
local numa_balancing_warning = U.numa_balancing_warning
local placement = U.placement
local alloc = U.alloc
local progress_fn = U.progress_fn
local caches_of = U.caches_of
local first_allowed_cpu = U.first_allowed_cpu
local KIB = U.KIB
local MIB = U.MIB
local max = math.max

local M = {}

local function default_curve_sizes(topo, cpu)
  local caches = caches_of(topo, cpu)
  table.sort(caches, function(a, b) return a.size < b.size end)
  local llc = caches[#caches] and caches[#caches].size or 32 * MIB
  local top = max(64 * MIB, 2 * llc)
  local sizes, s = {}, 4 * KIB
  while s < top do
    sizes[#sizes + 1] = s
    s = s * 2
  end
  sizes[#sizes + 1] = s
  return sizes
end

--- Latency by working-set size, from 4 KiB to beyond the last-level cache,
-- so that every cache level shows as a step.
-- @tparam table opts as `latency` (its `size` excepted), plus `sizes` (array
--   of sizes; default: powers of two from 4 KiB to twice the last-level cache,
--   at least 64 MiB) and `progress` (boolean; default: when stderr is a terminal)
-- @treturn table result with `points` (`{size, latency_ns, spread}` each),
--   `caches` (the levels the CPU sees, from the topology), `placement`,
--   `cpus_ran`, `warnings`
function M.latency_curve(opts)
  local known = {}
  for k in pairs(latency.KEYS) do known[k] = true end
  known.size, known.buffer, known.sizes, known.progress = nil, nil, true, true
  local o = check_opts("latency_curve", opts, known)
  local topo, msg, code = machine()
  if not topo then return nil, msg, code end
  local base = {}
  for k, v in pairs(o) do base[k] = v end
  base.sizes, base.progress = nil, nil
  local p = latency.params("latency_curve", topo, base)
  p.size = nil
  local sizes = {}
  if o.sizes ~= nil then
    if type(o.sizes) ~= "table" or #o.sizes == 0 then
      argerror("latency_curve", "sizes", "non-empty array of sizes expected")
    end
    for i, s in ipairs(o.sizes) do sizes[i] = opt_size("latency_curve", { s = s }, "s") end
  else
    sizes = default_curve_sizes(topo, p.cpu)
  end
  table.sort(sizes)
  p.sizes = sizes
  local r = new_result("latency_curve", p, {
    latency_ns = "ns per load", size = "bytes", spread = "fraction of the median",
  })
  for k, v in pairs(p) do r[k] = v end
  r.caches = caches_of(topo, p.cpu)
  local largest = sizes[#sizes]
  local buf, amsg, acode = alloc(largest, p.node, p.huge)
  if not buf then return nil, amsg, acode end
  local show = progress_fn(o.progress, "latency curve")
  r.points, r.cpus_ran = {}, nil
  for i, size in ipairs(sizes) do
    show(i, #sizes, require("lnuma.report_text").size(size))
    local cell = new_result("latency", p, {})
    local view = size == largest and buf or buf:view(0, size)
    local ok, rmsg, rcode = latency.measure(cell, view, p)
    if not ok then
      show()
      buf:free()
      return nil, rmsg, rcode
    end
    r.points[i] = {
      size = size, latency_ns = cell.latency_ns, spread = cell.stats.spread,
      p99 = cell.chunks.p99,
    }
    r.cpus_ran = cell.cpus_ran
    for _, w in ipairs(cell.warnings) do
      warn(r, "%s: %s", require("lnuma.report_text").size(size), w)
    end
  end
  show()
  r.placement = placement(r, buf, { { offset = 0, length = largest, node = p.node } })
  buf:free()
  numa_balancing_warning(r, topo)
  return r
end

--- The working-set sizes `latency_curve` measures by default for a CPU:
-- powers of two from 4 KiB to twice the largest cache the CPU sees (at
-- least 64 MiB).
-- @tparam[opt] integer cpu default: the first allowed CPU
-- @treturn table sizes in bytes, ascending
function M.curve_sizes(cpu)
  local topo = assert(machine())
  return default_curve_sizes(topo, cpu or first_allowed_cpu(topo))
end

return M
