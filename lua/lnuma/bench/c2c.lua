--- Core-to-core latency: a cache line handed between pinned threads (`lnuma.bench.c2c`).
--
-- Every pair of CPUs, in every sample, gets a 64-byte line of its own (alone
-- on its 128-byte pair, so the adjacent-line prefetcher does not couple two)
-- that no other pair has ever touched, zeroed and flushed out of every cache
-- before the run.  A line that some third core held before, even one it gave
-- back, changes what the next handoff costs (on AMD Zen the first core to
-- own a line stays in its coherence traffic: core-to-core-latency #155,
-- #156); a line shared by two pairs at once is how a run hangs.
-- @module lnuma.bench.c2c

local core = require "lnuma.core"
local U = require "lnuma.bench.util"
local O = require "lnuma.options"


local M = {}

local KEYS = { cpus = true, node = true, mode = true, samples = true, roundtrips = true,
               warmup = true }
-- Untimed round trips on each fresh line before the timed ones, by default:
-- the partner leaving the barrier, the line's first trip from memory.
local WARMUP = 16
-- Bytes between two lines (lnuma/kernels.h LNUMA_C2C_LINE_STRIDE).
local STRIDE = 128
-- The most memory the lines may take (pairs x samples x 128 bytes).
local MAX_BYTES = U.GIB
-- Samples a pair needs for a p99 (nearest rank: with fewer, the "p99" would
-- be the slowest sample), and so the default.
local TAIL_SAMPLES = 100
-- Pairs named one by one in warnings before the rest are counted.
local MAX_PAIR_WARNINGS = 8

local FIGURE = {
  pingpong = "one-way ns = half a round trip; in a round trip one CPU stores to the line, "
    .. "the other sees the store with a load and stores back",
  cas = "one-way ns = half a round trip; in a round trip each CPU compare-and-swaps the "
    .. "line from the other's value to its own, spinning until it succeeds (a lock handoff "
    .. "each way)",
}

-- The CPUs to measure: the option (each CPU once) or every allowed one.
local function c2c_cpus(topo, o)
  local cpus = O.opt_cpus("c2c", topo, o, "cpus")
  if cpus then
    if #cpus < 2 then
      O.argerror("c2c", "cpus", ("c2c needs at least two CPUs; %d was given (CPU %s)")
        :format(#cpus, core.cpulist(cpus)), 3)
    end
    local seen = {}
    for _, c in ipairs(cpus) do
      if seen[c] then O.argerror("c2c", "cpus", ("CPU %d is named twice"):format(c), 3) end
      seen[c] = true
    end
    return cpus
  end
  cpus = topo.allowed.cpus
  if #cpus < 2 then
    return nil, ("c2c: needs at least two CPUs; this process may use %d (CPU %s)")
      :format(#cpus, core.cpulist(cpus)), 22
  end
  return cpus
end

-- The node each line's page is on, counted per pair: lines off the node
-- (or not present) make that pair's figure describe another node.
local function check_lines(r, buf, raw, size)
  local pl = buf:placement { pages = true }
  local page_size = pl and pl.page_size
  local seen, fresh, off_total, named = {}, true, 0, 0
  for k, pair in ipairs(r.pairs) do
    local off = 0
    for _, offset in ipairs(raw.line_offset[k]) do
      if offset < 0 or offset + 64 > size or seen[offset] then fresh = false end
      seen[offset] = true
      local node = pl and pl.page_nodes[offset // page_size + 1]
      if node ~= r.node then off = off + 1 end
    end
    pair.lines_off_node = pl and off or nil
    if off > 0 and pl then
      off_total = off_total + 1
      named = named + 1
      if named <= MAX_PAIR_WARNINGS then
        U.doubt(r, "pages_off_node", "CPUs %d-%d: %d of %d lines were not on node %d", pair.a,
                pair.b, off, pair.samples, r.node)
      end
    end
  end
  if named > MAX_PAIR_WARNINGS then
    U.doubt(r, "pages_off_node", "%d more pairs had lines off node %d",
            named - MAX_PAIR_WARNINGS, r.node)
  end
  if not fresh then
    U.doubt(r, "lines_reused", "a line was used by two (pair, sample)s: the figures are suspect")
  end
  return {
    count = #r.pairs * r.samples, stride = STRIDE, bytes = size, page_size = page_size,
    fresh = fresh, flushed = raw.flushed, warmup = r.warmup,
    pairs_off_node = pl and off_total or nil,
  }
end

-- Per-pair statistics, the matrix of medians and the per-sample medians
-- from the raw ns of `roundtrips` round trips.
local function summarise(r, raw, cpus, p)
  local n = #cpus
  r.values = {}
  for i = 1, n do
    r.values[i] = {}
    for j = 1, n do r.values[i][j] = 0 end
  end
  r.pairs = {}
  local per_sample, medians = {}, {}
  for s = 1, p.samples do per_sample[s] = {} end
  local k = 0
  for i = 1, n do
    for j = i + 1, n do
      k = k + 1
      local ns = {}
      for s, t in ipairs(raw.sample_ns[k]) do
        ns[s] = t / p.roundtrips / 2
        per_sample[s][k] = ns[s]
      end
      local st, sv = U.stats(ns), U.sorted(ns)
      local p99 = st.n >= TAIL_SAMPLES and U.quantile(sv, 0.99) or nil
      r.pairs[k] = { a = cpus[i], b = cpus[j], p50 = st.median, p99 = p99,
                     min = st.min, max = st.max, samples = st.n, samples_ns = ns }
      r.values[i][j], r.values[j][i] = st.median, st.median
      medians[k] = st.median
    end
  end
  r.stats = U.stats(medians)
  r.repetitions = {}
  for s = 1, p.samples do r.repetitions[s] = U.stats(per_sample[s]).median end
  r.repetition_stats = U.stats(r.repetitions)
end

--- Core-to-core latency: a cache line handed back and forth between two
-- pinned threads, for every pair of CPUs.  Disjoint pairs run at the same
-- time (a round-robin tournament) and the tournament runs once per sample,
-- so the time grows with the number of CPUs, not of pairs.  Each (pair,
-- sample) uses a fresh line (see the module's note), warmed up with
-- `warmup` untimed round trips, then `roundtrips` timed ones.
-- @tparam table opts `cpus` (array or cpulist, each CPU once; default: every
--   allowed CPU), `mode` ("pingpong" (default): load/store round trips;
--   "cas": each side compare-and-swaps the line from the other's value to
--   its own, the cost of a lock handoff), `node` (where the lines live;
--   default: the first CPU's), `samples` (per pair, 100, the fewest that
--   give a p99; fewer where the lines of 100 would pass 1 GiB), `roundtrips` (per
--   sample, 500), `warmup` (untimed round trips before them on each line, 16)
-- @treturn table result with `mode`, `figure` (what one number means:
--   one-way ns = half a round trip), `rows` and `columns` (the CPUs),
--   `values` (`values[i][j]`: the pair's median one-way ns; 0 on the
--   diagonal), `pairs` (array of `{a, b, p50, p99, min, max, samples,
--   samples_ns, lines_off_node}`, one-way ns over the pair's samples;
--   `p99` only from `p99_samples` (100) samples, nil below),
--   `stats` (over the pairs' medians), `repetitions` (per sample, the
--   median over the pairs) and `repetition_stats`, `rounds`, `lines`
--   (`count`, `stride`, `bytes`, `page_size`, `fresh`, `flushed`, `warmup`,
--   `pairs_off_node`), `placement`, `cpus_ran`, `clock`, `warnings`
-- @return[2] nil when memory or pinning is refused, or this process may use
--   only one CPU
-- @treturn[2] string message
-- @treturn[2] integer errno
function M.c2c(opts)
  local o = O.check_opts("c2c", opts, KEYS)
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local cpus, cmsg, ccode = c2c_cpus(topo, o)
  if not cpus then return nil, cmsg, ccode end
  local p = {
    cpus = cpus,
    mode = O.opt_choice("c2c", o, "mode", "pingpong", core.kernel_info().c2c_modes),
    samples = O.opt_int("c2c", o, "samples", M.c2c_samples(#cpus), 1, 100000),
    roundtrips = O.opt_int("c2c", o, "roundtrips", 500, 1, 1000000000),
    warmup = O.opt_int("c2c", o, "warmup", WARMUP, 0, 1000000000),
  }
  p.node = o.node ~= nil and U.check_node("c2c", topo, "node", o.node) or U.cpu_node(topo, cpus[1])
  local npairs = #cpus * (#cpus - 1) // 2
  local size = npairs * p.samples * STRIDE
  if size > MAX_BYTES then
    O.argerror("c2c", "samples", ("%d CPUs x %d samples need %s of fresh lines (128 bytes per "
      .. "pair and sample, at most %s): fewer samples or CPUs"):format(#cpus, p.samples,
      O.size_text(size), O.size_text(MAX_BYTES)))
  end
  local r = U.new_result("c2c", p, {
    values = "ns one way (half a round trip), the median of the pair's samples",
    pairs = "ns one way (half a round trip) per sample of `roundtrips` round trips",
    stats = "ns one way, over the pairs' medians",
    repetitions = "ns one way, the median over the pairs of one sample (one tournament)",
    lines = "bytes", roundtrips = "round trips per sample",
  })
  for k, v in pairs(p) do r[k] = v end
  r.figure = FIGURE[p.mode]
  r.p99_samples = TAIL_SAMPLES
  if o.samples == nil and p.samples < TAIL_SAMPLES then
    U.warn(r, ("%d CPUs: the fresh lines of %d samples a pair fill the %s allowed; the "
      .. "pairs have no p99 (it needs %d samples)"):format(#cpus, p.samples,
      O.size_text(MAX_BYTES), TAIL_SAMPLES))
  end
  local buf, amsg, acode = U.alloc(size, p.node, nil, true)
  if not buf then return nil, amsg, acode end
  local raw, rmsg, rcode = core.bench_c2c(buf, { cpus = cpus, mode = p.mode,
    samples = p.samples, roundtrips = p.roundtrips, warmup = p.warmup })
  if raw then
    r.rounds = raw.rounds
    r.rows, r.columns = cpus, cpus
    summarise(r, raw, cpus, p)
    r.cpus_ran = U.check_pinning(r, raw.threads)
    r.placement = U.placement(r, buf, { { offset = 0, length = size, node = p.node } })
    r.lines = check_lines(r, buf, raw, size)
    if not raw.flushed then
      U.warn(r, "the lines could not be flushed from the caches on this architecture: the "
           .. "first handoff of each may find them where they were written")
    end
    U.numa_balancing_warning(r, topo)
  end
  buf:free()
  if not raw then return nil, rmsg, rcode end
  return r
end

--- The samples a pair that `c2c` takes by default for n CPUs: 100, the
-- fewest that give each pair a p99, or fewer (at least one) where the fresh
-- lines of 100 would pass 1 GiB (beyond about 410 CPUs).
-- @tparam integer n CPUs (2 or more)
-- @treturn integer samples a pair
function M.c2c_samples(n)
  local fit = MAX_BYTES // (n * (n - 1) // 2 * STRIDE)
  return math.max(1, math.min(TAIL_SAMPLES, fit))
end

--- The lines a c2c measurement hands out, in the order it runs them: a
-- debugging aid that shows that no two (pair, sample)s share a line.
-- @tparam integer n CPUs (2 to 4096)
-- @tparam integer samples samples per pair
-- @treturn table array of `{sample, round, a, b, line, offset}`, all counted
--   from 0 (`a` < `b` are positions in the CPU list, `offset` is bytes)
M.c2c_lines = core.c2c_lines

--- The c2c schedule for n CPUs: rounds of disjoint pairs `{a, b}` of
-- 0-based positions in the CPU list.
-- @tparam integer n
-- @treturn table
M.c2c_schedule = core.c2c_schedule

return M
