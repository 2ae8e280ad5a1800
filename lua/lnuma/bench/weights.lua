--- Bandwidth and latency across per-buffer weight mixes (`lnuma.bench.weights`):
-- how to use a CXL or HBM node next to DRAM.
-- @module lnuma.bench.weights

local core = require "lnuma.core"
local U = require "lnuma.bench.util"
local O = require "lnuma.options"
local W = require "lnuma.weights"


local M = {}

local KEYS = { nodes = true, points = true, vectors = true, size = true, kernel = true,
               threads = true, cpus = true, cpu = true, isa = true, huge = true,
               repetitions = true, min_time = true, latency = true, latency_size = true,
               seed = true }

local MAX_POINTS = W.MAX_POINTS

-- The nodes with memory, in order.
local function memory_nodes(topo)
  local out = {}
  for _, n in ipairs(topo.nodes) do
    if (n.memory or 0) > 0 then out[#out + 1] = n.os_index end
  end
  table.sort(out)
  return out
end

-- vectors = { {[node] = weight, ...}, ... }: a copy, each vector's nodes existing.
local function opt_vectors(fname, topo, v)
  if type(v) ~= "table" or #v == 0 then
    O.argerror(fname, "vectors", "a list of weight tables {[node] = weight, ...} expected", 4)
  end
  if #v > MAX_POINTS then
    O.argerror(fname, "vectors", ("%d vectors, more than the %d allowed"):format(#v, MAX_POINTS),
             4)
  end
  local out = {}
  for i, w in ipairs(v) do
    if type(w) ~= "table" then
      O.argerror(fname, "vectors", ("element %d: a table {[node] = weight} expected, got %s")
        :format(i, type(w)), 4)
    end
    local copy = {}
    for node, weight in pairs(w) do copy[node] = weight end
    -- The core's checks of a weight table (caps, types), then the machine's.
    local ok, err = pcall(W.pattern, copy, 1)
    if not ok then
      O.argerror(fname, "vectors", ("element %d: %s"):format(i,
        tostring(err):match("%((weights: .*)%)$") or tostring(err)), 4)
    end
    for node in pairs(copy) do U.check_node(fname, topo, "vectors", node) end
    out[i] = copy
  end
  return out
end

local function params(fname, topo, o)
  local p = {
    size = O.opt_size(fname, o, "size", U.default_bandwidth_size(topo)),
    kernel = O.opt_choice(fname, o, "kernel", "read", U.KERNELS),
    isa = O.opt_choice(fname, o, "isa", "auto", U.ISAS),
    huge = O.opt_huge(fname, o),
    repetitions = O.opt_int(fname, o, "repetitions", 3, 1, 100000),
    min_time = O.opt_int(fname, o, "min_time", 20000000, 0),
    latency = O.opt_bool(fname, o, "latency", true),
    seed = O.opt_int(fname, o, "seed", 1),
  }
  p.cpus = O.opt_cpus(fname, topo, o, "cpus")
  local threads = O.opt_int(fname, o, "threads", nil, 1, 4096)
  if p.cpus and threads and threads ~= #p.cpus then
    O.argerror(fname, "threads", ("%d threads but %d CPUs in cpus"):format(threads, #p.cpus), 3)
  end
  p.threads = threads
  if o.cpu ~= nil then
    p.cpu = O.opt_int(fname, o, "cpu", nil, 0)
    if not U.cpu_node(topo, p.cpu) then
      O.argerror(fname, "cpu", ("CPU %d does not exist"):format(p.cpu), 3)
    end
  end
  p.latency_size = O.opt_size(fname, o, "latency_size", math.min(p.size,
    require("lnuma.llc").latency_size(topo, p.cpu)))
  if p.latency_size > p.size then
    O.argerror(fname, "latency_size", ("%d bytes do not fit in the buffer (%d bytes)")
      :format(p.latency_size, p.size), 3)
  end
  if o.vectors ~= nil then
    if o.nodes ~= nil or o.points ~= nil then
      O.argerror(fname, "vectors", "give vectors, or nodes and points, not both", 3)
    end
    p.vectors = opt_vectors(fname, topo, o.vectors)
    return p
  end
  local nodes
  if o.nodes ~= nil then
    -- An array or a list string, read as a sorted set of nodes.
    local ok, set = pcall(core.cpulist, o.nodes)
    if ok and type(set) == "string" then ok, set = pcall(core.cpulist, set) end
    if not ok or type(set) ~= "table" then
      O.argerror(fname, "nodes", "an array of nodes or a list such as \"0,1\" expected", 3)
    end
    nodes = set
    for _, n in ipairs(nodes) do U.check_node(fname, topo, "nodes", n) end
  else
    nodes = memory_nodes(topo)
  end
  p.points = O.opt_int(fname, o, "points", 11, 2, MAX_POINTS)
  if #nodes == 1 then
    p.vectors = { { [nodes[1]] = 1 } }
  elseif #nodes == 2 then
    p.vectors = W.steps(nodes[1], nodes[2], p.points)
  else
    O.argerror(fname, o.nodes ~= nil and "nodes" or "vectors",
             ("%d nodes: a stepped sweep takes two (name them with nodes = {a, b}, or give "
              .. "the weight vectors to measure with vectors = {...})"):format(#nodes), 3)
  end
  p.nodes = nodes
  return p
end

-- A seeded shuffle of 1..n (drift and neighbours fall on every mix alike).
local function run_order(n, seed)
  local order, state = {}, seed
  for i = 1, n do order[i] = i end
  for i = n, 2, -1 do
    state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    local j = state % i + 1
    order[i], order[j] = order[j], order[i]
  end
  return order
end

local function copy_warnings(r, from, label)
  for _, w in ipairs(from.warnings or {}) do U.warn(r, "%s: %s", label, w) end
end

-- One mix: allocate, prove the placement, measure.
local function measure_point(r, p, w)
  local memory = require "lnuma.memory"
  -- The benchmarks' own modules, not lnuma's table (no knot with init.lua).
  local bandwidth = require("lnuma.bench.bandwidth").bandwidth
  local latency = require("lnuma.bench.latency").latency
  local point = { weights = w, label = W.format(w), ratio = W.ratio(w) }
  local opts = { weights = w }
  if p.huge ~= nil then opts.huge = p.huge end
  local buf, msg, code = memory.alloc(p.size, opts)
  if not buf then return nil, ("weights %s: %s"):format(point.label, msg), code end
  local proof, pmsg = W.check(buf)
  if not proof then
    buf:free()
    return nil, ("weights %s: placement: %s"):format(point.label, pmsg)
  end
  point.placement = proof
  if not proof.ok or not proof.within_one_chunk then
    U.warn(r, "weights %s: %d pages off their chunk's node, %d absent; pages per node deviate "
         .. "by %.0f from the mix (one chunk is %d pages)", point.label, proof.misplaced,
         proof.absent, proof.deviation_pages, proof.pages_per_chunk)
  end
  local info = buf:info()
  if info.policy_applied == false then
    U.warn(r, "weights %s: memory policy was not applied (%s)", point.label,
         tostring(info.policy_note))
  end
  local bw, bmsg, bcode = bandwidth {
    buffer = buf, kernel = p.kernel, isa = p.isa, cpus = p.cpus, threads = p.threads,
    repetitions = p.repetitions, min_time = p.min_time,
  }
  if not bw then
    buf:free()
    return nil, ("weights %s: bandwidth: %s"):format(point.label, bmsg), bcode
  end
  point.gbps, point.bandwidth_stats, point.bandwidth_repetitions = bw.gbps, bw.stats,
    bw.repetitions
  r.cpus_ran, r.isa, r.threads = bw.cpus_ran, bw.isa, bw.threads
  r.scope, r.llc = bw.scope, bw.llc -- the same size and CPUs at every point
  copy_warnings(r, bw, "weights " .. point.label .. ": bandwidth")
  if p.latency then
    local lat, lmsg, lcode = latency {
      buffer = buf, size = p.latency_size, cpu = p.cpu, repetitions = p.repetitions,
      min_time = p.min_time,
    }
    if not lat then
      buf:free()
      return nil, ("weights %s: latency: %s"):format(point.label, lmsg), lcode
    end
    point.latency_ns, point.latency_stats = lat.latency_ns, lat.stats
    point.latency_repetitions, point.latency_cpu = lat.repetitions, lat.cpu
    r.latency_scope, r.latency_llc = lat.scope, lat.llc
    copy_warnings(r, lat, "weights " .. point.label .. ": latency")
  end
  -- Measured on the pages just proven: check again that they stayed.
  local after = W.check(buf)
  if after and (after.misplaced ~= proof.misplaced or after.absent ~= proof.absent) then
    U.warn(r, "weights %s: placement changed during the run (%d pages now off their node)",
         point.label, after.misplaced)
  end
  buf:free()
  return point
end

-- The best point for a figure (higher or lower), or nil.
local function best(points, key, higher)
  local at
  for i, pt in ipairs(points) do
    local v = pt[key]
    if v and (not at or (higher and v > points[at][key]) or (not higher and v < points[at][key]))
    then
      at = i
    end
  end
  if not at then return nil end
  local pt = points[at]
  return { index = at, weights = pt.weights, label = pt.label, ratio = pt.ratio,
           [key] = pt[key] }
end

--- Bandwidth and latency of buffers placed with each of several weight mixes
-- (`policy = "weighted"`, see `lnuma.weights`), to find the mix that serves
-- best: how much of a CXL or HBM node to use next to DRAM.  Each point
-- allocates a buffer with its weights, proves page by page that its pages
-- follow the pattern (and the mix within one chunk), measures bandwidth
-- (`lnuma.bench.bandwidth` on that buffer) and latency (`lnuma.bench.latency`
-- on its first `latency_size` bytes: the pattern repeats, so any part holds
-- the mix), then checks the placement again.  Points run in a seeded
-- shuffled order.
-- @tparam[opt] table opts `nodes` (two nodes to step between; default the
--   nodes with memory: two give a sweep, one a single point), `points` (11:
--   100:0, 90:10, ... 0:100), or `vectors` (a list of weight tables, for any
--   number of nodes), `size` (bytes per buffer; default as `bandwidth`'s:
--   4 times the last-level caches, at least 1G), `kernel` (bandwidth
--   kernel, "read"), `threads` or `cpus`, `isa`, `huge` (chunks of the huge
--   page: "thp", "2M", "1G"), `repetitions` (3), `min_time` (ns, 20 ms),
--   `latency` (true: measure latency too), `latency_size` (bytes chased,
--   min(size, `lnuma.llc.latency_size`)), `cpu` (the latency CPU), `seed`
--   (of the run order)
-- @treturn[1] table result: `points` (each `{weights, label, ratio, gbps,
--   bandwidth_stats, latency_ns, latency_stats, placement}`, `placement` the
--   proof of `lnuma.weights.check`), `best = {bandwidth = {index, ratio,
--   weights, gbps}, latency = {index, ratio, weights, latency_ns}}`,
--   `run_order`, `placement` (`fraction` of points proven), `stats` (of the
--   points' bandwidth), `scope` and `llc` (of the bandwidth, as `bandwidth`'s),
--   `latency_scope` and `latency_llc` (as `latency`'s), `cpus_ran`, `clock`,
--   `units`, `warnings`
-- @return[2] nil when memory or pinning is refused
-- @treturn[2] string message
-- @treturn[2] integer errno
function M.weights(opts)
  local o = O.check_opts("weights", opts, KEYS)
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local p = params("weights", topo, o)
  local r = U.new_result("weights", p, {
    gbps = "GB/s (1e9 bytes/s)", latency_ns = "ns per load", size = "bytes",
    latency_size = "bytes", min_time = "ns", llc = "bytes", latency_llc = "bytes",
    placement = "pages (of the buffer's base page) per node; ideal: the pages the weights ask",
  })
  r.size, r.kernel, r.nodes, r.seed = p.size, p.kernel, p.nodes, p.seed
  r.latency_size = p.latency_size
  if #p.vectors == 1 and p.nodes and #p.nodes == 1 then
    U.warn(r, "one memory node (%d): nothing to sweep, one point measured", p.nodes[1])
  end
  r.run_order = run_order(#p.vectors, p.seed)
  local points = {}
  for _, i in ipairs(r.run_order) do
    local pt, pmsg, pcode = measure_point(r, p, p.vectors[i])
    if not pt then return nil, pmsg, pcode end
    pt.index = i
    points[i] = pt
  end
  r.points = points
  r.best = { bandwidth = best(points, "gbps", true), latency = best(points, "latency_ns", false) }
  local proven, gbps = 0, {}
  for i, pt in ipairs(points) do
    if pt.placement.ok and pt.placement.within_one_chunk then proven = proven + 1 end
    gbps[i] = pt.gbps
  end
  r.stats = U.stats(gbps)
  r.placement = { fraction = proven / #points, points = #points, proven = proven }
  U.numa_balancing_warning(r, topo)
  return r
end

return M
