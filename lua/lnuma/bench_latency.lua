--- Memory latency: a dependent pointer chase on one pinned thread (`lnuma.bench.latency`).
-- @module lnuma.bench_latency

local core = require "lnuma.core"
local U = require "lnuma.bench_util"

local argerror = U.argerror
local check_opts = U.check_opts
local opt_size = U.opt_size
local opt_int = U.opt_int
local opt_choice = U.opt_choice
local opt_huge = U.opt_huge
local opt_buffer = U.opt_buffer
local policy_nodes = U.policy_nodes
local machine = U.machine
local check_node = U.check_node
local cpu_node = U.cpu_node
local allowed_cpus_of = U.allowed_cpus_of
local sorted = U.sorted
local quantile = U.quantile
local stats = U.stats
local new_result = U.new_result
local check_pinning = U.check_pinning
local numa_balancing_warning = U.numa_balancing_warning
local placement = U.placement
local alloc = U.alloc
local first_allowed_cpu = U.first_allowed_cpu
local L = U.L
local MIB = U.MIB
local PATTERNS = U.PATTERNS

local M = {}

local LATENCY_KEYS = { size = true, node = true, cpu = true, huge = true, pattern = true,
                       stride = true, line = true, repetitions = true, min_time = true,
                       chunks = true, seed = true, buffer = true }

-- Normalised latency options, shared by latency, latency_curve and matrix.
function M.params(fname, topo, o)
  local buffer = opt_buffer(fname, o)
  local p = {
    size = opt_size(fname, o, "size", buffer and buffer:size() or 256 * MIB),
    pattern = opt_choice(fname, o, "pattern", "random", PATTERNS),
    huge = opt_huge(fname, o),
    repetitions = opt_int(fname, o, "repetitions", 5, 1, 100000),
    min_time = opt_int(fname, o, "min_time", 20000000, 0),
    chunks = opt_int(fname, o, "chunks", 32, 1, 100000),
    seed = opt_int(fname, o, "seed", 0x5eed),
    line = o.line and opt_size(fname, o, "line", 64) or nil,
    stride = o.stride and opt_size(fname, o, "stride", 0) or nil,
  }
  if p.pattern == "stride" and not p.stride then
    argerror(fname, "stride", "the stride pattern needs a stride (bytes)", 3)
  end
  if o.cpu ~= nil then
    p.cpu = opt_int(fname, o, "cpu", nil, 0)
    if not cpu_node(topo, p.cpu) then
      argerror(fname, "cpu", ("CPU %d does not exist"):format(p.cpu), 3)
    end
  end
  if o.node ~= nil then p.node = check_node(fname, topo, "node", o.node) end
  -- The CPU defaults to one of the memory's node, the node to the CPU's.
  if p.cpu == nil then
    local cpus = p.node and allowed_cpus_of(topo, p.node) or {}
    p.cpu = cpus[1] or first_allowed_cpu(topo)
  end
  if p.node == nil then p.node = buffer and policy_nodes(buffer) or cpu_node(topo, p.cpu) end
  if buffer and p.size > buffer:size() then
    argerror(fname, "size", ("%d bytes do not fit in the buffer (%d bytes)")
      :format(p.size, buffer:size()), 3)
  end
  return p, buffer
end

-- One latency measurement on memory buf (already allocated on p.node).
function M.measure(r, buf, p)
  local raw, msg, code = core.bench_latency(buf, {
    cpu = p.cpu, pattern = p.pattern, line = p.line, stride = p.stride, seed = p.seed,
    repetitions = p.repetitions, min_time = p.min_time, chunks = p.chunks,
  })
  if not raw then return nil, msg, code end
  local loads = raw.chunk_loads * p.chunks
  -- A repetition's figure is the median of its chunks: a chunk during which
  -- the thread was preempted (a shared machine) does not move it.  The mean
  -- (all loads over all time) is kept beside it.
  local reps, means, per_chunk = {}, {}, {}
  for i, ns in ipairs(raw.chunk_ns) do per_chunk[i] = ns / raw.chunk_loads end
  for i, ns in ipairs(raw.rep_ns) do
    means[i] = ns / loads
    local chunk = {}
    for c = 1, p.chunks do chunk[c] = per_chunk[(i - 1) * p.chunks + c] end
    reps[i] = L().bench.stats(chunk).median
  end
  r.mean_ns = means
  local s = sorted(per_chunk)
  r.cpus_ran = check_pinning(r, { raw.thread })
  r.repetitions = reps
  r.stats = stats(reps)
  r.latency_ns = r.stats.median
  r.slots = raw.slots
  r.loads = loads
  r.chunks = {
    count = #s, loads = raw.chunk_loads, min = s[1], p50 = quantile(s, 0.5),
    p90 = quantile(s, 0.9), p99 = quantile(s, 0.99), p999 = quantile(s, 0.999), max = s[#s],
  }
  return r
end

--- Load-to-use latency of memory: a dependent pointer chase through a
-- random cycle of cache lines, on one pinned thread.
-- @tparam table opts `size` (default "256M"), `node` (memory node; default:
--   the CPU's), `cpu` (default: the first allowed CPU of the node), `huge`
--   (false, true/"thp", "2M", "1G"), `pattern` ("random" (default): 4 KiB
--   blocks in random order, lines in random order, adjacent lines never in
--   the same visit; "uniform": one random cycle over all lines, a TLB miss
--   per load on large buffers; "sequential"; "stride" with `stride` bytes),
--   `line` (slot size, 64), `repetitions` (5), `min_time` (ns per repetition,
--   20 ms), `chunks` (timed chunks per repetition, 32), `seed`, `buffer` (an
--   `lnuma.alloc` buffer to measure instead of a new one: its first `size`
--   bytes are overwritten; `node` is then the node the pages should be on,
--   by default the nodes of the buffer's policy or the CPU's node)
-- @treturn table result with `latency_ns` (median ns per load), `stats`,
--   `repetitions`, `chunks` (percentiles of per-chunk ns per load),
--   `placement = {node, fraction, ...}`, `cpus_ran`, `warnings`
-- @return[2] nil when memory or pinning is refused
-- @treturn[2] string message
-- @treturn[2] integer errno
function M.latency(opts)
  local o = check_opts("latency", opts, LATENCY_KEYS)
  local topo, msg, code = machine()
  if not topo then return nil, msg, code end
  local p, user_buf = M.params("latency", topo, o)
  local r = new_result("latency", p, {
    latency_ns = "ns per load", size = "bytes",
    repetitions = "ns per load (median of the repetition's chunks)",
    mean_ns = "ns per load (all loads of a repetition over its time)",
    chunks = "ns per load", min_time = "ns",
  })
  for k, v in pairs(p) do r[k] = v end
  r.parameters.buffer = user_buf and tostring(user_buf) or nil
  local buf = user_buf
  if not buf then
    local amsg, acode
    buf, amsg, acode = alloc(p.size, p.node, p.huge)
    if not buf then return nil, amsg, acode end
  elseif p.size < buf:size() then
    buf = buf:view(0, p.size)
  end
  local ok, rmsg, rcode = M.measure(r, buf, p)
  if ok then r.placement = placement(r, buf, { { offset = 0, length = p.size, node = p.node } }) end
  if not user_buf then buf:free() end
  if not ok then return nil, rmsg, rcode end
  numa_balancing_warning(r, topo)
  return r
end


M.KEYS = LATENCY_KEYS

return M
