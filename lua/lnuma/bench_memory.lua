--- Memory benchmarks: latency (pointer chase), latency curve, bandwidth
-- (STREAM-like kernels), node-to-node matrices, loaded latency, core-to-core
-- latency and page migration.  These functions live in `lnuma.bench`.
--
-- The kernels run in C on pthreads pinned to the CPUs asked; the memory is an
-- `lnuma.alloc` buffer on the node asked.  Every result is a plain table that
-- carries what is needed to trust it: `parameters` and `units`, the CPUs the
-- threads actually ran on (`cpus_ran`), where the pages actually are
-- (`placement`, read back with move_pages), the clock and its overhead, the
-- repetitions with their median and spread (`stats`), and `warnings`, a list
-- that says loudly when placement or pinning did not hold.
-- @module lnuma.bench_memory

local core = require "lnuma.core"

local M = {}

-- init.lua requires this module while it builds the lnuma table: fetch that
-- table when a benchmark runs, not at load time.
local function L() return require "lnuma" end

local KIB, MIB, GIB = 1024, 1024 * 1024, 1024 * 1024 * 1024
local max, min = math.max, math.min

-- ---- arguments -----------------------------------------------------------------

local function argerror(fname, key, msg, level)
  error(("bad argument #1 to '%s' (%s%s)"):format(fname, key and (key .. ": ") or "", msg),
        (level or 2) + 1)
end

-- Checks that opts is a table (or nil) with only the known keys.
local function check_opts(fname, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    argerror(fname, nil, "table expected, got " .. type(opts), 3)
  end
  for k in pairs(opts) do
    if not known[k] then argerror(fname, nil, ("unknown option '%s'"):format(tostring(k)), 3) end
  end
  return opts
end

local function opt_size(fname, opts, key, default)
  local v = opts[key]
  if v == nil then return default end
  if math.type(v) == "integer" and v > 0 then return v end
  if type(v) == "string" then
    local ok, n = pcall(core.size, v)
    if ok and n > 0 then return n end
  end
  argerror(fname, key, ("a size in bytes or a string such as \"64M\" expected, got %s")
    :format(type(v) == "string" and ("'" .. v .. "'") or tostring(v)), 3)
end

local function opt_int(fname, opts, key, default, lo, hi)
  local v = opts[key]
  if v == nil then return default end
  if math.type(v) ~= "integer" then
    argerror(fname, key, "integer expected, got " .. (type(v) == "number" and "a fraction"
      or type(v)), 3)
  end
  if (lo and v < lo) or (hi and v > hi) then
    argerror(fname, key, ("must be between %s and %s, got %d")
      :format(lo or "-inf", hi or "inf", v), 3)
  end
  return v
end

local function opt_choice(fname, opts, key, default, choices)
  local v = opts[key]
  if v == nil then return default end
  for _, c in ipairs(choices) do
    if v == c then return v end
  end
  argerror(fname, key, ("'%s' is not one of %s"):format(tostring(v),
           table.concat(choices, ", ")), 3)
end

local function opt_bool(fname, opts, key, default)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= "boolean" then argerror(fname, key, "boolean expected, got " .. type(v), 3) end
  return v
end

-- huge = nil | false | true | "none" | "thp" | "2M" | "1G" -> the alloc option.
local function opt_huge(fname, opts)
  local v = opts.huge
  if v == nil then return nil end
  if v == true then return "thp" end
  if v == false or v == "none" then return false end
  if v == "thp" or v == "2M" or v == "1G" then return v end
  argerror(fname, "huge", ("'%s' is not one of false, true, \"thp\", \"2M\", \"1G\"")
    :format(tostring(v)), 3)
end

-- buffer = an lnuma buffer the caller placed (it is measured, not freed).
local function opt_buffer(fname, opts)
  local b = opts.buffer
  if b == nil then return nil end
  local kind = L().type(b)
  if kind ~= "buffer" then
    argerror(fname, "buffer", "lnuma buffer expected, got " .. (kind or type(b)), 3)
  end
  return b
end

-- The nodes a buffer's policy names (its info), or nil when it has none.
local function policy_nodes(buf)
  local info = buf:info()
  if info and type(info.nodes) == "table" and #info.nodes > 0 and info.policy ~= "default"
     and info.policy ~= "local" then
    return info.nodes
  end
end

-- ---- the machine ------------------------------------------------------------------

local function machine()
  local topo, msg, code = L().topology()
  if not topo then return nil, msg, code end
  return topo
end

local function contains(list, x)
  for _, v in ipairs(list or {}) do
    if v == x then return true end
  end
  return false
end

local function node_info(topo, node)
  for _, n in ipairs(topo.nodes) do
    if n.os_index == node then return n end
  end
end

local function node_list(topo)
  local out = {}
  for _, n in ipairs(topo.nodes) do out[#out + 1] = n.os_index end
  return out
end

local function check_node(fname, topo, key, node)
  if math.type(node) ~= "integer" then
    argerror(fname, key, "node number expected, got " .. type(node), 4)
  end
  if not node_info(topo, node) then
    argerror(fname, key, ("node %d does not exist (nodes %s)"):format(node,
      core.cpulist(node_list(topo))), 4)
  end
  return node
end

local function cpu_node(topo, cpu)
  for _, c in ipairs(topo.cpus) do
    if c.os_index == cpu then return c.node end
  end
end

-- The CPUs of a node that this process may use, in order.
local function allowed_cpus_of(topo, node)
  local out = {}
  local info = node_info(topo, node)
  for _, c in ipairs(info and info.cpus or {}) do
    if contains(topo.allowed.cpus, c) then out[#out + 1] = c end
  end
  return out
end

-- A CPU set option: an array or cpulist string, each CPU existing.
local function opt_cpus(fname, topo, opts, key)
  local v = opts[key]
  if v == nil then return nil end
  local list
  if type(v) == "string" then
    local ok, l = pcall(core.cpulist, v)
    if not ok then argerror(fname, key, (tostring(l):gsub("^.-%((.*)%)$", "%1")), 3) end
    list = l
  elseif type(v) == "table" then
    list = {}
    for i, c in ipairs(v) do
      if math.type(c) ~= "integer" then
        argerror(fname, key, ("element %d is not a CPU number"):format(i), 3)
      end
      list[i] = c
    end
  elseif math.type(v) == "integer" then
    list = { v }
  else
    argerror(fname, key, "array of CPUs or a cpulist string expected, got " .. type(v), 3)
  end
  if #list == 0 then argerror(fname, key, "no CPUs", 3) end
  for _, c in ipairs(list) do
    if not cpu_node(topo, c) then
      local all = {}
      for _, x in ipairs(topo.cpus) do all[#all + 1] = x.os_index end
      argerror(fname, key, ("CPU %d does not exist (CPUs %s)"):format(c, core.cpulist(all)), 3)
    end
  end
  return list
end

-- ---- statistics ------------------------------------------------------------------

local function sorted(values)
  local s = {}
  for i, v in ipairs(values) do s[i] = v end
  table.sort(s)
  return s
end

local function quantile(s, p) -- s sorted, p in 0..1 (nearest rank)
  if #s == 0 then return nil end
  local k = math.ceil(p * #s)
  return s[max(1, min(#s, k))]
end

-- lnuma.bench.stats (bench.lua) plus the spread: (max - min) / median.
local function stats(values)
  local st = L().bench.stats(values)
  if st.n > 0 then st.spread = st.median ~= 0 and (st.max - st.min) / st.median or 0 end
  return st
end

-- ---- what every result carries -------------------------------------------------------

-- The clock the kernels time with: this Lua state's lnuma clock.
local function clock_info()
  local info = L().clock.info()
  return { source = info.source, hz = info.hz, frequency_source = info.frequency_source,
           invariant = info.invariant, overhead_ns = info.cost_c_ns }
end

local function new_result(name, params, units)
  return {
    benchmark = name,
    lnuma_version = L()._VERSION,
    parameters = params,
    units = units,
    warnings = {},
    clock = clock_info(),
  }
end

local function warn(r, fmt, ...)
  r.warnings[#r.warnings + 1] = fmt:format(...)
end

-- Warnings for threads that did not run where they were pinned.
local function check_pinning(r, threads)
  local ran = {}
  for i, t in ipairs(threads) do
    ran[i] = t.cpu_end
    if t.migrated then
      warn(r, "thread %d was pinned to CPU %d but ran on CPU %d (then %d)", i - 1,
           t.cpu_asked, t.cpu_start, t.cpu_end)
    end
  end
  return ran
end

local function numa_balancing_warning(r, topo)
  if #topo.nodes < 2 then return end
  local f = io.open("/proc/sys/kernel/numa_balancing", "r")
  if not f then return end
  local v = f:read("l")
  f:close()
  if v and v ~= "0" then
    warn(r, "kernel NUMA balancing is on (/proc/sys/kernel/numa_balancing = %s): it may "
         .. "move pages while benchmarks run", v)
  end
end

-- Where the pages of buf (or of the parts of it given as {offset, length,
-- node}) are, against where they were meant to be.
local function placement(r, buf, parts)
  -- Neighbouring parts meant for the same node are read as one range.
  local merged = {}
  for _, part in ipairs(parts) do
    local last = merged[#merged]
    if last and last.node == part.node and type(part.node) ~= "table"
       and last.offset + last.length == part.offset then
      last.length = last.length + part.length
    else
      merged[#merged + 1] = { offset = part.offset, length = part.length, node = part.node }
    end
  end
  parts = merged
  local total, on_target, absent, by_node, page_size = 0, 0, 0, {}, nil
  for _, part in ipairs(parts) do
    local view = (part.offset == 0 and part.length == buf:size()) and buf
      or buf:view(part.offset, part.length)
    local pl, msg = view:placement()
    if not pl then
      warn(r, "placement could not be read: %s", tostring(msg))
      return { node = parts[1].node, fraction = nil }
    end
    page_size = pl.page_size
    total = total + pl.pages
    absent = absent + (pl.absent or 0)
    for node, pages in pairs(pl.by_node) do
      by_node[node] = (by_node[node] or 0) + pages
      if node == part.node or (type(part.node) == "table" and contains(part.node, node)) then
        on_target = on_target + pages
      end
    end
  end
  local list, nodes = {}, {}
  for node in pairs(by_node) do nodes[#nodes + 1] = node end
  table.sort(nodes)
  for _, node in ipairs(nodes) do
    if by_node[node] > 0 then list[#list + 1] = { node = node, pages = by_node[node] } end
  end
  local intended = parts[1].node
  for _, part in ipairs(parts) do
    if part.node ~= intended then intended = "local" end
  end
  local shown = type(intended) == "table" and core.cpulist(intended) or tostring(intended)
  local p = {
    node = intended, fraction = total > 0 and on_target / total or 0, pages = total,
    page_size = page_size, absent = absent, pages_by_node = list,
  }
  if p.fraction < 1 then
    local where = {}
    for _, e in ipairs(list) do where[#where + 1] = ("node %d: %d"):format(e.node, e.pages) end
    warn(r, "only %.1f%% of the %d pages are on the intended node %s (%s%s): the figure "
         .. "does not describe that node", p.fraction * 100, total, shown,
         table.concat(where, ", "), absent > 0 and (", not present: " .. absent) or "")
  end
  local info = buf.info and buf:info() or nil
  if info and info.policy_applied == false then
    warn(r, "memory policy was not applied (%s): pages are where first touch put them",
         tostring(info.policy_note or "refused"))
  end
  return p
end

-- Allocates memory for a benchmark on node (bind), not populated unless
-- hugetlb pages require it: the benchmark's own threads touch it first.
local function alloc(size, node, huge, populate)
  local opts = { node = node }
  if huge ~= nil then opts.huge = huge end
  opts.populate = populate or huge == "2M" or huge == "1G"
  return L().alloc(size, opts)
end

local function progress_fn(enabled, label)
  if enabled == nil then enabled = core.isatty(2) end
  if not enabled then return function() end end
  return function(i, n, what)
    if i == nil then
      io.stderr:write("\r\27[K")
    else
      io.stderr:write(("\r\27[K[lnuma] %s %d/%d %s"):format(label, i, n, what or ""))
    end
    io.stderr:flush()
  end
end

-- The CPU caches a thread on cpu sees (data and unified), smallest first.
local function caches_of(topo, cpu)
  local out = {}
  for _, c in ipairs(topo.caches or {}) do
    if c.type ~= "instruction" and (cpu == nil or contains(c.cpus, cpu)) then
      out[#out + 1] = { level = c.level, size = c.size, type = c.type }
    end
  end
  table.sort(out, function(a, b) return a.level < b.level end)
  return out
end

local function first_allowed_cpu(topo)
  local c = topo.allowed.cpus[1]
  return c
end

-- ---- latency -----------------------------------------------------------------------

local LATENCY_KEYS = { size = true, node = true, cpu = true, huge = true, pattern = true,
                       stride = true, line = true, repetitions = true, min_time = true,
                       chunks = true, seed = true, buffer = true }
local PATTERNS = { "random", "uniform", "sequential", "stride" }

-- Normalised latency options, shared by latency, latency_curve and matrix.
local function latency_params(fname, topo, o)
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
local function measure_latency(r, buf, p)
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
  local p, user_buf = latency_params("latency", topo, o)
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
  local ok, rmsg, rcode = measure_latency(r, buf, p)
  if ok then r.placement = placement(r, buf, { { offset = 0, length = p.size, node = p.node } }) end
  if not user_buf then buf:free() end
  if not ok then return nil, rmsg, rcode end
  numa_balancing_warning(r, topo)
  return r
end

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
  for k in pairs(LATENCY_KEYS) do known[k] = true end
  known.size, known.buffer, known.sizes, known.progress = nil, nil, true, true
  local o = check_opts("latency_curve", opts, known)
  local topo, msg, code = machine()
  if not topo then return nil, msg, code end
  local base = {}
  for k, v in pairs(o) do base[k] = v end
  base.sizes, base.progress = nil, nil
  local p = latency_params("latency_curve", topo, base)
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
    local ok, rmsg, rcode = measure_latency(cell, view, p)
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

-- ---- bandwidth ---------------------------------------------------------------------

local KERNELS = { "read", "write", "write_nt", "copy", "copy_nt", "triad" }
local ISAS = { "auto", "c", "sse2", "avx2", "avx512" }
local BANDWIDTH_KEYS = { kernel = true, size = true, threads = true, cpus = true, node = true,
                         huge = true, isa = true, repetitions = true, min_time = true,
                         buffer = true }

-- Default bandwidth working set: well beyond the last-level cache (four
-- times it, a power of two, at least 1 GiB), so the figure is memory's.
local function default_bandwidth_size(topo)
  local llc = 0
  for _, c in ipairs(topo.caches or {}) do
    if c.type ~= "instruction" then llc = max(llc, c.size) end
  end
  local size = GIB
  while size < 4 * llc do size = size * 2 end
  return size
end

local function bandwidth_params(fname, topo, o)
  local buffer = opt_buffer(fname, o)
  local p = {
    kernel = opt_choice(fname, o, "kernel", "read", KERNELS),
    size = opt_size(fname, o, "size",
                    buffer and buffer:size() or default_bandwidth_size(topo)),
    isa = opt_choice(fname, o, "isa", "auto", ISAS),
    huge = opt_huge(fname, o),
    repetitions = opt_int(fname, o, "repetitions", 5, 1, 100000),
    min_time = opt_int(fname, o, "min_time", 50000000, 0),
  }
  if o.node ~= nil then p.node = check_node(fname, topo, "node", o.node) end
  local cpus = opt_cpus(fname, topo, o, "cpus")
  local threads = opt_int(fname, o, "threads", nil, 1, 4096)
  if cpus and threads and threads ~= #cpus then
    argerror(fname, "threads", ("%d threads but %d CPUs in cpus"):format(threads, #cpus), 3)
  end
  if not cpus then
    -- CPUs of the memory's node first, then the other allowed ones, round
    -- and round when there are more threads than CPUs.
    local pool = {}
    if p.node then pool = allowed_cpus_of(topo, p.node) end
    for _, c in ipairs(topo.allowed.cpus) do
      if not contains(pool, c) then pool[#pool + 1] = c end
    end
    cpus = {}
    for i = 1, threads or 1 do cpus[i] = pool[(i - 1) % #pool + 1] end
  end
  p.cpus, p.threads = cpus, #cpus
  if buffer then
    if p.size > buffer:size() then
      argerror(fname, "size", ("%d bytes do not fit in the buffer (%d bytes)")
        :format(p.size, buffer:size()), 3)
    end
    p.buffer_nodes = p.node == nil and policy_nodes(buffer) or nil
  end
  return p, buffer
end

local function measure_bandwidth(r, topo, p, user_buf)
  local buf = user_buf
  if not buf then
    local amsg, acode
    buf, amsg, acode = alloc(p.size, p.node, p.huge)
    if not buf then return nil, amsg, acode end
  elseif p.size < buf:size() then
    buf = buf:view(0, p.size)
  end
  local raw, msg, code = core.bench_bandwidth(buf, {
    kernel = p.kernel, isa = p.isa, cpus = p.cpus, repetitions = p.repetitions,
    min_time = p.min_time, first_touch = true,
  })
  if not raw then
    if not user_buf then buf:free() end
    return nil, msg, code
  end
  -- Bytes over the time from the first thread's start to the last one's end
  -- (the slowest thread's time when they start together); bytes/ns = GB/s.
  local reps, slowest = {}, {}
  for i, times in ipairs(raw.rep_ns) do
    slowest[i] = 0
    for _, t in ipairs(times) do slowest[i] = max(slowest[i], t) end
    reps[i] = raw.bytes / max(raw.span_ns[i], 1)
  end
  r.thread_ns = slowest
  r.cpus_ran = check_pinning(r, raw.threads)
  r.repetitions, r.stats = reps, stats(reps)
  r.gbps = r.stats.median
  r.isa, r.passes, r.bytes, r.thread_bytes = raw.isa, raw.passes, raw.bytes, raw.thread_bytes
  -- Each thread's part of the buffer belongs on the node asked, or on the
  -- thread's own node when none was asked (first touch).
  local parts = {}
  for i, t in ipairs(raw.threads) do
    parts[i] = { offset = (i - 1) * raw.thread_bytes, length = raw.thread_bytes,
                 node = p.node or p.buffer_nodes or cpu_node(topo, t.cpu_asked) }
  end
  r.placement = placement(r, buf, parts)
  if not user_buf then buf:free() end
  local distinct = {}
  for _, c in ipairs(p.cpus) do distinct[c] = true end
  local n = 0
  for _ in pairs(distinct) do n = n + 1 end
  if n < #p.cpus then
    warn(r, "%d threads share %d CPUs: the figure is not what %d CPUs can do", #p.cpus, n,
         #p.cpus)
  end
  return r
end

--- Memory bandwidth of a kernel, STREAM-style: `threads` pinned threads each
-- stream their own part of the buffer, first-touched by themselves; the
-- figure is all bytes over the time from the first thread's start to the
-- last one's end (the slowest thread's time when they start together).
-- @tparam table opts `kernel` ("read" (default), "write", "write_nt",
--   "copy", "copy_nt", "triad"), `size` (bytes of all arrays together;
--   default four times the last-level cache, a power of two, at least 1 GiB),
--   `threads` (default 1) or `cpus` (array or cpulist), `node` (memory node;
--   default: each thread's own), `huge`, `isa` ("auto",
--   "avx512", "avx2", "sse2", "c"), `repetitions` (5), `min_time` (ns per
--   repetition, 50 ms), `buffer` (an `lnuma.alloc` buffer to stream instead of
--   a new one; its placement is then checked against `node`, or the nodes of
--   its policy, or each thread's node)
-- @treturn table result with `gbps` (median, GB/s = 1e9 bytes/s), `stats`,
--   `repetitions`, `bytes` (counted per repetition, as STREAM counts them),
--   `isa`, `cpus`, `cpus_ran`, `placement`, `warnings`
-- @return[2] nil when memory or pinning is refused
-- @treturn[2] string message
-- @treturn[2] integer errno
function M.bandwidth(opts)
  local o = check_opts("bandwidth", opts, BANDWIDTH_KEYS)
  local topo, msg, code = machine()
  if not topo then return nil, msg, code end
  local p, user_buf = bandwidth_params("bandwidth", topo, o)
  local r = new_result("bandwidth", p, {
    gbps = "GB/s (1e9 bytes/s)", size = "bytes", bytes = "bytes", repetitions = "GB/s",
    min_time = "ns",
  })
  for k, v in pairs(p) do r[k] = v end
  r.parameters.buffer = user_buf and tostring(user_buf) or nil
  local ok, rmsg, rcode = measure_bandwidth(r, topo, p, user_buf)
  if not ok then return nil, rmsg, rcode end
  numa_balancing_warning(r, topo)
  return r
end

-- ---- matrices ------------------------------------------------------------------------

local MATRIX_KEYS = { metric = true, size = true, topology = true, plan = true,
                      repetitions = true, min_time = true, kernel = true, pattern = true,
                      huge = true, threads = true, progress = true }

--- The node-to-node matrix (as MLC's latency and bandwidth matrices): the
-- CPUs of node i (rows: nodes with CPUs this process may use) reading the
-- memory of node j (columns: every node, memory-only ones included).
-- @tparam table opts `metric` ("latency" (default) or "bandwidth"), `size`
--   (per cell; latency 256M, bandwidth as `bandwidth`'s default), `repetitions`, `min_time`,
--   `pattern` (latency), `kernel` and `threads` (bandwidth: threads per row
--   node, default all its allowed CPUs), `huge`, `progress`, `topology` (a
--   topology to plan on, such as `lnuma.topology{synthetic = ...}`) and
--   `plan` (true: return the cells without measuring)
-- @treturn table result with `rows` and `columns` (node numbers), `values`
--   (`values[i][j]`: row i, column j; ns or GB/s), `fractions` (placement
--   fraction of each cell), `cells` (who measured what), `warnings`
function M.matrix(opts)
  local o = check_opts("matrix", opts, MATRIX_KEYS)
  local metric = opt_choice("matrix", o, "metric", "latency", { "latency", "bandwidth" })
  local plan = opt_bool("matrix", o, "plan", false)
  local topo = o.topology
  if topo ~= nil then
    if type(topo) ~= "table" or type(topo.nodes) ~= "table" then
      argerror("matrix", "topology", "a topology (lnuma.topology{...}) expected")
    end
    if topo.source ~= "system" and not plan then
      argerror("matrix", "topology", "only this machine can be measured: pass plan = true to "
               .. "plan on another topology")
    end
  else
    local msg, code
    topo, msg, code = machine()
    if not topo then return nil, msg, code end
  end
  local allowed = topo.allowed or { cpus = {}, nodes = {} }
  local rows, columns, row_cpus = {}, {}, {}
  for _, n in ipairs(topo.nodes) do
    if contains(allowed.nodes, n.os_index) or #allowed.nodes == 0 then
      columns[#columns + 1] = n.os_index
      local cpus = {}
      for _, c in ipairs(n.cpus or {}) do
        if contains(allowed.cpus, c) or #allowed.cpus == 0 then cpus[#cpus + 1] = c end
      end
      if #cpus > 0 then
        rows[#rows + 1] = n.os_index
        row_cpus[#rows] = cpus
      end
    end
  end
  local size = opt_size("matrix", o, "size", metric == "latency" and 256 * MIB
    or default_bandwidth_size(topo))
  local threads = opt_int("matrix", o, "threads", nil, 1, 4096)
  local params = {
    metric = metric, size = size, rows = rows, columns = columns,
    repetitions = opt_int("matrix", o, "repetitions", metric == "latency" and 5 or 3, 1),
    min_time = opt_int("matrix", o, "min_time", metric == "latency" and 20000000 or 50000000, 0),
    pattern = opt_choice("matrix", o, "pattern", "random", PATTERNS),
    kernel = opt_choice("matrix", o, "kernel", "read", KERNELS),
    huge = opt_huge("matrix", o), threads = threads,
  }
  local r = new_result("matrix", params, {
    values = metric == "latency" and "ns per load" or "GB/s (1e9 bytes/s)", size = "bytes",
  })
  r.metric, r.size, r.rows, r.columns = metric, size, rows, columns
  r.values, r.fractions, r.cells = {}, {}, {}
  for i, node in ipairs(rows) do
    r.values[i], r.fractions[i] = {}, {}
    for j, mem in ipairs(columns) do
      local cpus = row_cpus[i]
      if metric == "latency" then cpus = { cpus[1] }
      elseif threads then
        local c = {}
        for k = 1, threads do c[k] = cpus[(k - 1) % #cpus + 1] end
        cpus = c
      end
      r.cells[#r.cells + 1] = { row = i, column = j, cpu_node = node, memory_node = mem,
                                cpus = cpus }
      r.values[i][j] = 0 / 0
      r.fractions[i][j] = 0 / 0
    end
  end
  if plan then
    r.planned = true
    return r
  end
  local show = progress_fn(o.progress, metric .. " matrix")
  local fraction_min = 1
  for k, cell in ipairs(r.cells) do
    show(k, #r.cells, ("node %d -> node %d"):format(cell.cpu_node, cell.memory_node))
    local res, msg, code
    if metric == "latency" then
      res, msg, code = M.latency { size = size, node = cell.memory_node, cpu = cell.cpus[1],
        repetitions = params.repetitions, min_time = params.min_time,
        pattern = params.pattern, huge = params.huge }
      if res then cell.latency_ns = res.latency_ns end
    else
      res, msg, code = M.bandwidth { size = size, node = cell.memory_node, cpus = cell.cpus,
        kernel = params.kernel, repetitions = params.repetitions,
        min_time = params.min_time, huge = params.huge }
      if res then cell.gbps = res.gbps end
    end
    if not res then
      show()
      return nil, ("matrix cell node %d -> node %d: %s"):format(cell.cpu_node,
        cell.memory_node, tostring(msg)), code
    end
    local value = metric == "latency" and res.latency_ns or res.gbps
    r.values[cell.row][cell.column] = value
    local f = res.placement and res.placement.fraction or 0
    r.fractions[cell.row][cell.column] = f
    fraction_min = min(fraction_min, f)
    cell.cpus_ran, cell.spread, cell.fraction = res.cpus_ran, res.stats.spread, f
    for _, w in ipairs(res.warnings) do
      warn(r, "node %d -> node %d: %s", cell.cpu_node, cell.memory_node, w)
    end
  end
  show()
  r.placement = { fraction = fraction_min }
  local ran = {}
  for _, cell in ipairs(r.cells) do
    for _, c in ipairs(cell.cpus_ran or {}) do
      if not contains(ran, c) then ran[#ran + 1] = c end
    end
  end
  table.sort(ran)
  r.cpus_ran = ran
  return r
end

-- ---- loaded latency ---------------------------------------------------------------------

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

-- ---- core to core ---------------------------------------------------------------------

--- Core-to-core latency: a cache line bounced between two pinned threads,
-- for every pair of CPUs; disjoint pairs run at the same time (a round-robin
-- tournament), so the time grows with the number of CPUs, not of pairs.
-- @tparam table opts `cpus` (default: every allowed CPU), `node` (where the
--   lines live; default: the first CPU's), `samples` (15), `roundtrips` (per
--   sample, 500)
-- @treturn table result with `rows` and `columns` (the CPUs), `values`
--   (`values[i][j]`: one-way ns between rows[i] and columns[j]; 0 on the
--   diagonal), `rounds`, `stats` (over the pairs), `placement`, `cpus_ran`,
--   `warnings`
function M.c2c(opts)
  local o = check_opts("c2c", opts, { cpus = true, node = true, samples = true,
                                       roundtrips = true })
  local topo, msg, code = machine()
  if not topo then return nil, msg, code end
  local cpus = opt_cpus("c2c", topo, o, "cpus") or topo.allowed.cpus
  if #cpus < 2 then
    return nil, "c2c: needs two CPUs, this process may use " .. #cpus, 22
  end
  local seen = {}
  for _, c in ipairs(cpus) do
    if seen[c] then argerror("c2c", "cpus", ("CPU %d is named twice"):format(c)) end
    seen[c] = true
  end
  local p = {
    cpus = cpus,
    samples = opt_int("c2c", o, "samples", 15, 1, 100000),
    roundtrips = opt_int("c2c", o, "roundtrips", 500, 1),
  }
  p.node = o.node ~= nil and check_node("c2c", topo, "node", o.node) or cpu_node(topo, cpus[1])
  local r = new_result("c2c", p, { values = "ns (one way: half a round trip)" })
  for k, v in pairs(p) do r[k] = v end
  local size = core.c2c_memory(#cpus)
  local buf, amsg, acode = alloc(size, p.node, nil, true)
  if not buf then return nil, amsg, acode end
  local raw, rmsg, rcode = core.bench_c2c(buf, { cpus = cpus, samples = p.samples,
                                                 roundtrips = p.roundtrips })
  if raw then
    r.values, r.rounds = raw.values, raw.rounds
    r.rows, r.columns = cpus, cpus
    r.pairs = #cpus * (#cpus - 1) // 2
    local pairs_ns = {}
    for i = 1, #cpus do
      for j = i + 1, #cpus do pairs_ns[#pairs_ns + 1] = raw.values[i][j] end
    end
    r.stats = stats(pairs_ns) -- over the pairs (each is the median of its samples)
    r.cpus_ran = check_pinning(r, raw.threads)
    r.placement = placement(r, buf, { { offset = 0, length = size, node = p.node } })
  end
  buf:free()
  if not raw then return nil, rmsg, rcode end
  return r
end

-- ---- migration -------------------------------------------------------------------------

--- Page migration speed: pages per second `move_pages` moves from one node
-- to another (what numactl's migspeed measures).
-- @tparam table opts `size` ("64M"), `from` and `to` (nodes; default the
--   first and the last node), `huge`, `repetitions` (3)
-- @treturn table result with `pages_per_s` (median), `gbps`, `stats`,
--   `moved`, `pages`, `placement` (after the move, against `to`), `warnings`
function M.migration(opts)
  local o = check_opts("migration", opts, { size = true, from = true, to = true,
                                             huge = true, repetitions = true })
  local topo, msg, code = machine()
  if not topo then return nil, msg, code end
  local nodes = node_list(topo)
  local p = {
    size = opt_size("migration", o, "size", 64 * MIB),
    huge = opt_huge("migration", o),
    repetitions = opt_int("migration", o, "repetitions", 3, 1, 1000),
  }
  p.from = o.from ~= nil and check_node("migration", topo, "from", o.from) or nodes[1]
  p.to = o.to ~= nil and check_node("migration", topo, "to", o.to) or nodes[#nodes]
  local r = new_result("migration", p, {
    pages_per_s = "pages per second", gbps = "GB/s (1e9 bytes/s)", size = "bytes",
    repetitions = "pages per second",
  })
  for k, v in pairs(p) do r[k] = v end
  if p.from == p.to then
    warn(r, "from and to are the same node (%d): no page can move, so no speed is measured",
         p.from)
  end
  local reps, moved, pages, last_buf = {}, 0, 0, nil
  for i = 1, p.repetitions do
    local buf, amsg, acode = alloc(p.size, p.from, p.huge, true)
    if not buf then return nil, amsg, acode end
    local res, mmsg, mcode = buf:migrate(p.to)
    if not res then
      buf:free()
      return nil, mmsg, mcode
    end
    -- Pages moved per second of move_pages (0 when none had to move).
    reps[i] = res.moved > 0 and res.moved / max(res.elapsed_ns or 0, 1) * 1e9 or 0
    moved, pages = res.moved, res.pages
    if res.failed and res.failed > 0 then
      warn(r, "repetition %d: %d pages could not be moved", i, res.failed)
    end
    if last_buf then last_buf:free() end
    last_buf = buf
  end
  r.placement = placement(r, last_buf, { { offset = 0, length = p.size, node = p.to } })
  r.page_size = r.placement.page_size
  last_buf:free()
  r.repetitions, r.stats = reps, stats(reps)
  r.pages_per_s = r.stats.median
  r.gbps = r.pages_per_s * (r.page_size or 4096) / 1e9
  r.moved, r.pages = moved, pages
  return r
end

-- ---- facts and debugging aids -------------------------------------------------------------

--- What the kernels can do here: `kernels`, `isas` (supported by this CPU),
-- `best_isa`, `patterns`, `clock`, `clock_overhead_ns`.
-- @treturn table
function M.kernel_info() return core.kernel_info() end

--- The order in which a chase of `size` bytes visits its slots (slot
-- indexes from 0, starting at slot 0): a debugging aid and what the specs
-- check (every slot exactly once per cycle).
-- @tparam integer|string size at most 64 MiB
-- @tparam[opt] table opts `pattern`, `line`, `stride`, `seed`
-- @treturn table array of slot indexes
M.chase_order = core.chase_order

--- The c2c schedule for n CPUs: rounds of disjoint pairs `{a, b}` of
-- 0-based positions in the CPU list.
-- @tparam integer n
-- @treturn table
M.c2c_schedule = core.c2c_schedule

return M
