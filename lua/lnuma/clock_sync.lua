--- How far the clock can be trusted across CPUs and over time: the offsets
-- between the CPUs' counters (`skew`), the clock's rate against
-- `CLOCK_MONOTONIC_RAW` (`drift`), and background recalibration for long
-- runs (`recalibrate`).  `lnuma.clock` re-exports these; the raw
-- measurements are `lnuma.core.clock.skew` and `.drift` (csrc/core/clock_skew.c,
-- csrc/core/clock_drift.c).
-- @module lnuma.clock_sync

local core = require "lnuma.core"
local U = require "lnuma.bench.util"
local O = require "lnuma.options"

local C = core.clock
local M = {}

local MAX_CPUS = 256 -- LNUMA_SKEW_MAX_CPUS
local abs, max = math.abs, math.max

-- The midpoint and half-width of [lo, hi]; a pair whose bounds disagree
-- (lo > hi) gets the disagreement as its half-width.
local function mid(lo, hi) return (lo + hi) / 2, abs(hi - lo) / 2, lo <= hi end

local function matrix(n, fn)
  local m = {}
  for a = 1, n do
    m[a] = {}
    for b = 1, n do m[a][b] = fn(a, b) end
  end
  return m
end

-- A time in ns: an integer, or a float with an integral value (`10e9`),
-- within [lo, hi]; what names the range in the error.
local function opt_ns(fname, o, key, default, lo, hi, what)
  local v = o[key]
  if v == nil then return default end
  if type(v) ~= "number" then
    O.argerror(fname, key, "integer ns expected, got " .. type(v), 3)
  end
  local i = math.tointeger(v)
  if v ~= v then O.argerror(fname, key, "integer ns expected, got nan", 3) end
  if (i or v) < lo or (i or v) > hi then
    O.argerror(fname, key, ("must be between %d and %d ns (%s), got %s"):format(lo, hi, what,
               i or ("%g"):format(v)), 3)
  end
  if not i then O.argerror(fname, key, ("integer ns expected, got %.17g"):format(v), 3) end
  return i
end

-- cpus as opt_cpus read them (nil: absent), checked for skew.
local function skew_cpus(topo, cpus)
  local capped = false
  if not cpus then
    cpus = {}
    for i, c in ipairs(topo.allowed.cpus) do
      if i <= MAX_CPUS then cpus[i] = c else capped = true end
    end
    if #cpus < 2 then
      return nil, "skew needs two CPUs; this process may use only one", 22
    end
  end
  if #cpus < 2 then O.argerror("skew", "cpus", "at least two CPUs", 3) end
  if #cpus > MAX_CPUS then
    O.argerror("skew", "cpus", ("at most %d CPUs (every ordered pair is measured), got %d")
      :format(MAX_CPUS, #cpus), 3)
  end
  local seen = {}
  for _, c in ipairs(cpus) do
    if seen[c] then O.argerror("skew", "cpus", ("CPU %d is listed twice"):format(c), 3) end
    seen[c] = true
  end
  return cpus, capped
end

-- The result's per-pair entries: both directions' bounds intersected.
local function skew_pairs(raw, n, ns)
  local out = {}
  for a = 1, n do
    for b = a + 1, n do
      local lo = max(raw.lo_ticks[a][b], -raw.hi_ticks[b][a])
      local hi = math.min(raw.hi_ticks[a][b], -raw.lo_ticks[b][a])
      local off, half, ok = mid(lo, hi)
      out[#out + 1] = {
        a = raw.cpus[a], b = raw.cpus[b], offset_ticks = off, uncertainty_ticks = half,
        offset_ns = off * ns, uncertainty_ns = half * ns, consistent = ok,
        rtt_ns = math.min(raw.rtt_ticks[a][b], raw.rtt_ticks[b][a]) * ns,
      }
    end
  end
  return out
end

--- Offsets between the CPUs' counters, with their uncertainty.  For every
-- ordered pair (a, b), two pinned threads bounce one cache line: a reads
-- its counter t1 and writes, b reads t2 and answers, a reads t3.  Since t2
-- was read between t1 and t3, counter(b) - counter(a) lies in
-- [t2 - t3, t2 - t1]; the tightest bounds over `tries` round trips give
-- the estimate (the midpoint) and its uncertainty (half the width, which
-- the round trip bounds).  Disjoint pairs run at the same time.
-- @tparam[opt] table opts `cpus` (array or cpulist, 2 to 256, each once;
--   default: every allowed CPU, at most 256), `tries` (round trips per
--   ordered pair, 1 to 100000; default 1000)
-- @treturn table result: `cpus` (rows and columns), `offset_ns[a][b]` and
--   `offset_ticks` (counter of column b minus counter of row a, measured
--   with row a starting the round trips; 0 on the diagonal), `uncertainty_ns`
--   and `uncertainty_ticks` (half-widths, >= 0), `rtt_ns` and
--   `rtt_median_ns` (fastest and median round trip), `consistent[a][b]`
--   (false where the bounds crossed: the counters moved apart meanwhile),
--   `pairs` (each unordered pair with both directions' bounds intersected:
--   `{a, b, offset_ns, uncertainty_ns, offset_ticks, uncertainty_ticks,
--   consistent, rtt_ns}`), `max_abs_offset_ns`, `max_uncertainty_ns`,
--   `rtt_stats` (over the ordered pairs' median round trips, ns),
--   `parameters`, `units`, `clock`, `cpus_ran`, `placement`, `warnings`
-- @return[2] nil when a CPU cannot be pinned, or this process may use one CPU
-- @treturn[2] string message
-- @treturn[2] integer errno
-- @usage local s = lnuma.clock.skew { cpus = "0-3", tries = 200 }
-- print(s.offset_ns[1][2], "+-", s.uncertainty_ns[1][2])
function M.skew(opts)
  local o = O.check_opts("skew", opts, { cpus = true, tries = true })
  local tries = O.opt_int("skew", o, "tries", 1000, 1, 100000)
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local cpus, capped, ccode = skew_cpus(topo, O.opt_cpus("skew", topo, o, "cpus"))
  if not cpus then return nil, capped, ccode end
  local raw, rmsg, rcode = C.skew { cpus = cpus, tries = tries }
  if not raw then return nil, rmsg, rcode end
  local r = U.new_result("clock.skew", { cpus = raw.cpus, tries = tries }, {
    offset_ns = "ns, counter(column) - counter(row)", uncertainty_ns = "ns, half-width",
    offset_ticks = "counter ticks", uncertainty_ticks = "counter ticks",
    rtt_ns = "ns per round trip", rtt_median_ns = "ns per round trip", tries = "round trips",
  })
  local n, ns = #raw.cpus, 1e9 / r.clock.hz
  r.cpus = raw.cpus
  r.offset_ticks, r.uncertainty_ticks, r.consistent = {}, {}, {}
  for a = 1, n do
    r.offset_ticks[a], r.uncertainty_ticks[a], r.consistent[a] = {}, {}, {}
    for b = 1, n do
      r.offset_ticks[a][b], r.uncertainty_ticks[a][b], r.consistent[a][b] =
        mid(raw.lo_ticks[a][b], raw.hi_ticks[a][b])
    end
  end
  r.offset_ns = matrix(n, function(a, b) return r.offset_ticks[a][b] * ns end)
  r.uncertainty_ns = matrix(n, function(a, b) return r.uncertainty_ticks[a][b] * ns end)
  r.rtt_ns = matrix(n, function(a, b) return raw.rtt_ticks[a][b] * ns end)
  r.rtt_median_ns = matrix(n, function(a, b) return raw.rtt_median_ticks[a][b] * ns end)
  r.pairs = skew_pairs(raw, n, ns)
  r.max_abs_offset_ns, r.max_uncertainty_ns = 0, 0
  local medians = {}
  for a = 1, n do
    for b = 1, n do
      if a ~= b then
        r.max_abs_offset_ns = max(r.max_abs_offset_ns, abs(r.offset_ns[a][b]))
        r.max_uncertainty_ns = max(r.max_uncertainty_ns, r.uncertainty_ns[a][b])
        medians[#medians + 1] = r.rtt_median_ns[a][b]
      end
    end
  end
  r.rtt_stats = U.stats(medians)
  r.repetitions = tries
  r.cpus_ran = U.check_pinning(r, raw.threads)
  r.placement = { threads = raw.threads, line = "process heap, first touched by the caller" }
  if capped then
    U.warn(r, "this process may use %d CPUs; the first %d were measured",
           #topo.allowed.cpus, MAX_CPUS)
  end
  for _, p in ipairs(r.pairs) do
    if not p.consistent then
      U.warn(r, "CPUs %d and %d: the bounds crossed by %.0f ns (the counters moved apart "
             .. "while measured, or are not monotonic across CPUs)", p.a, p.b, 2 * p.uncertainty_ns)
    end
  end
  if r.clock.source == "monotonic_raw" then
    U.warn(r, "the clock is CLOCK_MONOTONIC_RAW (the TSC is not used): one kernel clock "
           .. "for every CPU, so the offsets measure only the method's noise")
  end
  return r
end

--- How the clock moves against `CLOCK_MONOTONIC_RAW`, and when to
-- recalibrate.  Reads `now() - CLOCK_MONOTONIC_RAW` `samples` times spread
-- over `duration` (sleeping in between) and fits a line.
-- @tparam[opt] table opts `duration` (ns, 1 ms to 1 h; default 1 s),
--   `samples` (2 to 100000, at most one per 100 us; default 21),
--   `threshold` (ns of error you tolerate; default 1000)
-- @treturn table result: `drift_ppm` and `uncertainty_ppm` (two standard
--   errors of the slope plus the end readings' uncertainty), `error_ns`
--   (now() - CLOCK_MONOTONIC_RAW at the end) and `error_uncertainty_ns`,
--   `residual_ns` (rms of the fit), `recalibrate_after_ns` (from the end,
--   the time until the error may exceed `threshold` at |drift| +
--   uncertainty; 0 when it already does; nil when it never will),
--   `duration_ns`, `samples`, `threshold_ns`, `parameters`, `units`,
--   `clock`, `cpus_ran`, `placement`, `warnings`
-- @usage local d = lnuma.clock.drift { duration = 2e9, threshold = 1000 }
-- print(d.drift_ppm, d.recalibrate_after_ns)
function M.drift(opts)
  local o = O.check_opts("drift", opts, { duration = true, samples = true, threshold = true })
  local p = {
    duration = opt_ns("drift", o, "duration", 1000000000, 1000000, 3600000000000, "1 ms .. 1 h"),
    threshold = opt_ns("drift", o, "threshold", 1000, 1, math.maxinteger, "positive"),
  }
  local most = math.min(p.duration // 100000 + 1, 100000)
  p.samples = O.opt_int("drift", o, "samples", math.min(21, most), 2, most)
  local cpu = core.current()
  local raw, msg, code = C.drift(p)
  if not raw then return nil, msg, code end
  local r = U.new_result("clock.drift", p, {
    drift_ppm = "ppm (10^-6) of now() against CLOCK_MONOTONIC_RAW", error_ns = "ns",
    recalibrate_after_ns = "ns", residual_ns = "ns", duration = "ns", threshold = "ns",
  })
  for k, v in pairs(raw) do r[k] = v end
  r.repetitions = raw.samples
  r.cpus_ran = { cpu }
  r.placement = { thread = "the calling thread, not pinned" }
  if r.clock.source == "monotonic_raw" then
    U.warn(r, "the clock is CLOCK_MONOTONIC_RAW itself: it cannot drift from it")
  elseif r.recalibrate_after_ns == 0 then
    U.warn(r, "the clock is already %d ns off CLOCK_MONOTONIC_RAW (threshold %d ns): "
           .. "recalibrate", r.error_ns, p.threshold)
  end
  return r
end

--- Keeps the clock in step with `CLOCK_MONOTONIC_RAW` from a background
-- thread, for long runs: every `every` ns it measures the counter's rate
-- since its last visit and publishes a conversion that is continuous (now()
-- never jumps back) and brings now() back onto `CLOCK_MONOTONIC_RAW` by the
-- next visit (a slew of at most 500 ppm; an error above 1 ms, as after a
-- suspend, is stepped).  `now()` stays as cheap: it reads the conversion
-- under a sequence lock.  The clock is the process's (every Lua state reads
-- it); the thread belongs to this state and stops when it is closed.
-- @function recalibrate
-- @tparam table opts `every` (ns, 10 ms to 1 day, e.g. `10e9` for 10 s),
--   or `stop = true`
-- @treturn table|nil the status (`every_ns`, `count`, `steps`,
--   `last_at_ns`, `last_error_ns`, `last_drift_ppm`); after a stop, the last
--   status (nil when none ran)
-- @usage lnuma.clock.recalibrate { every = 10e9 }  -- 10 s
-- ... long run ...
-- lnuma.clock.recalibrate { stop = true }
function M.recalibrate(opts)
  local o = O.check_opts("recalibrate", opts, { every = true, stop = true })
  if o.stop ~= nil and o.stop ~= true then
    O.argerror("recalibrate", "stop", "true expected, got " .. tostring(o.stop))
  end
  if o.stop and o.every ~= nil then
    O.argerror("recalibrate", "stop", "give either every or stop, not both")
  end
  if o.stop then return C.recalibrate { stop = true } end
  if o.every == nil then O.argerror("recalibrate", "every", "required (ns between visits)") end
  return C.recalibrate { every = opt_ns("recalibrate", o, "every", nil, 10000000,
                                        86400000000000, "10 ms .. 1 day") }
end

--- The status of this state's background recalibration (see `recalibrate`).
-- @function recalibration
-- @treturn table|nil `every_ns`, `count`, `steps`, `last_at_ns`,
--   `last_error_ns`, `last_drift_ppm`; nil when none runs
M.recalibration = C.recalibration

return M
