--- Memory latency: a dependent pointer chase on one pinned thread (`lnuma.bench.latency`).
-- @module lnuma.bench.latency

local core = require "lnuma.core"
local U = require "lnuma.bench.util"
local O = require "lnuma.options"
local LLC = require "lnuma.llc"


local M = {}

local LATENCY_KEYS = { size = true, node = true, cpu = true, huge = true, pattern = true,
                       stride = true, line = true, repetitions = true, min_time = true,
                       chunks = true, seed = true, buffer = true }

-- Normalised latency options, shared by latency, latency_curve and matrix.
function M.params(fname, topo, o)
  local buffer = O.opt_buffer(fname, o)
  local p = {
    size = O.opt_size(fname, o, "size", buffer and buffer:size()),
    pattern = O.opt_choice(fname, o, "pattern", "random", U.PATTERNS),
    huge = O.opt_huge(fname, o),
    repetitions = O.opt_int(fname, o, "repetitions", 5, 1, 100000),
    min_time = O.opt_int(fname, o, "min_time", 20000000, 0),
    chunks = O.opt_int(fname, o, "chunks", 32, 1, 100000),
    seed = O.opt_int(fname, o, "seed", 0x5eed),
    line = o.line and O.opt_size(fname, o, "line", 64) or nil,
    stride = o.stride and O.opt_size(fname, o, "stride", 0) or nil,
  }
  if p.pattern == "stride" and not p.stride then
    O.argerror(fname, "stride", "the stride pattern needs a stride (bytes)", 3)
  end
  if o.cpu ~= nil then
    p.cpu = O.opt_int(fname, o, "cpu", nil, 0)
    if not U.cpu_node(topo, p.cpu) then
      O.argerror(fname, "cpu", ("CPU %d does not exist"):format(p.cpu), 3)
    end
  end
  if o.node ~= nil then p.node = U.check_node(fname, topo, "node", o.node) end
  -- The CPU defaults to one of the memory's node, the node to the CPU's.
  if p.cpu == nil then
    local cpus = p.node and U.allowed_cpus_of(topo, p.node) or {}
    p.cpu = cpus[1] or U.first_allowed_cpu(topo)
  end
  if p.node == nil then p.node = buffer and U.policy_nodes(buffer) or U.cpu_node(topo, p.cpu) end
  p.size = p.size or LLC.latency_size(topo, p.cpu)
  if buffer and p.size > buffer:size() then
    O.argerror(fname, "size", ("%d bytes do not fit in the buffer (%d bytes)")
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
  -- A repetition's figure is the median of its chunks during which the
  -- thread was not switched out (another task ran on its CPU: the chunk
  -- timed that task too); all its chunks when every one was.  The mean (all
  -- loads over all the chunks' time) is kept beside it.
  local reps, means, per_chunk, kept, switched = {}, {}, {}, {}, 0
  for i, ns in ipairs(raw.chunk_ns) do
    per_chunk[i] = ns / raw.chunk_loads
    if raw.chunk_switched[i] then switched = switched + 1 else kept[#kept + 1] = per_chunk[i] end
  end
  for i, ns in ipairs(raw.rep_ns) do
    means[i] = ns / loads
    local clean, all = {}, {}
    for c = 1, p.chunks do
      local k = (i - 1) * p.chunks + c
      all[c] = per_chunk[k]
      if not raw.chunk_switched[k] then clean[#clean + 1] = per_chunk[k] end
    end
    reps[i] = require("lnuma.bench").stats(#clean > 0 and clean or all).median
  end
  r.mean_ns = means
  local s = U.sorted(#kept > 0 and kept or per_chunk)
  r.cpus_ran = U.check_pinning(r, { raw.thread })
  r.repetitions = reps
  r.stats = U.stats(reps)
  r.latency_ns = r.stats.median
  r.slots = raw.slots
  r.loads = loads
  r.chunks = {
    count = #per_chunk, loads = raw.chunk_loads, switched = switched, min = s[1],
    p50 = U.quantile(s, 0.5), p90 = U.quantile(s, 0.9), p99 = U.quantile(s, 0.99),
    p999 = U.quantile(s, 0.999), max = s[#s],
  }
  if switched > #per_chunk // 4 then
    U.warn(r, "the thread was switched out (another task ran on CPU %d) during %d of the %d "
      .. "timed chunks: they are left out of the medians", p.cpu, switched, #per_chunk)
  end
  return r
end

-- ---- what a chase does, and how other chasers do the same -------------------

-- A size as multichase's and MLC's parsers read it ("256m", or bytes).
local function tool_size(n)
  for _, u in ipairs({ { 1 << 30, "g" }, { 1 << 20, "m" }, { 1 << 10, "k" } }) do
    if n % u[1] == 0 then return ("%d%s"):format(n // u[1], u[2]) end
  end
  return tostring(n)
end

-- lat_mem_rd takes whole MiB and sweeps from 512 bytes up to them; the row
-- of the size measured is the one to read.
local function lat_mem_rd(size, stride, thrash)
  return ("lat_mem_rd%s %d %d"):format(thrash and " -t" or "", math.max(1, -(-size // (1 << 20))),
    stride)
end
local LMR_NOTE = "; lat_mem_rd takes whole MiB, sweeps from 512 bytes up to them and reports "
  .. "the minimum: read the row of this size"

-- multichase's page options for lnuma's `huge`.
local function multichase_pages(huge)
  if huge == "thp" then return " -H", { H = true } end
  if huge == "2M" or huge == "1G" then
    return " -p " .. huge:lower(), { p = huge:lower() }
  end
  return "", {}
end

local function multichase_entry(memory, stride, tlb, huge, exact, note, ordered)
  local flags, page = multichase_pages(huge)
  local e = {
    command = ("multichase%s -m %s -s %d -T %s%s"):format(ordered and " -o" or "",
      tool_size(memory), stride, tool_size(tlb), flags),
    m = memory, s = stride, T = tlb, o = ordered or nil, exact = exact, note = note,
  }
  for k, v in pairs(page) do e[k] = v end
  return e
end

-- The sentence and the equivalents for normalised latency parameters p.
local function describe(p)
  local line, size, huge = p.line or 64, p.size, p.huge
  local block = core.kernel_info().chase_block
  local pattern = p.pattern
  local per_block = block // line
  if pattern == "random" and (size // block < 2 or per_block < 4) then
    pattern = "uniform" -- what the C core does with fewer than two blocks
  end
  local lines = size // line
  local mlc_pages = huge == "2M" and " -L" or huge == "1G" and " -h" or ""
  local best = "multichase prints its best 0.5 s sample unless -a (average) is given; "
    .. "lnuma's latency_ns is a median (compare with -a, or with lnuma's chunks.min)"
  if pattern == "random" then
    local used = size // block * block
    local visit = per_block // 2
    local desc = ("%d-byte lines in %d-byte blocks, as %d pairs of adjacent lines per "
      .. "block; one cycle passes through all %d blocks twice, each pass in its own random "
      .. "block order; a visit makes %d dependent loads in its block, one line of each "
      .. "%d-byte pair, the pairs in random order, and the second visit takes the other "
      .. "line of each pair: every line once per cycle (%d loads), %d loads in a row in "
      .. "one block, the two lines of a pair half a cycle apart"):format(line, block,
      visit, size // block, visit, 2 * line, used // line, visit)
    if used < size then
      desc = desc .. ("; the last %d bytes (less than a block) are not visited"):format(size - used)
    end
    return desc, {
      multichase = multichase_entry(used, 2 * line, block, huge, false,
        "the same visits: groups of " .. block .. " bytes in random order, " .. visit
        .. " loads in random order in a group, one line of each " .. 2 * line
        .. "-byte pair; but multichase visits each group once and always the same line of "
        .. "a pair (half the lines, " .. used // (2 * line) .. " loads a cycle), so its "
        .. "cache footprint is half lnuma's: compare sizes well inside a cache level or "
        .. "beyond the last one, not near a level's size; " .. best),
      mlc = { command = ("mlc --idle_latency -b%d -r -l%d -D%d%s"):format(size // 1024,
                2 * line, block, mlc_pages), exact = false,
              note = "nearest: random loads " .. 2 * line .. " bytes apart within "
                .. block .. "-byte ranges; MLC is closed source and does not document the "
                .. "order within a range; it reports a mean" },
      lat_mem_rd = { command = nil, exact = false,
                     note = "no equivalent: lat_mem_rd walks a fixed stride backwards, or "
                       .. "with -t one line per page in random page order" },
    }
  elseif pattern == "uniform" then
    local desc = ("one random cycle (Sattolo) through all %d %d-byte lines: every line once "
      .. "per cycle, each load to a line anywhere in the %d bytes, so once the buffer "
      .. "exceeds the TLB's reach nearly every load also misses the TLB"):format(lines, line,
      lines * line)
    return desc, {
      multichase = multichase_entry(lines * line, line, lines * line, huge, true,
        "one TLB group as large as the buffer: one random permutation of all "
        .. line .. "-byte elements, the same loads; " .. best),
      mlc = { command = ("mlc --idle_latency -b%d -r -l%d -D%d%s"):format(size // 1024,
                line, lines * line, mlc_pages), exact = false,
              note = "nearest: random loads " .. line .. " bytes apart over the whole "
                .. "buffer; MLC is closed source and does not document its order; it "
                .. "reports a mean" },
      lat_mem_rd = { command = lat_mem_rd(size, line, true), exact = false,
                     note = "nearest: -t goes to a different page every load (random page "
                       .. "order) but not to a random line" .. LMR_NOTE },
    }
  elseif pattern == "sequential" then
    return ("every %d-byte line in address order, then back to the first: what hardware "
      .. "prefetchers make fast"):format(line), {
      multichase = multichase_entry(lines * line, line, lines * line, huge, true,
        "-o: ordered traversal of all elements; " .. best, true),
      lat_mem_rd = { command = lat_mem_rd(size, line), exact = false,
                     note = "nearest: the same lines, backwards" .. LMR_NOTE },
    }
  end
  local stride = p.stride
  return ("every %d-th byte (one %d-byte line in %d), then the same from the next line, "
    .. "until every line is visited"):format(stride, line, stride // line), {
    multichase = multichase_entry(lines * line, stride, lines * line, huge, false,
      "-o -s " .. stride .. " visits only the first line of each stride (one "
      .. "residue); lnuma continues with the others; " .. best, true),
    lat_mem_rd = { command = lat_mem_rd(size, stride), exact = false,
                   note = "nearest: one line per stride, backwards" .. LMR_NOTE },
  }
end

local DESCRIBE_KEYS = { pattern = true, size = true, line = true, stride = true, huge = true }

--- What a chase of these settings does, in a sentence, and the settings of
-- other chasers (multichase, Intel MLC, lmbench's lat_mem_rd) that make the
-- same loads, so that a figure can be reproduced with another tool.  Every
-- `lnuma.bench.latency` result carries the same as `pattern_description`
-- and `equivalents`.
-- @tparam[opt] table opts `pattern` (default "random"), `size` (bytes or
--   "256M"; default `latency`'s on this machine), `line` (64), `stride`
--   (bytes, the stride pattern),
--   `huge` (as `lnuma.alloc` reads it: false, true, "thp", "2M", "1G", ...)
-- @treturn string description
-- @treturn table equivalents by tool (`multichase`, `mlc`, `lat_mem_rd`):
--   `command` (nil where the tool has no such chase), the tool's settings
--   (for multichase `m`, `s`, `T`, and `H` or `p`), `exact` (true when the
--   tool makes the same loads in the same kind of order) and `note`
function M.describe_chase(opts)
  local o = O.check_opts("describe_chase", opts, DESCRIBE_KEYS)
  local p = {
    pattern = O.opt_choice("describe_chase", o, "pattern", "random", U.PATTERNS),
    size = O.opt_size("describe_chase", o, "size"),
    line = O.opt_size("describe_chase", o, "line", 64),
    stride = o.stride and O.opt_size("describe_chase", o, "stride", 0) or nil,
    huge = O.opt_huge("describe_chase", o),
  }
  -- As latency's default; 256M where the topology cannot be read.
  p.size = p.size or LLC.latency_size(U.machine() or {})
  if p.line & (p.line - 1) ~= 0 or p.line < 8 then
    O.argerror("describe_chase", "line", ("%d is not a power of two >= 8"):format(p.line))
  end
  if p.pattern == "stride" and not (p.stride and p.stride % p.line == 0) then
    O.argerror("describe_chase", "stride", "the stride pattern needs a stride (bytes), a "
      .. "multiple of the line")
  end
  return describe(p)
end

--- Load-to-use latency of memory: a dependent pointer chase through a
-- random cycle of cache lines, on one pinned thread.
--
-- Patterns (64-byte lines):
--
-- * "random" (default): the buffer as 4 KiB blocks of 32 pairs of adjacent
--   lines (128 bytes).  One cycle passes through all blocks twice, each
--   pass in its own random block order.  A visit makes 32 dependent loads
--   in its block, one line of each pair, the pairs in random order; the
--   second visit takes the other line of each pair.  So every line is
--   loaded once per cycle, 32 loads in a row share a 4 KiB page (a TLB miss
--   per 32 loads at most), and the two lines of a pair are half a cycle
--   apart (adjacent-line prefetch does not help).  multichase's nearest
--   settings are `-s 128 -T 4096 -m SIZE` (the same visits, but each group
--   once and half the lines).  Bytes past the last whole block are not
--   visited; below 8 KiB this is "uniform".
-- * "uniform": one random cycle (Sattolo) through all lines, each load
--   anywhere in the buffer: a TLB miss per load once the buffer exceeds the
--   TLB's reach.  multichase: `-s 64 -T SIZE -m SIZE`, the same loads.
-- * "sequential": line after line; "stride": every `stride`-th byte, then
--   the next residue.
--
-- The result says the same in `pattern_description`, and `equivalents`
-- gives the other chasers' command lines (see `describe_chase`).
-- `spec/bench/latency_agree.lua` (make bench) checks the figures against an
-- independent chaser.
-- @tparam table opts `size` (default `lnuma.llc.latency_size`: 4 times the
--   last-level cache the CPU sees, a power of two, at least "256M"), `node`
--   (memory node; default: the CPU's), `cpu` (default: the first allowed
--   CPU of the node), `huge` (false, true/"thp", "2M", "1G"), `pattern` ("random", "uniform",
--   "sequential", "stride" with `stride` bytes; see above), `line` (slot
--   size, 64), `repetitions` (5), `min_time` (ns per repetition, 20 ms),
--   `chunks` (timed chunks per repetition, 32), `seed`, `buffer` (an
--   `lnuma.alloc` buffer to measure instead of a new one: its first `size`
--   bytes are overwritten; `node` is then the node the pages should be on,
--   by default the nodes of the buffer's policy or the CPU's node)
-- @treturn table result with `latency_ns` (median ns per load), `stats`,
--   `repetitions` (each the median of its timed chunks, leaving out those
--   during which the thread was switched out), `chunks` (percentiles of
--   per-chunk ns per load; `switched`: chunks left out),
--   `pattern_description` (a sentence), `equivalents` (multichase, mlc,
--   lat_mem_rd: `command`, settings, `exact`, `note`), `llc` (bytes of the
--   last-level cache the CPU sees, nil if unknown), `scope` ("memory": `size`
--   is at least `lnuma.llc.MULTIPLE` times `llc`; "cache": less, so partly
--   or wholly cache latency; "unknown"),
--   `placement = {node, fraction, ...}`, `cpus_ran`, `warnings`
-- @return[2] nil when memory or pinning is refused
-- @treturn[2] string message
-- @treturn[2] integer errno
function M.latency(opts)
  local o = O.check_opts("latency", opts, LATENCY_KEYS)
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local p, user_buf = M.params("latency", topo, o)
  local r = U.new_result("latency", p, {
    latency_ns = "ns per load", size = "bytes", llc = "bytes",
    repetitions = "ns per load (median of the repetition's chunks the thread was not "
      .. "switched out during)",
    mean_ns = "ns per load (all loads of a repetition over its chunks' time)",
    chunks = "ns per load (percentiles of the chunks the thread was not switched out "
      .. "during; count and switched are chunks)", min_time = "ns",
  })
  for k, v in pairs(p) do r[k] = v end
  r.parameters.buffer = user_buf and tostring(user_buf) or nil
  r.pattern_description, r.equivalents = describe(p)
  local buf, amsg, acode = U.buffer_for(p, user_buf)
  if not buf then return nil, amsg, acode end
  local ok, rmsg, rcode = M.measure(r, buf, p)
  if ok then
    r.placement = U.placement(r, buf, { { offset = 0, length = p.size, node = p.node } })
  end
  if not user_buf then buf:free() end
  if not ok then return nil, rmsg, rcode end
  -- Memory's figure only beyond the cache the CPU sees (lnuma.llc).
  r.llc = LLC.of(topo, { p.cpu }).one
  r.scope = LLC.scope(p.size, r.llc)
  U.numa_balancing_warning(r, topo)
  return r
end


M.KEYS = LATENCY_KEYS

return M
