--- The measuring half of `lnuma survey`: what a quick and a full survey
-- measure (sizes from the last-level cache, so that memory is measured, not
-- cache), the parts in order, and the re-measuring of every figure whose
-- spread is above `BOUND`.  The command (lnuma.cli.survey) prints and writes
-- what this returns.
-- @module lnuma.survey

local LLC = require "lnuma.llc"

local M = {}

local MIB, GIB = 1024 * 1024, 1024 * 1024 * 1024
local max = math.max

--- The parts of a survey, in order (keys of the survey result).
M.PARTS = { "latency_curve", "latency_matrix", "bandwidth_matrix", "peak_bandwidth",
            "loaded_latency", "c2c" }

--- A figure whose spread ((max - min) / median of its repetitions) is above
-- this is measured once more; above it again, it is flagged unstable.
M.BOUND = 0.10

--- Bandwidth and latency buffers are at least this many times the last-level
-- cache, so that they measure memory.
M.LLC_MULTIPLE = LLC.MULTIPLE

local function pow2_at_least(n, floor)
  local s = floor or MIB
  while s < n do s = s * 2 end
  return s
end

--- What to do with a figure, given the spreads it has been measured with so
-- far (the first measurement, then the re-measurement if there was one).
-- @tparam table spreads array of 1 or 2 spreads (fractions of the median)
-- @tparam[opt] number bound default `BOUND`
-- @treturn table `{state = "stable" | "remeasure" | "unstable", spread = the
--   last, remeasured = boolean, note = "unstable (spread 24%)" when unstable}`
function M.stability(spreads, bound)
  bound = bound or M.BOUND
  if type(spreads) ~= "table" or #spreads == 0 then
    error("bad argument #1 to 'stability' (array of spreads expected)", 2)
  end
  local last = spreads[#spreads]
  local out = { spread = last, remeasured = #spreads > 1 }
  if type(last) ~= "number" or last ~= last then
    out.state = "stable" -- nothing to judge (one repetition)
  elseif last <= bound then
    out.state = "stable"
  elseif #spreads == 1 then
    out.state = "remeasure"
  else
    out.state = "unstable"
    out.note = ("unstable (spread %.0f%%)"):format(last * 100)
  end
  return out
end

--- A ledger of re-measured figures, and the function that fills it:
-- `remeasure(figure, name, again)` measures a figure (a table with `spread`)
-- that is above the bound again with `again()`, which updates the figure and
-- returns its new spread; a figure still above is flagged (`figure.unstable =
-- "unstable (spread N%)"`) and listed in the ledger's `unstable`.
-- @tparam[opt] number bound default `BOUND`
-- @treturn table the ledger `{bound, remeasured = 0, unstable = {}}` (plain data)
-- @treturn function remeasure
function M.ledger(bound)
  local led = { bound = bound or M.BOUND, remeasured = 0, unstable = {} }
  local function remeasure(fig, name, again)
    local st = M.stability({ fig.spread }, led.bound)
    if st.state ~= "remeasure" then return end
    fig.first_spread = fig.spread
    led.remeasured = led.remeasured + 1
    local spread = again()
    st = M.stability({ fig.first_spread, spread or fig.first_spread }, led.bound)
    if st.state == "unstable" then
      fig.unstable = st.note
      led.unstable[#led.unstable + 1] = ("%s: %s"):format(name, st.note)
    end
  end
  return led, remeasure
end

--- The last-level cache of the allowed CPUs: `one` (the largest cache one
-- CPU sees) and `all` (the sum of the distinct last-level caches that serve
-- the allowed CPUs: what threads on all of them share); both nil when the
-- topology names no caches.
-- @function llc
-- @tparam table topo
-- @treturn table `{one, all, level}`
M.llc = function(topo) return LLC.of(topo) end

--- What a bandwidth figure from buffers of `size` bytes measures (every
-- bandwidth result says it too, as its `scope`).
-- @function bandwidth_scope
-- @tparam integer size bytes of all arrays together
-- @tparam[opt] integer llc the last-level cache those threads share (nil: unknown)
-- @treturn string "memory" (at least `LLC_MULTIPLE` times the cache), "cache"
--   (less: the figure is cache bandwidth) or "unknown"
M.bandwidth_scope = LLC.scope

-- Transparent huge pages where the system gives them: faster to set up
-- (fewer page faults) and no TLB misses in the latency figures.
local function thp_or_default()
  local mode = require("lnuma").bench.thp_mode()
  return mode and mode ~= "never" and "thp" or nil
end

--- Sizes and repetitions of a quick or a full survey on a machine.  Both
-- measure memory: bandwidth buffers are at least `LLC_MULTIPLE` times the
-- last-level caches of all allowed CPUs (the full survey at least
-- bench_util's default, 1 GiB), latency buffers that multiple of one CPU's
-- (the full survey at least `lnuma.llc.latency_size`, 256 MiB);
-- where the topology names no caches, the defaults (1 GiB, 256 MiB).  A quick
-- survey has fewer sizes and repetitions, never smaller buffers than that.
-- @tparam table topo
-- @tparam boolean quick
-- @treturn table settings per part, plus `llc`, `bandwidth_size`, `latency_size`, `huge`
function M.settings(topo, quick)
  local lnuma = require "lnuma"
  local llc = M.llc(topo)
  local bw = llc.all and pow2_at_least(M.LLC_MULTIPLE * llc.all) or LLC.bandwidth_size(topo)
  local lat = llc.one and pow2_at_least(M.LLC_MULTIPLE * llc.one, 16 * MIB) or 256 * MIB
  if not quick then
    bw, lat = max(bw, LLC.bandwidth_size(topo)), max(lat, LLC.latency_size(topo))
  end
  local huge = thp_or_default()
  local s = { llc = llc, bandwidth_size = bw, latency_size = lat, huge = huge, quick = quick }
  if quick then
    s.curve = { sizes = lnuma.bench.curve_sizes(nil, { sparse = true, topology = topo }),
                repetitions = 2, min_time = 2000000 }
    s.lat_matrix = { size = lat, repetitions = 2, min_time = 2000000, huge = huge }
    s.bw_matrix = { size = bw, repetitions = 2, min_time = 5000000, huge = huge }
    s.peak = { size = bw, repetitions = 2, min_time = 5000000, huge = huge }
    s.loaded = { size = lat, traffic_size = bw, delays = { 0, 1000, 20000 },
                 step_time = 10000000, repetitions = 2, huge = huge }
    s.c2c = { samples = 3, roundtrips = 100 }
    s.skew = { tries = 200 }
  else
    s.curve = { repetitions = 3, min_time = 10000000 }
    s.lat_matrix = { size = lat, repetitions = 5, min_time = 20000000, huge = huge }
    s.bw_matrix = { size = bw, repetitions = 3, min_time = 50000000, huge = huge }
    s.peak = { size = bw, repetitions = 3, min_time = 50000000, huge = huge }
    s.loaded = { size = lat, traffic_size = max(bw, GIB), step_time = 50000000, huge = huge }
    s.c2c = { roundtrips = 500 } -- the default samples, enough for each pair's p99
    s.skew = { tries = 1000 }
  end
  return s
end

local function copy(t, extra)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- Peak bandwidth: every kernel on every allowed CPU, over one buffer (set up
-- once: the threads first-touch their parts in the first kernel).
local function peak_bandwidth(lnuma, opts, remeasure)
  local r = {
    benchmark = "bandwidth_kernels", lnuma_version = lnuma._VERSION, kernels = {},
    warnings = {}, doubts = {}, provenance = lnuma.provenance(),
    units = { gbps = "GB/s (1e9 bytes/s)", size = "bytes" },
    size = opts.size, parameters = opts,
  }
  local buf, amsg, acode = lnuma.alloc(opts.size, { huge = opts.huge, populate = false })
  if not buf then return nil, amsg, acode end
  local function one(k)
    return lnuma.bench.bandwidth { kernel = k, buffer = buf, cpus = opts.cpus,
      repetitions = opts.repetitions, min_time = opts.min_time }
  end
  for _, k in ipairs(lnuma.bench.kernel_info().kernels) do
    local res, msg, code = one(k)
    if not res then
      buf:free()
      return nil, msg, code
    end
    local entry = { kernel = k, gbps = res.gbps, spread = res.stats.spread, isa = res.isa,
                    fraction = res.placement.fraction }
    remeasure(entry, k, function()
      local again = one(k)
      if again then entry.gbps, entry.spread = again.gbps, again.stats.spread end
      return again and again.stats.spread
    end)
    r.kernels[#r.kernels + 1] = entry
    r.threads, r.cpus, r.cpus_ran, r.clock = res.threads, res.cpus, res.cpus_ran, res.clock
    r.placement = res.placement
    require("lnuma.bench.util").adopt(r, res, k .. ": ")
  end
  buf:free()
  return r
end

--- Re-measures the points of a curve whose spread is above the bound, series
-- by series, reads its levels again, and flags a level whose figure rests on
-- an unstable point (`level.unstable`).
-- @tparam table curve a `latency_curve` result (changed in place)
-- @tparam table opts the options it was measured with
-- @tparam function remeasure as `ledger` returns it
function M.settle_curve(curve, opts, remeasure)
  local lnuma = require "lnuma"
  for _, s in ipairs(curve.series or {}) do
    for _, pt in ipairs(s.points) do
      remeasure(pt, ("%s, %s"):format(lnuma.report.size(pt.size), s.label), function()
        local res = lnuma.bench.latency_curve(copy(opts, { sizes = { pt.size }, huge = s.huge,
          progress = false, cpu = curve.cpu, node = curve.node }))
        local q = res and res.points[1]
        if not q then return nil end
        pt.latency_ns, pt.spread, pt.p99 = q.latency_ns, q.spread, q.p99
        return q.spread
      end)
    end
  end
  lnuma.bench.curve_annotate(curve)
  -- A level is as stable as the points its figure is the median of.
  for _, lv in ipairs(curve.levels or {}) do
    local worst
    for _, pt in ipairs(curve.points) do
      for _, size in ipairs(lv.basis or {}) do
        if pt.size == size and pt.unstable then worst = max(worst or 0, pt.spread) end
      end
    end
    if worst then lv.unstable = ("unstable (spread %.0f%%)"):format(worst * 100) end
  end
end

--- Re-measures the cells of a matrix whose spread is above the bound (their
-- values, spreads and `unstable` notes change in place).
-- @tparam table m a `matrix` result
-- @tparam table opts the options it was measured with (`repetitions`,
--   `min_time`, `huge`)
-- @tparam function remeasure as `ledger` returns it
function M.settle_matrix(m, opts, remeasure)
  local lnuma = require "lnuma"
  for _, cell in ipairs(m.cells or {}) do
    remeasure(cell, ("node %d -> node %d"):format(cell.cpu_node, cell.memory_node), function()
      local res
      if m.metric == "latency" then
        res = lnuma.bench.latency { size = m.size, node = cell.memory_node, cpu = cell.cpus[1],
          repetitions = opts.repetitions, min_time = opts.min_time, huge = opts.huge }
      else
        res = lnuma.bench.bandwidth { size = m.size, node = cell.memory_node, cpus = cell.cpus,
          repetitions = opts.repetitions, min_time = opts.min_time, huge = opts.huge,
          kernel = m.parameters and m.parameters.kernel }
      end
      if not res then return nil end
      local v = m.metric == "latency" and res.latency_ns or res.gbps
      m.values[cell.row][cell.column] = v
      cell.latency_ns = m.metric == "latency" and v or nil
      cell.gbps = m.metric ~= "latency" and v or nil
      cell.spread = res.stats.spread
      return cell.spread
    end)
  end
end

--- Runs a survey.
-- @tparam table opts `quick` (boolean), `progress` (function(text) or nil),
--   `strict` (boolean: a survey with a doubtful part fails, as a benchmark
--   with `strict = true` does: `nil, message, ECANCELED, survey`)
-- @treturn table the survey: `topology`, one result per part (`PARTS`),
--   `clock_skew` (`lnuma.clock.skew`, with two CPUs or more),
--   `settings`, `stability` (`{bound, remeasured, unstable = {names}}`),
--   `warnings`, `doubts` (the parts' doubts, `{code, message}`, messages
--   after the part's name), `provenance` (see `lnuma.provenance`)
function M.run(opts)
  local lnuma = require "lnuma"
  local say = opts.progress or function() end
  local topo, terr, tcode = lnuma.topology()
  if not topo then return nil, "topology: " .. tostring(terr), tcode end
  local set = M.settings(topo, opts.quick)
  local s = {
    benchmark = "survey", lnuma_version = lnuma._VERSION, quick = opts.quick or false,
    topology = topo, warnings = {}, doubts = {}, provenance = lnuma.provenance(),
    settings = { llc = set.llc, bandwidth_size = set.bandwidth_size,
                 latency_size = set.latency_size, huge = set.huge or false,
                 bandwidth_scope = M.bandwidth_scope(set.bandwidth_size, set.llc.all) },
    seconds = {},
  }
  if not set.llc.all then
    s.warnings[#s.warnings + 1] = ("the topology names no caches: bandwidth buffers of %s "
      .. "and latency buffers of %s are assumed to be well beyond the last-level cache")
      :format(lnuma.report.size(set.bandwidth_size), lnuma.report.size(set.latency_size))
  end
  local led, settle = M.ledger()
  s.stability = led
  local current
  local function remeasure(fig, name, again)
    settle(fig, current .. " (" .. name .. ")", again)
  end
  local function part(name, label, fn)
    say(label .. "...")
    current = name
    local t0 = lnuma.clock.now()
    local ok, res, msg = pcall(fn)
    s.seconds[name] = (lnuma.clock.now() - t0) / 1e9
    if not ok or not res then
      s.warnings[#s.warnings + 1] = ("%s failed: %s"):format(name, tostring(ok and msg or res))
      return
    end
    s[name] = res
    require("lnuma.bench.util").adopt(s, res, name .. ": ")
  end
  part("latency_curve", "latency curve", function()
    local res, msg, code = lnuma.bench.latency_curve(copy(set.curve, { progress = false }))
    if res then M.settle_curve(res, set.curve, remeasure) end
    return res, msg, code
  end)
  local function matrix_part(metric, settings)
    return function()
      local res, msg, code = lnuma.bench.matrix(copy(settings,
        { metric = metric, progress = false }))
      if res then M.settle_matrix(res, settings, remeasure) end
      return res, msg, code
    end
  end
  part("latency_matrix", "latency matrix", matrix_part("latency", set.lat_matrix))
  part("bandwidth_matrix", "bandwidth matrix", matrix_part("bandwidth", set.bw_matrix))
  part("peak_bandwidth", "peak bandwidth", function()
    return peak_bandwidth(lnuma, copy(set.peak, { cpus = topo.allowed.cpus }), remeasure)
  end)
  if #topo.allowed.cpus >= 2 then
    part("loaded_latency", "loaded latency", function()
      return lnuma.bench.loaded_latency(copy(set.loaded, { progress = false }))
    end)
    part("c2c", "core-to-core latency", function()
      return lnuma.bench.c2c(set.c2c)
    end)
    -- Not one of PARTS (it has no SVG): the survey's clock_skew field.
    part("clock_skew", "counter skew between CPUs", function()
      return lnuma.clock.skew(set.skew)
    end)
  else
    s.warnings[#s.warnings + 1] = "loaded latency and c2c need two CPUs; this process may use one"
  end
  if opts.strict then return require("lnuma.strict").check(s, "survey") end
  return s
end

return M
