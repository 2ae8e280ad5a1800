--- Latency under load, as MLC's loaded-latency curve (`lnuma.bench.loaded_latency`).
-- @module lnuma.bench.loaded

local core = require "lnuma.core"
local U = require "lnuma.bench.util"
local O = require "lnuma.options"
local LLC = require "lnuma.llc"


local M = {}

local LOADED_KEYS = { size = true, traffic_size = true, cpus = true, threads = true,
                      node = true, traffic = true, delays = true, step_time = true,
                      repetitions = true, max_spread = true, pattern = true, huge = true,
                      isa = true, seed = true, progress = true }

-- Delays (ns) of the default curve, shortest (most load) first.
local DEFAULT_DELAYS = { 0, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000 }

local LINE = 64         -- bytes one chase load brings in (the chase's slot)
local OFF_CPU = 0.05    -- a thread off its CPU for more of a step than this is reported

-- The traffic types the core offers, by name, in its order.
local function traffic_types()
  local byname, names = {}, {}
  for i, t in ipairs(core.kernel_info().traffic) do
    byname[t.name], names[i] = t, t.name
  end
  return byname, names
end

-- What "GB/s" counts for a traffic type, in words, and how much memory
-- really moves per counted byte (write-allocate reads are not counted).
local function traffic_info(t)
  local counted = t.reads + t.writes
  local memory = counted + (t.write_allocate and t.writes or 0)
  local parts = {}
  if t.reads > 0 then
    parts[#parts + 1] = ("%d read%s"):format(t.reads, t.reads > 1 and "s" or "")
  end
  if t.writes > 0 then parts[#parts + 1] = ("%d write"):format(t.writes) end
  return {
    name = t.name, arrays = t.arrays, reads = t.reads, writes = t.writes,
    write_allocate = t.write_allocate, nontemporal = t.nontemporal,
    counting = ("bytes loaded and stored by the program: %s per byte streamed%s"):format(
      table.concat(parts, " and "), t.write_allocate and "; memory also reads each written "
      .. "line first (write-allocate), not counted" or ""),
    memory_bytes_per_counted_byte = memory / counted,
  }
end

-- delays: integers >= 0 (ns), each once, each below the step time; sorted.
local function opt_delays(f, o, step_time)
  local v = o.delays
  if v == nil then v = DEFAULT_DELAYS end
  if type(v) ~= "table" or #v == 0 then
    O.argerror(f, "delays", "a non-empty array of ns expected, got " .. type(v), 3)
  end
  local out, seen = {}, {}
  for i, d in ipairs(v) do
    if type(d) ~= "number" then
      O.argerror(f, "delays", ("element %d is %s, not a number of ns"):format(i, type(d)), 3)
    elseif math.type(d) ~= "integer" then
      O.argerror(f, "delays", ("element %d (%s) is not an integer number of ns")
        :format(i, tostring(d)), 3)
    elseif d < 0 then
      O.argerror(f, "delays", ("element %d (%d) is negative"):format(i, d), 3)
    elseif d >= step_time then
      O.argerror(f, "delays", ("element %d (%d ns) is not below step_time (%d ns)")
        :format(i, d, step_time), 3)
    elseif seen[d] then
      O.argerror(f, "delays", ("%d ns is named twice"):format(d), 3)
    end
    seen[d], out[i] = true, d
  end
  table.sort(out)
  return out
end

local function opt_spread(f, o)
  local v = o.max_spread
  if v == nil then return 0.10 end
  if type(v) ~= "number" or v ~= v or v < 0 then
    O.argerror(f, "max_spread", "a fraction >= 0 expected (0.1 is 10%), got " .. tostring(v), 3)
  end
  return v
end

-- A seeded generator (64-bit LCG) that leaves math.random's state alone.
local function rng(seed)
  local x = seed
  return function(n)
    x = x * 6364136223846793005 + 1442695040888963407
    return (x >> 33) % n + 1
  end
end

-- The steps to run: a warm-up step (discarded), then `reps` sweeps over the
-- points, each sweep in its own shuffled order so that drift and neighbours
-- fall on every delay alike.  Returns the delays and the point of each step.
local function plan(points, delays, reps, rand)
  local order = { points[1] }
  for _ = 1, reps do
    local sweep = {}
    for i, p in ipairs(points) do sweep[i] = p end
    for i = #sweep, 2, -1 do
      local j = rand(i)
      sweep[i], sweep[j] = sweep[j], sweep[i]
    end
    for _, p in ipairs(sweep) do order[#order + 1] = p end
  end
  local ns = {}
  for i, p in ipairs(order) do ns[i] = delays[p] end
  return ns, order
end

-- Runs the planned steps; adds each step's figures to reps[point].
local function run_steps(p, chase, traffic, points, reps, rand)
  local delays, order = plan(points, p.delays, p.repetitions, rand)
  local raw, msg, code = core.bench_loaded(chase, traffic, {
    cpus = p.cpus, traffic = p.traffic, isa = p.isa, delays = delays,
    step_time = p.step_time, pattern = p.pattern, seed = p.seed,
  })
  if not raw then return nil, msg, code end
  for k = 2, #raw.steps do -- step 1 is the warm-up
    local s, i = raw.steps[k], order[k]
    -- A repetition's latency is the median of its chunks, as lnuma.bench.latency
    -- has it: a chunk during which the chaser lost its CPU does not move it.
    -- The mean (all loads over the step, MLC's figure) is kept beside it.
    reps[i][#reps[i] + 1] = {
      latency_ns = s.chunk_p50_ns, mean_ns = s.latency_ns, gbps = s.traffic_gbps,
      -- No chunk in the window: nothing was paused, nothing achieved.
      delay_achieved_ns = s.traffic_chunks > 0 and s.delay_p50_ns or nil,
      delay_mean_ns = s.traffic_chunks > 0 and s.delay_total_ns / s.traffic_chunks or nil,
      chunk_p99_ns = s.chunk_p99_ns,
      chase_gbps = s.chase_ns > 0 and s.chase_loads * LINE / s.chase_ns or 0,
      chase_off_cpu = s.chase_ns > 0 and s.chase_offcpu_ns / s.chase_ns or 0,
      traffic_off_cpu = s.traffic_ns > 0 and s.traffic_offcpu_ns / s.traffic_ns or 0,
    }
  end
  return raw
end

-- Statistics of one figure over the repetitions (those that have it).
local function median_of(list, key)
  local v = {}
  for _, x in ipairs(list) do v[#v + 1] = x[key] end
  return U.stats(v), v
end

local function whole(x) return x and math.tointeger(x) or x end

-- One point of the curve from its repetitions.
local function point(delay, reps)
  local lat = median_of(reps, "latency_ns")
  local bw = median_of(reps, "gbps")
  return {
    delay_ns = delay, delay_achieved_ns = whole(median_of(reps, "delay_achieved_ns").median),
    delay_mean_ns = median_of(reps, "delay_mean_ns").median,
    latency_ns = lat.median, spread = lat.spread, gbps = bw.median, gbps_spread = bw.spread,
    chase_gbps = median_of(reps, "chase_gbps").median,
    mean_ns = median_of(reps, "mean_ns").median,
    chunk_p99_ns = median_of(reps, "chunk_p99_ns").median,
    stats = lat, gbps_stats = bw, repetitions = reps,
  }
end

-- Warnings the curve as a whole deserves: load that does not fall as the
-- delay grows, unstable points, threads that lost their CPU, pauses longer
-- than asked.
local function check_curve(r)
  r.monotonic = true
  for i = 2, #r.points do
    local a, b = r.points[i - 1], r.points[i]
    if b.gbps_stats.min > a.gbps_stats.max then
      r.monotonic = false
      U.warn(r, "offered load is not monotonic: %.3g GB/s at delay %d ns is above %.3g GB/s "
           .. "at the shorter delay %d ns, beyond the spread of both", b.gbps, b.delay_ns,
           a.gbps, a.delay_ns)
    end
  end
  local steps, off, idle, worst = 0, 0, 0, { share = 0 }
  for _, pt in ipairs(r.points) do
    if pt.unstable then
      U.warn(r, "delay %d ns: latency spread %.0f%% over %d repetitions is above %.0f%% even "
           .. "after measuring again: the figure is not stable", pt.delay_ns, pt.spread * 100,
           #pt.repetitions, r.max_spread * 100)
    end
    for _, rep in ipairs(pt.repetitions) do
      steps = steps + 1
      if rep.gbps == 0 then idle = idle + 1 end
      local share = math.max(rep.chase_off_cpu, rep.traffic_off_cpu)
      if share > OFF_CPU then off = off + 1 end
      if share > worst.share then
        local who = rep.chase_off_cpu >= rep.traffic_off_cpu and "the chaser"
          or "a traffic thread"
        worst = { share = share, delay = pt.delay_ns, who = who }
      end
    end
    local achieved = pt.delay_achieved_ns
    if pt.delay_ns > 0 and achieved and achieved > 1.5 * pt.delay_ns + 100 then
      U.warn(r, "delay %d ns: the median pause achieved was %.0f ns per chunk (reading the clock "
           .. "costs %s ns)", pt.delay_ns, pt.delay_achieved_ns, tostring(r.clock.overhead_ns))
    end
  end
  if idle > 0 then
    U.doubt(r, "traffic_idle", "in %d of %d steps the traffic threads moved nothing while the "
         .. "chaser measured (they did not get a CPU): those steps measured no load", idle, steps)
  end
  if off > 0 then
    U.doubt(r, "thread_off_cpu", "in %d of %d steps a thread was off its CPU for more than %d%% "
         .. "of the step (another program ran there; worst: %s, %.0f%% at delay %d ns)", off, steps,
         OFF_CPU * 100, worst.who, worst.share * 100, worst.delay)
  end
end

-- Warnings about the CPUs: threads sharing one take turns.
local function check_cpus(r, cpus)
  local count = {}
  for _, c in ipairs(cpus) do count[c] = (count[c] or 0) + 1 end
  for c, n in pairs(count) do
    if n > 1 then
      U.doubt(r, "cpu_shared", "CPU %d runs %d of the threads: they take turns, and the curve "
           .. "is not what separate CPUs give", c, n)
    end
  end
end

local function params(f, topo, o)
  local p = {
    size = O.opt_size(f, o, "size"),
    traffic_size = O.opt_size(f, o, "traffic_size", U.default_bandwidth_size(topo)),
    isa = O.opt_choice(f, o, "isa", "auto", U.ISAS),
    pattern = O.opt_choice(f, o, "pattern", "random", { "random", "uniform", "sequential" }),
    huge = O.opt_huge(f, o),
    step_time = O.opt_int(f, o, "step_time", 50000000, 1000000, 60000000000),
    repetitions = O.opt_int(f, o, "repetitions", 3, 1, 1000),
    max_spread = opt_spread(f, o),
    seed = O.opt_int(f, o, "seed", 1),
  }
  local byname, names = traffic_types()
  p.traffic = O.opt_choice(f, o, "traffic", "read", names)
  p.delays = opt_delays(f, o, p.step_time)
  if o.node ~= nil then p.node = U.check_node(f, topo, "node", o.node) end
  local cpus = O.opt_cpus(f, topo, o, "cpus")
  local threads = O.opt_int(f, o, "threads", nil, 2, 4096)
  if not cpus then
    local pool = p.node and U.allowed_cpus_of(topo, p.node) or {}
    if #pool < 2 then pool = topo.allowed.cpus end
    cpus = {}
    for i = 1, threads or #pool do cpus[i] = pool[(i - 1) % #pool + 1] end
  end
  if #cpus < 2 then O.argerror(f, "cpus", "a chaser and at least one traffic thread: 2 CPUs", 3) end
  p.cpus, p.threads = cpus, #cpus
  p.node = p.node or U.cpu_node(topo, cpus[1])
  p.size = p.size or LLC.latency_size(topo, cpus[1])
  return p, byname[p.traffic]
end

--- Latency under load (MLC's loaded-latency curve): one thread chases
-- pointers while the others stream memory, pausing a set time after every
-- 4 KiB chunk; a longer pause offers less load.  Each delay is one point,
-- measured `repetitions` times in shuffled sweeps (after a discarded warm-up
-- step); a point whose latency spread is above `max_spread` is measured
-- again once, and flagged `unstable` if it still is.
-- @tparam table opts `cpus` (the first chases; default: the allowed CPUs of
--   the node) or `threads`, `node` (memory node of both buffers), `size`
--   (chase; default `lnuma.llc.latency_size`: 4 times the last-level cache
--   the chaser sees, at least 256M), `traffic_size` (all traffic threads;
--   default as `bandwidth`'s: 4 times the last-level caches, at least 1G), `traffic`
--   ("read" (default), "rw2:1" (a += b: 2 reads per write), "rw1:1" (a += 1),
--   "write", "write_nt" (non-temporal stores), "copy"), `delays` (integer ns;
--   default 0, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000),
--   `step_time` (ns per step, 50 ms), `repetitions` (3), `max_spread`
--   (0.10), `pattern` ("random"), `huge`, `isa` (of the traffic), `seed`
--   (order of the steps and the chase)
-- @treturn table result with `points` sorted by delay, so the offered load
--   falls along the curve (`{delay_ns, delay_achieved_ns, delay_mean_ns,
--   latency_ns, spread, mean_ns, gbps, gbps_spread, chase_gbps, chunk_p99_ns,
--   stats, gbps_stats, repetitions, remeasured, first_latencies, unstable}`),
--   `monotonic`, `traffic_info` (how bytes are counted), `chunk_bytes`,
--   `isa`, `placement` (of the chase), `traffic_placement`, `llc` and
--   `scope` (the chase's, as `latency`'s), `traffic_llc` and `traffic_scope`
--   (the traffic's, as `bandwidth`'s), `cpus_ran`, `clock`, `units`, `warnings`
-- @return[2] nil when memory or pinning is refused
-- @treturn[2] string message
-- @treturn[2] integer errno
function M.loaded_latency(opts)
  local f = "loaded_latency"
  local o = O.check_opts(f, opts, LOADED_KEYS)
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local p, tinfo = params(f, topo, o)
  local r = U.new_result(f, p, {
    delay_ns = "ns each traffic thread pauses after each chunk (asked)",
    delay_achieved_ns = "ns paused per chunk, measured: the median pause (median of the "
      .. "repetitions)",
    delay_mean_ns = "ns paused per chunk on average, time off the CPU included (median of "
      .. "the repetitions)",
    latency_ns = "ns per load: the median of the step's chunks of 1024 loads (median of the "
      .. "repetitions)",
    mean_ns = "ns per load: chase time over loads in the step, time off the CPU included "
      .. "(MLC's figure; median of the repetitions)",
    spread = "(max - min) / median of the repetitions' latency_ns",
    gbps = "GB/s (1e9 bytes/s) of the traffic threads, counted as traffic_info.counting "
      .. "says (median of the repetitions)",
    gbps_spread = "(max - min) / median of the repetitions' gbps",
    chase_gbps = "GB/s of the chaser (64 bytes per load; MLC adds it to its bandwidth)",
    chunk_p99_ns = "ns per load: the 99th percentile of the step's chunks of 1024 loads "
      .. "(median of the repetitions)",
    size = "bytes", traffic_size = "bytes", step_time = "ns", chunk_bytes = "bytes",
    llc = "bytes", traffic_llc = "bytes",
    max_spread = "fraction of the median",
    chase_off_cpu = "fraction of the step the chaser was not running (repetitions)",
    traffic_off_cpu = "fraction of its window the traffic thread most off its CPU was not "
      .. "running (repetitions)",
  })
  for k, v in pairs(p) do r[k] = v end
  r.traffic_info = traffic_info(tinfo)
  check_cpus(r, p.cpus)
  -- Memory's latency and traffic only beyond the caches (lnuma.llc).
  local traffic_cpus = table.move(p.cpus, 2, #p.cpus, 1, {})
  r.llc, r.traffic_llc = LLC.of(topo, { p.cpus[1] }).one, LLC.of(topo, traffic_cpus).all
  r.scope = LLC.scope(p.size, r.llc)
  r.traffic_scope = LLC.scope(p.traffic_size, r.traffic_llc)
  local chase, amsg, acode = U.alloc(p.size, p.node, p.huge)
  if not chase then return nil, amsg, acode end
  local traffic
  traffic, amsg, acode = U.alloc(p.traffic_size, p.node, p.huge)
  if not traffic then
    chase:free()
    return nil, amsg, acode
  end
  local show = U.progress_fn(o.progress, "loaded latency")
  local rand = rng(p.seed)
  local all, reps = {}, {}
  for i = 1, #p.delays do all[i], reps[i] = i, {} end
  show(1, 2, ("%d steps of %d ms"):format(#p.delays * p.repetitions + 1, p.step_time // 1000000))
  local raw, rmsg, rcode = run_steps(p, chase, traffic, all, reps, rand)
  local again, first = {}, {}
  if raw then
    r.isa, r.chunk_bytes, r.slots = raw.isa, raw.chunk_bytes, raw.slots
    r.cpus_ran = U.check_pinning(r, raw.threads)
    for i in ipairs(p.delays) do
      if median_of(reps[i], "latency_ns").spread > p.max_spread then again[#again + 1] = i end
    end
  end
  if raw and #again > 0 then
    show(2, 2, ("measuring %d unstable point%s again"):format(#again, #again == 1 and "" or "s"))
    for _, i in ipairs(again) do first[i], reps[i] = reps[i], {} end
    local raw2
    raw2, rmsg, rcode = run_steps(p, chase, traffic, again, reps, rand)
    if raw2 then U.check_pinning(r, raw2.threads) end
    raw = raw2 and raw
  end
  show()
  if raw then
    r.points = {}
    for i, d in ipairs(p.delays) do
      local pt = point(d, reps[i])
      if first[i] then
        pt.remeasured = true
        pt.first_latencies = select(2, median_of(first[i], "latency_ns"))
        pt.unstable = pt.spread > p.max_spread
      end
      r.points[i] = pt
    end
    check_curve(r)
    r.placement = U.placement(r, chase, { { offset = 0, length = p.size, node = p.node } })
    r.traffic_placement = U.placement(r, traffic,
      { { offset = 0, length = p.traffic_size, node = p.node } })
    if p.traffic == "write_nt" and r.isa == "c" then
      U.warn(r, "isa c has no non-temporal stores: write_nt ran with normal stores")
    end
  end
  chase:free()
  traffic:free()
  if not raw then return nil, rmsg, rcode end
  U.numa_balancing_warning(r, topo)
  return r
end

return M
