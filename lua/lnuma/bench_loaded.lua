--- Latency under load, as MLC's loaded-latency curve (`lnuma.bench.loaded_latency`).
-- @module lnuma.bench_loaded

local core = require "lnuma.core"
local U = require "lnuma.bench_util"

local argerror = U.argerror
local check_opts = U.check_opts
local opt_size = U.opt_size
local opt_int = U.opt_int
local opt_choice = U.opt_choice
local opt_huge = U.opt_huge
local machine = U.machine
local check_node = U.check_node
local cpu_node = U.cpu_node
local allowed_cpus_of = U.allowed_cpus_of
local opt_cpus = U.opt_cpus
local new_result = U.new_result
local check_pinning = U.check_pinning
local numa_balancing_warning = U.numa_balancing_warning
local placement = U.placement
local alloc = U.alloc
local progress_fn = U.progress_fn
local MIB = U.MIB
local GIB = U.GIB
local KERNELS = U.KERNELS
local ISAS = U.ISAS
local PATTERNS = U.PATTERNS

local M = {}

local LOADED_KEYS = { size = true, traffic_size = true, cpus = true, threads = true,
                      node = true, kernel = true, delays = true, step_time = true,
                      pattern = true, huge = true, isa = true, progress = true }
local DEFAULT_DELAYS = { 0, 20, 50, 100, 200, 500, 1000, 2000, 5000, 20000 }

--- Latency under load (MLC's loaded-latency curve): one thread chases
-- pointers while the others stream memory with a kernel, pausing `delay`
-- spin iterations between 4 KiB chunks; fewer pauses, more bandwidth.
-- @tparam table opts `cpus` (the first chases; default: the allowed CPUs of
--   the node) or `threads`, `node` (memory node of both), `size` (chase,
--   "256M"), `traffic_size` (all traffic threads, "1G"), `kernel` (traffic,
--   "read"), `delays` (array, default 0..20000), `step_time` (ns per point,
--   100 ms), `pattern`, `huge`, `isa`
-- @treturn table result with `points` (`{delay, gbps, latency_ns}`),
--   `placement` (of the chase), `traffic_placement`, `cpus_ran`, `warnings`
function M.loaded_latency(opts)
  local o = check_opts("loaded_latency", opts, LOADED_KEYS)
  local topo, msg, code = machine()
  if not topo then return nil, msg, code end
  local f = "loaded_latency"
  local p = {
    size = opt_size(f, o, "size", 256 * MIB),
    traffic_size = opt_size(f, o, "traffic_size", GIB),
    kernel = opt_choice(f, o, "kernel", "read", KERNELS),
    isa = opt_choice(f, o, "isa", "auto", ISAS),
    pattern = opt_choice(f, o, "pattern", "random", PATTERNS),
    huge = opt_huge(f, o),
    step_time = opt_int(f, o, "step_time", 100000000, 1),
  }
  if p.pattern == "stride" then argerror(f, "pattern", "stride is not offered here") end
  if o.node ~= nil then p.node = check_node(f, topo, "node", o.node) end
  local cpus = opt_cpus(f, topo, o, "cpus")
  local threads = opt_int(f, o, "threads", nil, 2, 4096)
  if not cpus then
    local pool = p.node and allowed_cpus_of(topo, p.node) or {}
    if #pool < 2 then pool = topo.allowed.cpus end
    cpus = {}
    for i = 1, threads or #pool do cpus[i] = pool[(i - 1) % #pool + 1] end
  end
  if #cpus < 2 then argerror(f, "cpus", "a chaser and at least one traffic thread: 2 CPUs") end
  p.cpus, p.threads = cpus, #cpus
  p.node = p.node or cpu_node(topo, cpus[1])
  local delays = o.delays or DEFAULT_DELAYS
  if type(delays) ~= "table" or #delays == 0 then argerror(f, "delays", "array expected") end
  for i, d in ipairs(delays) do
    if math.type(d) ~= "integer" or d < 0 then
      argerror(f, "delays", ("element %d is not an integer >= 0"):format(i))
    end
  end
  p.delays = delays
  local r = new_result("loaded_latency", p, {
    latency_ns = "ns per load", gbps = "GB/s (1e9 bytes/s)", delay = "spin iterations "
      .. "between 4 KiB chunks of each traffic thread", size = "bytes", step_time = "ns",
  })
  for k, v in pairs(p) do r[k] = v end
  local chase, amsg, acode = alloc(p.size, p.node, p.huge)
  if not chase then return nil, amsg, acode end
  local traffic
  traffic, amsg, acode = alloc(p.traffic_size, p.node, p.huge)
  if not traffic then
    chase:free()
    return nil, amsg, acode
  end
  local show = progress_fn(o.progress, "loaded latency")
  show(1, 1, ("%d steps of %d ms"):format(#delays, p.step_time // 1000000))
  local raw, rmsg, rcode = core.bench_loaded(chase, traffic, {
    cpus = cpus, kernel = p.kernel, isa = p.isa, delays = delays, step_time = p.step_time,
    pattern = p.pattern,
  })
  show()
  if raw then
    r.points = {}
    for i, pt in ipairs(raw.points) do
      r.points[i] = { delay = pt.delay, latency_ns = pt.latency_ns,
                      gbps = pt.traffic_ns > 0 and pt.traffic_bytes / pt.traffic_ns or 0,
                      chase_loads = pt.chase_loads, traffic_bytes = pt.traffic_bytes }
    end
    r.cpus_ran = check_pinning(r, raw.threads)
    r.placement = placement(r, chase, { { offset = 0, length = p.size, node = p.node } })
    r.traffic_placement = placement(r, traffic,
      { { offset = 0, length = p.traffic_size, node = p.node } })
  end
  chase:free()
  traffic:free()
  if not raw then return nil, rmsg, rcode end
  numa_balancing_warning(r, topo)
  return r
end

return M
